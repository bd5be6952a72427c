/**
 * Long-term statistics and retention, on the history file itself with readings at chosen times: the 5-minute
 * and hourly statistics of a thermometer and of a meter, raw readings dropped after history/rawDays in steps
 * of bounded size, and what a read then gets.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Compactor, STEP_HOURS, STEP_ROWS } from '../../src/history/compaction.ts';
import { HistoryQueries } from '../../src/history/query.ts';
import { decoded, HOUR, HistoryStore } from '../../src/history/store.ts';
import { onCleanup, tempDir } from '../helpers.ts';
import { sqliteSkip } from './setup.ts';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const MIN = 60_000;
const DAY = 24 * HOUR;

async function store(): Promise<{ store: HistoryStore; compactor: Compactor; queries: HistoryQueries }> {
  const s = HistoryStore.open(join(await tempDir(), 'history.sqlite'), 0);
  onCleanup(async () => s.close());
  const compactor = new Compactor(s);
  return { store: s, compactor, queries: new HistoryQueries(s, compactor) };
}

/** Values of one series at the given times (ms), each as its own write. */
function record(s: HistoryStore, path: string, points: [number, number][]): void {
  let n = s.lastRecorded;
  s.record(
    points.map(([t, value]) => ({ n: ++n, t, readings: [{ path, value }] })),
    n,
  );
}

function stats(s: HistoryStore, table: string): Record<string, number>[] {
  const columns = ['mean', 'min', 'max', 'last', 'increase'].map((c) => `${decoded(c)} AS ${c}`).join(', ');
  return s.db.prepare(`SELECT t, n, ${columns} FROM ${table} ORDER BY t`).all() as Record<string, number>[];
}

function compactAll(compactor: Compactor, now: number): number {
  let steps = 0;
  while (compactor.step(now - 30 * DAY)) steps++;
  return steps;
}

describe('statistics', { skip: sqliteSkip }, () => {
  it('per 5 minutes and per hour: count, mean, min, max, last and the sum of increases', async () => {
    const { store: s, compactor } = await store();
    // A meter: 100, 105, 110 in the first 5 minutes, then a reset (2) and 7 in the next, 12 the next hour.
    record(s, 'sensors/meter', [
      [T0, 100],
      [T0 + MIN, 105],
      [T0 + 2 * MIN, 110],
      [T0 + 6 * MIN, 2],
      [T0 + 7 * MIN, 7],
      [T0 + HOUR + MIN, 12],
    ]);
    compactAll(compactor, T0 + 2 * HOUR);
    assert.deepEqual(stats(s, 'stats_5m'), [
      { t: T0, n: 3, mean: 105, min: 100, max: 110, last: 110, increase: 10 },
      { t: T0 + 5 * MIN, n: 2, mean: 4.5, min: 2, max: 7, last: 7, increase: 5 },
      { t: T0 + HOUR, n: 1, mean: 12, min: 12, max: 12, last: 12, increase: 5 },
    ]);
    assert.deepEqual(stats(s, 'stats_1h'), [
      { t: T0, n: 5, mean: 64.8, min: 2, max: 110, last: 7, increase: 15 },
      { t: T0 + HOUR, n: 1, mean: 12, min: 12, max: 12, last: 12, increase: 5 },
    ]);
  });

  it('computes an hour again when a reading comes later for it, and the increase of the hour after', async () => {
    const { store: s, compactor } = await store();
    const entry = (t: number, value: number) => {
      const n = s.lastRecorded + 1;
      s.record([{ n, t: T0 + 3 * HOUR, readings: [{ path: 'sensors/fit/steps', at: t, value }] }], n);
    };
    entry(T0, 10);
    entry(T0 + HOUR, 30);
    compactAll(compactor, T0 + 3 * HOUR);
    entry(T0 + 30 * MIN, 20); // between them, later
    compactAll(compactor, T0 + 3 * HOUR);
    assert.deepEqual(
      stats(s, 'stats_1h').map((r) => [r['t'], r['n'], r['mean'], r['increase']]),
      [
        [T0, 2, 15, 10],
        [T0 + HOUR, 1, 30, 10],
      ],
    );
  });
});

