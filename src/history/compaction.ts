/**
 * Long-term statistics and the retention of raw readings, in small steps.
 *
 * Each hour of a numeric series whose raw readings changed is `dirty`; a step computes its statistics again —
 * per 5 minutes and for the hour: count, mean, min, max, last, and the sum of the increases between
 * consecutive readings (what a meter counted; a meter's reset loses only the count up to its first reading
 * after it) — from its raw readings. Raw readings older than history/rawDays go, an hour at a time, once their
 * hour's statistics are done; the series' `sealedBefore` then says that before it only statistics are left.
 * A reading that comes later for such an hour (an entry of a plugin's series, from long ago) is merged into the
 * statistics that are there and its raw reading goes at once.
 *
 * A step does a bounded amount of work (at most STEP_HOURS hours, or STEP_ROWS raw readings deleted), so the
 * server answers between any two; `longestStepMs` says how long the longest took. What the steps write counts
 * towards the store's next checkpoint, which runs between steps when it is due.
 */
import { decoded, encoded, HOUR, VALUE, type HistoryStore, type Series } from './store.ts';

const FIVE_MINUTES = 300_000;
export const STEP_HOURS = 10;
export const STEP_ROWS = 5000;

interface Stats {
  n: number;
  mean: number;
  min: number;
  max: number;
  last: number;
  increase: number;
}

/** Statistics of values in time order, `previous` being the value just before the first. */
function statsOf(values: readonly number[], previous: number | undefined): Stats {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let increase = 0;
  let before = previous;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (before !== undefined && v > before) increase += v - before;
    before = v;
  }
  return { n: values.length, mean: sum / values.length, min, max, last: values[values.length - 1]!, increase };
}

function merged(old: Stats, add: Stats): Stats {
  const n = old.n + add.n;
  return {
    n,
    mean: (old.mean * old.n + add.mean * add.n) / n,
    min: Math.min(old.min, add.min),
    max: Math.max(old.max, add.max),
    last: add.last,
    increase: old.increase + add.increase,
  };
}

export class Compactor {
  longestStepMs = 0;
  steps = 0;
  private readonly sql;

