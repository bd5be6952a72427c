/**
 * The history file: one SQLite database (better-sqlite3) beside the journal, `history.sqlite` in the database
 * directory. Raw readings are keyed by (series, time) in a WITHOUT ROWID table, so a reading costs its key and
 * value and no more (bench/history.ts); numbers and booleans in `readings`, text in `texts`. A number is kept as
 * its hundredths in an integer where that is exact (21.37 as 2137: two bytes, not a REAL's eight), else as it
 * is (encoded()); decoded() is the SQL that reads it back. Statistics are kept so too. Statistics per 5 minutes and per hour are in
 * `stats_5m` and `stats_1h` (compaction.ts), and `dirty` lists the hours whose statistics are behind their raw
 * readings.
 *
 * `meta.last_n` is the number of the last journal record recorded, written in the same transaction as its
 * readings: after a crash the file holds exactly the records up to it, and the recorder catches up from the
 * journal after it. WAL with synchronous=NORMAL: a commit does not wait for the disk (an fsync on the server's
 * one thread at every batch cost durable PUTs a third of their throughput here); the file is made durable by
 * checkpoints (checkpointIfDue(), after each batch and compaction step), and `durable` is the last record a
 * checkpoint covers.
 * A power cut may take the commits after it, and only those: the journal files after `durable` are kept, so
 * catching up brings them back. Only the server opens the file (locking_mode=EXCLUSIVE, which also spares WAL
 * its shared memory file).
 */
import Sqlite from 'better-sqlite3';
import type { Reading, Value } from './values.ts';

export type Kind = 'number' | 'boolean' | 'text';
const KINDS: Kind[] = ['number', 'boolean', 'text'];

export interface Series {
  id: number;
  /** Element names below /data joined by '/'. */
  path: string;
  kind: Kind;
  /** Time (ms) and value of its latest reading. */
  lastT: number;
  lastValue: Value;
  /** Raw readings before this time (ms, on the hour) are gone: only statistics are left of them. */
  sealedBefore: number;
}

/** A gap in the history: journal records that could not be recorded (their journal files were gone). */
export interface Gap {
  from: number;
  to: number;
  noticed: number;
}