describe('retention', { skip: sqliteSkip }, () => {
  it('drops raw readings past rawDays in bounded steps, keeping their statistics', async () => {
    const { store: s, compactor, queries } = await store();
    // Three days of a reading every 10 s: 8,640 a day.
    const points: [number, number][] = [];
    for (let t = T0; t < T0 + 3 * DAY; t += 10_000) points.push([t, 20 + Math.sin(t / 3_600_000)]);
    record(s, 'sensors/t', points);
    const count = () => s.db.prepare('SELECT count(*) FROM readings').pluck().get() as number;
    while (compactor.step(T0 - DAY)); // statistics only: nothing is old enough yet
    assert.equal(count(), points.length);
    assert.equal(s.db.prepare('SELECT count(*) FROM stats_1h').pluck().get() as number, 72);
    // Thirty days after the second day began: the first day goes, the rest stays.
    const now = T0 + DAY + 30 * DAY;
    let steps = 0;
    let before = count();
    while (compactor.step(now - 30 * DAY)) {
      steps++;
      const gone = before - count();
      assert.ok(gone <= STEP_ROWS + 360, `a step drops at most ${STEP_ROWS} readings and the rest of their hour (${gone})`);
      before = count();
    }
    assert.equal(count(), points.length - 8640);
    assert.ok(steps >= 2, `in more than one step (${steps})`);
    const series = s.series.get('sensors/t')!;
    assert.equal(series.sealedBefore, T0 + DAY);
    // The first day is still there as statistics: a read of it gets 5-minute buckets, all 288 of them.
    const day1 = queries.read(series, { from: T0, to: T0 + DAY, points: 1000 });
    assert.equal(day1.level, '5m');
    assert.equal(day1.points.length, 288);
    assert.equal(
      day1.points.reduce((n, p) => n + (p[4] as number), 0),
      8640,
    );
  });

  it('merges a reading for an hour whose raw readings are gone into its statistics', async () => {
    const { store: s, compactor } = await store();
    const entry = (t: number, value: number) => {
      const n = s.lastRecorded + 1;
      s.record([{ n, t: T0 + 60 * DAY, readings: [{ path: 'sensors/fit/weight', at: t, value }] }], n);
    };
    entry(T0, 80);
    compactAll(compactor, T0 + 60 * DAY);
    assert.equal(s.db.prepare('SELECT count(*) FROM readings').pluck().get(), 0, 'its raw reading went');
    entry(T0 + 10 * MIN, 82);
    compactAll(compactor, T0 + 60 * DAY);
    assert.equal(s.db.prepare('SELECT count(*) FROM readings').pluck().get(), 0);
    assert.deepEqual(
      stats(s, 'stats_1h').map((r) => [r['n'], r['mean'], r['min'], r['max']]),
      [[2, 81, 80, 82]],
    );
  });

  it('compacts at most a few hours in a step', async () => {
    const { store: s, compactor } = await store();
    record(
      s,
      'sensors/t',
      Array.from({ length: 100 }, (_, i) => [T0 + i * HOUR, i]),
    );
    compactor.step(T0);
    const dirty = s.db.prepare('SELECT count(*) FROM dirty').pluck().get() as number;
    assert.equal(dirty, 100 - STEP_HOURS);
  });
});

describe('reading for a plot', { skip: sqliteSkip }, () => {
  it('takes buckets of raw readings for a short range, of 5-minute or hourly statistics for longer ones', async () => {
    const { store: s, compactor, queries } = await store();
    const points: [number, number][] = [];
    for (let t = T0; t < T0 + 2 * DAY; t += 10_000) points.push([t, (t - T0) / 10_000]);
    record(s, 'sensors/t', points);
    compactAll(compactor, T0 + 2 * DAY);
    const series = s.series.get('sensors/t')!;
    const read = (from: number, to: number, n: number) => queries.read(series, { from, to, points: n });
    const hour = read(T0, T0 + HOUR, 100);
    assert.equal(hour.level, 'raw');
    assert.equal(hour.points.length, 100);
    assert.deepEqual(hour.points[0], [T0 / 1000, 0, 1.5, 3, 4], 'the first 36 s: four readings, 0 to 3');
    const day = read(T0, T0 + DAY, 100);
    assert.equal(day.level, '5m');
    assert.ok(day.points.length <= 100);
    assert.equal(
      day.points.reduce((n, p) => n + (p[4] as number), 0),
      8640,
    );
    const both = read(T0, T0 + 2 * DAY, 20);
    assert.equal(both.level, '1h');
    assert.equal(both.points.length, 20);
    // Whole hours to a bucket: the last of 2.4 hours holds hours 46 and 47.
    assert.deepEqual(both.points[19]!.slice(1), [16560, (16560 + 17279) / 2, 17279, 720]);
  });

  it('answers text values raw, and the last of each bucket when there are more than points', async () => {
    const { store: s, queries } = await store();
    let n = 0;
    const states = ['heat', 'idle', 'heat', 'off'];
    s.record(
      states.map((value, i) => ({ n: ++n, t: T0 + i * MIN, readings: [{ path: 'devices/boiler/mode', value }] })),
      n,
    );
    const series = s.series.get('devices/boiler/mode')!;
    assert.equal(series.kind, 'text');
    assert.deepEqual(
      queries.read(series, { from: T0, to: T0 + HOUR, points: 10 }).points.map((p) => p[1]),
      states,
    );
    assert.deepEqual(
      queries.read(series, { from: T0, to: T0 + 4 * MIN, points: 2 }).points.map((p) => p[1]),
      ['idle', 'off'],
    );
  });
});