  constructor(private readonly store: HistoryStore) {
    const db = store.db;
    const stats = (table: string) => ({
      get: db.prepare(
        `SELECT n, ${['mean', 'min', 'max', 'last', 'increase'].map((c) => `${decoded(c)} AS ${c}`).join(', ')} FROM ${table} WHERE series = ? AND t = ?`,
      ),
      put: db.prepare(`INSERT OR REPLACE INTO ${table}(series, t, n, mean, min, max, last, increase) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      clear: db.prepare(`DELETE FROM ${table} WHERE series = ? AND t >= ? AND t < ?`),
    });
    this.sql = {
      dirty: db.prepare('SELECT series, hour FROM dirty ORDER BY series, hour LIMIT ?'),
      dirtyIn: db.prepare('SELECT series, hour FROM dirty WHERE series = ? AND hour >= ? AND hour < ? ORDER BY hour'),
      dirtyBefore: db.prepare('SELECT 1 FROM dirty WHERE series = ? AND hour < ? LIMIT 1').pluck(),
      undirty: db.prepare('DELETE FROM dirty WHERE series = ? AND hour = ?'),
      raw: db.prepare(`SELECT t, ${VALUE} AS value FROM readings WHERE series = ? AND t >= ? AND t < ? ORDER BY t`),
      before: db.prepare(`SELECT ${VALUE} FROM readings WHERE series = ? AND t < ? ORDER BY t DESC LIMIT 1`).pluck(),
      lastStat: db.prepare(`SELECT ${decoded('last')} FROM stats_1h WHERE series = ? AND t < ? ORDER BY t DESC LIMIT 1`).pluck(),
      deleteRaw: db.prepare('DELETE FROM readings WHERE series = ? AND t >= ? AND t < ?'),
      deleteTexts: db.prepare('DELETE FROM texts WHERE series = ? AND t < ?'),
      nthOld: db.prepare('SELECT t FROM readings WHERE series = ? AND t < ? ORDER BY t LIMIT 1 OFFSET ?').pluck(),
      seal: db.prepare('UPDATE series SET sealed_before = ? WHERE id = ?'),
      five: stats('stats_5m'),
      hour: stats('stats_1h'),
    };
  }

  /** Brings the statistics of one hour of a series up to date. */
  private compactHour(seriesId: number, hour: number): void {
    const s = this.store.byId.get(seriesId);
    const rows = this.sql.raw.all(seriesId, hour, hour + HOUR) as { t: number; value: number }[];
    if (s && rows.length > 0) {
      const sealed = hour < s.sealedBefore;
      const previous = (this.sql.before.get(seriesId, hour) ?? this.sql.lastStat.get(seriesId, hour)) as number | undefined;
      if (!sealed) this.sql.five.clear.run(seriesId, hour, hour + HOUR);
      let before = previous;
      for (let start = hour; start < hour + HOUR; start += FIVE_MINUTES) {
        const values = rows.filter((r) => r.t >= start && r.t < start + FIVE_MINUTES).map((r) => r.value);
        if (values.length === 0) continue;
        this.put(this.sql.five, seriesId, start, statsOf(values, before), sealed);
        before = values[values.length - 1];
      }
      this.put(
        this.sql.hour,
        seriesId,
        hour,
        statsOf(
          rows.map((r) => r.value),
          previous,
        ),
        sealed,
      );
      if (sealed) this.sql.deleteRaw.run(seriesId, hour, hour + HOUR);
    } else if (s && hour >= s.sealedBefore) {
      this.sql.five.clear.run(seriesId, hour, hour + HOUR);
      this.sql.hour.clear.run(seriesId, hour, hour + HOUR);
    }
    this.sql.undirty.run(seriesId, hour);
    this.store.cleaned(seriesId, hour);
    this.store.wrote(rows.length / 4 + 14); // the statistics of the hour, and its raw readings when they go
  }

  private put(table: Compactor['sql']['five'], seriesId: number, t: number, stats: Stats, merge: boolean): void {
    const old = merge ? (table.get.get(seriesId, t) as Stats | undefined) : undefined;
    const s = old ? merged(old, stats) : stats;
    table.put.run(seriesId, t, s.n, encoded(s.mean), encoded(s.min), encoded(s.max), encoded(s.last), encoded(s.increase));
  }

  /** Brings the statistics of `series` between `from` and `to` (ms) up to date: before a read of them. */
  compactRange(series: Series, from: number, to: number): void {
    const hours = this.sql.dirtyIn.all(series.id, Math.floor(from / HOUR) * HOUR, to) as { series: number; hour: number }[];
    if (hours.length) this.timed(() => this.store.db.transaction(() => hours.forEach((d) => this.compactHour(d.series, d.hour)))());
  }

  /** Drops raw readings of one series older than `cutoff` (ms), up to STEP_ROWS, whole hours at a time. */
  private retire(s: Series, cutoff: number): void {
    const end = Math.floor(cutoff / HOUR) * HOUR;
    const nth = this.sql.nthOld.get(s.id, end, STEP_ROWS) as number | undefined;
    // At least the hour that holds the STEP_ROWS-th reading, whole: an hour's raw readings go together.
    const until = nth === undefined ? end : Math.min(end, Math.floor(nth / HOUR) * HOUR + HOUR);
    this.store.wrote(this.sql.deleteRaw.run(s.id, s.sealedBefore, until).changes);
    this.sql.deleteTexts.run(s.id, until);
    this.sql.seal.run(until, s.id);
    s.sealedBefore = until;
  }

  /**
   * One step of compaction: dirty hours first, then raw readings past `cutoff` (ms); false when there was
   * nothing left to do.
   */
  step(cutoff: number): boolean {
    const more = this.timed(() =>
      this.store.db.transaction(() => {
        const dirty = this.sql.dirty.all(STEP_HOURS) as { series: number; hour: number }[];
        if (dirty.length) {
          for (const d of dirty) this.compactHour(d.series, d.hour);
          return true;
        }
        const end = Math.floor(cutoff / HOUR) * HOUR;
        for (const s of this.store.series.values()) {
          if (s.sealedBefore >= end || this.sql.dirtyBefore.get(s.id, end)) continue;
          this.retire(s, cutoff);
          return true;
        }
        return false;
      })(),
    );
    // Its own measure (store.longestCheckpointMs): a checkpoint now and then, so the log stays short.
    this.store.checkpointIfDue();
    return more;
  }

  private timed<T>(work: () => T): T {
    const started = performance.now();
    try {
      return work();
    } finally {
      this.longestStepMs = Math.max(this.longestStepMs, performance.now() - started);
      this.steps++;
    }
  }
}