export const HOUR = 3_600_000;
export const CHECKPOINT_ROWS = 20_000;
export const CHECKPOINT_MS = 30_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL,
  last_t INTEGER NOT NULL, last_value, sealed_before INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS readings(series INTEGER NOT NULL, t INTEGER NOT NULL, value NOT NULL,
  PRIMARY KEY(series, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS texts(series INTEGER NOT NULL, t INTEGER NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(series, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stats_5m(series INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, mean NOT NULL,
  min NOT NULL, max NOT NULL, last NOT NULL, increase NOT NULL, PRIMARY KEY(series, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stats_1h(series INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL, mean NOT NULL,
  min NOT NULL, max NOT NULL, last NOT NULL, increase NOT NULL, PRIMARY KEY(series, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dirty(series INTEGER NOT NULL, hour INTEGER NOT NULL, PRIMARY KEY(series, hour)) WITHOUT ROWID;
`;

/** The SQL that reads a number kept by encoded() in `column` (see the file comment). */
export function decoded(column: string): string {
  return `(CASE typeof(${column}) WHEN 'integer' THEN ${column} / 100.0 ELSE ${column} END)`;
}

/** The SQL of a reading's value as a number. */
export const VALUE = decoded('value');

/**
 * A number as the history keeps it (readings, and statistics too): its hundredths as an integer when that is
 * exact, else the number itself.
 */
export function encoded(v: number): number | bigint {
  const hundredths = Math.round(v * 100);
  return Number.isSafeInteger(hundredths) && hundredths / 100 === v ? BigInt(hundredths) : v;
}

export function kindOf(value: Value): Kind {
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text';
}

/** A stored value as the series' kind reads it. */
export function valueAs(kind: Kind, stored: unknown): Value {
  if (typeof stored === 'string') return stored;
  return kind === 'boolean' ? stored === 1 : (stored as number);
}

function stored(value: Value): number | string {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/** One acknowledged write: its journal number and time, and the readings it left. */
export interface RecordedWrite {
  n: number;
  t: number;
  readings: readonly Reading[];
}

export class HistoryStore {
  readonly series = new Map<string, Series>();
  readonly byId = new Map<number, Series>();
  /** Hours marked dirty and not compacted since: marked once. */
  private readonly marked = new Set<string>();
  private changed = new Set<Series>();
  private last: number;
  /** The last record on disk for certain: what the last checkpoint covered. */
  private durableUpTo = -1;
  /** Rows written since the last checkpoint. */
  private sinceCheckpoint = 0;
  /** When the last checkpoint ran (performance.now()), and the longest one took (ms). */
  private checkpointedAt = performance.now();
  longestCheckpointMs = 0;
  /** This open made the file. */
  created = false;
  private readonly statements;

  private constructor(
    readonly db: Sqlite.Database,
    readonly file: string,
  ) {
    this.statements = {
      insertSeries: db.prepare('INSERT INTO series(path, kind, last_t, last_value) VALUES (?, ?, ?, ?)'),
      updateSeries: db.prepare('UPDATE series SET kind = ?, last_t = ?, last_value = ? WHERE id = ?'),
      putNumber: db.prepare('INSERT OR REPLACE INTO readings(series, t, value) VALUES (?, ?, ?)'),
      putText: db.prepare('INSERT OR REPLACE INTO texts(series, t, value) VALUES (?, ?, ?)'),
      markDirty: db.prepare('INSERT OR IGNORE INTO dirty(series, hour) VALUES (?, ?)'),
      nextAfter: db.prepare('SELECT t FROM readings WHERE series = ? AND t > ? ORDER BY t LIMIT 1').pluck(),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    };
    for (const row of db.prepare('SELECT * FROM series').all() as Record<string, number | string>[]) {
      const kind = KINDS[row['kind'] as number] ?? 'number';
      const s: Series = {
        id: row['id'] as number,
        path: row['path'] as string,
        kind,
        lastT: row['last_t'] as number,
        lastValue: valueAs(kind, row['last_value']),
        sealedBefore: row['sealed_before'] as number,
      };
      this.series.set(s.path, s);
      this.byId.set(s.id, s);
    }
    this.last = Number(this.statements.getMeta.get('last_n') ?? -1);
  }

  /** Opens (or creates) the file; a new one records the journal records after `startAfter`. */
  static open(file: string, startAfter: number): HistoryStore {
    const db = new Sqlite(file);
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('wal_autocheckpoint = 0');
      // The file is read a series at a time, and the system keeps its pages too: a small cache is enough.
      db.pragma('cache_size = -1000');
      db.exec(SCHEMA);
      const store = new HistoryStore(db, file);
      if (store.last < 0) {
        store.statements.setMeta.run('created', Date.now());
        store.lastRecorded = startAfter;
        store.created = true;
      }
      // What a killed process left in the write-ahead log may not be on disk yet: it is once this returns.
      store.checkpoint();
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The number of the last journal record recorded (committed with its readings). */
  get lastRecorded(): number {
    return this.last;
  }

  /** The number of the last journal record whose readings are on disk for certain (checkpointed). */
  get durable(): number {
    return this.durableUpTo;
  }

  /** Gives back the memory SQLite holds and can do without (its page cache): an idle server stays small. */
  releaseMemory(): void {
    this.db.pragma('shrink_memory');
  }

  /** Notes rows written outside record() (compaction), towards the next checkpoint. */
  wrote(rows: number): void {
    this.sinceCheckpoint += rows;
  }

  /**
   * Copies the write-ahead log into the file, with an fsync of each (SQLite's checkpoint at synchronous=NORMAL):
   * every commit so far is then on disk.
   */
  checkpoint(): void {
    const started = performance.now();
    const [row] = this.db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    if (row && row.busy === 0 && row.checkpointed === row.log) {
      this.durableUpTo = this.last;
      this.sinceCheckpoint = 0;
    }
    this.checkpointedAt = performance.now();
    this.longestCheckpointMs = Math.max(this.longestCheckpointMs, this.checkpointedAt - started);
  }

  /**
   * A checkpoint (two fsyncs, on this thread) once CHECKPOINT_ROWS rows are in the write-ahead log (a few MB:
   * its copy stays short), or CHECKPOINT_MS after the last when something is not yet on disk for certain.
   */
  checkpointIfDue(): void {
    const late = this.durableUpTo < this.last && performance.now() - this.checkpointedAt >= CHECKPOINT_MS;
    if (this.sinceCheckpoint >= CHECKPOINT_ROWS || late) this.checkpoint();
  }

  set lastRecorded(n: number) {
    this.statements.setMeta.run('last_n', n);
    this.last = n;
  }

  meta(key: string): unknown {
    return this.statements.getMeta.get(key);
  }

  setMeta(key: string, value: string | number): void {
    this.statements.setMeta.run(key, value);
  }

  gaps(): Gap[] {
    return JSON.parse(String(this.meta('gaps') ?? '[]')) as Gap[];
  }

  /** Notes journal records `from`–`to` as never recorded. */
  addGap(from: number, to: number, noticed: number): void {
    this.setMeta('gaps', JSON.stringify([...this.gaps(), { from, to, noticed }]));
  }

  /** Records writes (in order of their numbers) and that every record up to `upTo` is taken, in one transaction. */
  record(writes: readonly RecordedWrite[], upTo: number): void {
    this.db.transaction(() => {
      for (const w of writes) {
        if (w.n <= this.last) continue;
        for (const r of w.readings) this.add(w.t, r);
        this.sinceCheckpoint += w.readings.length;
      }
      for (const s of this.changed) this.statements.updateSeries.run(KINDS.indexOf(s.kind), s.lastT, stored(s.lastValue), s.id);
      if (upTo > this.last) this.lastRecorded = upTo;
    })();
    this.changed.clear();
  }

  private seriesFor(path: string, value: Value, t: number): Series {
    let s = this.series.get(path);
    if (!s) {
      const kind = kindOf(value);
      const id = Number(this.statements.insertSeries.run(path, KINDS.indexOf(kind), t, stored(value)).lastInsertRowid);
      s = { id, path, kind, lastT: Number.MIN_SAFE_INTEGER, lastValue: value, sealedBefore: 0 };
      this.series.set(path, s);
      this.byId.set(id, s);
    }
    return s;
  }

  /** One reading: a value of the tree when it differs from the series' last; an entry's at its own time. */
  private add(t: number, r: Reading): void {
    const fresh = !this.series.has(r.path);
    const s = this.seriesFor(r.path, r.value, t);
    if (r.at === undefined && !fresh && s.lastValue === r.value) return;
    // Two changes in one millisecond are both kept, a millisecond apart.
    const time = r.at ?? Math.max(t, s.lastT + 1);
    if (typeof r.value === 'string') this.statements.putText.run(s.id, time, r.value);
    else {
      this.statements.putNumber.run(s.id, time, encoded(stored(r.value) as number));
      this.markDirty(s, time);
      // A reading before the latest changes the increase of the hour after it, too.
      if (time < s.lastT) {
        const next = this.statements.nextAfter.get(s.id, time) as number | undefined;
        if (next !== undefined) this.markDirty(s, next);
      }
    }
    if (time >= s.lastT) {
      s.lastT = time;
      s.lastValue = r.value;
      s.kind = kindOf(r.value);
      this.changed.add(s);
    }
  }

  markDirty(s: Series, time: number): void {
    const hour = Math.floor(time / HOUR) * HOUR;
    const key = `${s.id}:${hour}`;
    if (this.marked.has(key)) return;
    this.statements.markDirty.run(s.id, hour);
    this.marked.add(key);
  }

  /** The hour's statistics are up to date again. */
  cleaned(seriesId: number, hour: number): void {
    this.marked.delete(`${seriesId}:${hour}`);
  }

  /** Closes the file, checkpointed: everything recorded is then on disk. */
  close(): void {
    if (!this.db.open) return;
    this.checkpoint();
    this.db.close();
  }
}
