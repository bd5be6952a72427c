/**
 * The recorder: keeps the history file following the acknowledged writes, off the request path.
 *
 * A write's readings are read from its nodes as it is made (values.ts) and queued once its journal record is
 * on disk, with the record's number; a timer writes the queue to SQLite in one transaction, with the number of
 * the last record taken (store.ts). A PUT's answer never waits for any of it. Whatever the queue does not hold
 * — records from before this start, from a crash, from a time the file could not be written — is read back
 * from the journal files by number (catchup.ts). So the history holds every acknowledged change once, and
 * nothing else; the journal files it has not taken yet are kept (Database.keepJournalsFor), and records whose
 * files were gone anyway are noted as a gap.
 *
 * Lazy: better-sqlite3 (about 4.7 MB of an idle server's memory) is loaded and the file opened by start(): when
 * the server serves, if there is a history file (it may have to catch up); else at the first value to record or
 * the first read. Until then no journal file is kept for it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Database } from '../store/database.ts';
import { fsyncDir } from '../store/files.ts';
import type { ChangeEvent, JournalOp } from '../tree/tree.ts';
import type { WorkSource } from '../work.ts';
import { firstKept, recordsAfter } from './catchup.ts';
import type { Compactor } from './compaction.ts';
import type { HistoryQueries } from './query.ts';
import { settingsOf, type HistorySettings } from './settings.ts';
import type { HistoryStore } from './store.ts';
import { readingsOfEvent, readingsOfOps, recordableOps, type Reading } from './values.ts';

export const HISTORY_FILE = 'history.sqlite';
/** Writes queued before the file is open beyond which they are left to be read back from the journal. */
const MAX_QUEUED = 100_000;
/** SQLite's word for a file that is not a database, or a damaged one: trying again will not help. */
const HOPELESS = /SQLITE_(CORRUPT|NOTADB)/;

export interface HistoryOptions {
  db: Database;
  logger: Logger;
  /** The history file (default: history.sqlite in the database directory). */
  file?: string;
  /** The clock that says which raw readings are past history/rawDays (ms since 1970). */
  now?: () => number;
  /** How long readings may wait in memory before they are written (ms). */
  flushDelayMs?: number;
  /** How often statistics and retention are brought up to date (ms); 0: only by compact(). */
  compactEveryMs?: number;
  /** How long to wait before trying again when the file could not be written (ms). */
  retryMs?: number;
}

/** A change's readings, or the operations to read them from when it is written. */
type Made = Reading[] | { ops: readonly JournalOp[]; settings: HistorySettings };

/** An acknowledged write waiting to be written to the history. */
interface Queued {
  n: number;
  t: number;
  made: Made;
}

type State = 'waiting' | 'opening' | 'catching-up' | 'live' | 'behind' | 'off' | 'closed';

/** What reads of the history use. */
export interface HistoryReader {
  store: HistoryStore;
  queries: HistoryQueries;
  compactor: Compactor;
  settings: HistorySettings;
}

export class History implements WorkSource {
  readonly name = 'history';
  private settings: HistorySettings;
  private queue: Queued[] = [];
  private queued = 0;
  /** The number of the last acknowledged write seen. */
  private upTo: number;
  /** Records numbered up to this are read from the journal files; later ones come through the queue. */
  private fromJournal: number;
  /** The last write when this recorder started following: a history file past it holds writes since lost. */
  private readonly startedAt: number;
  private state: State = 'waiting';
  private problem = '';
  private store: HistoryStore | undefined;
  private parts: Omit<HistoryReader, 'store' | 'settings'> | undefined;
  private running: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private compacting: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  /** The last record taken when no file is open: what the journal files must still hold. */
  private taken = 0;
  /** There was a history file when the server started. */
  private readonly hadFile: boolean;
  private readonly options: Required<Omit<HistoryOptions, 'db' | 'logger'>>;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    options: Omit<HistoryOptions, 'db' | 'logger'> = {},
  ) {
    this.options = {
      file: join(db.dir, HISTORY_FILE),
      now: Date.now,
      flushDelayMs: 100,
      compactEveryMs: 60_000,
      retryMs: 30_000,
      ...options,
    };
    this.settings = settingsOf(db.tree);
    this.upTo = this.fromJournal = this.startedAt = db.lastWrite;
    this.hadFile = existsSync(this.options.file);
    db.observeWrites<Made>({ made: (events, ops) => this.made(events, ops), durable: (n, t, made) => this.durable(n, t, made) });
    db.keepJournalsFor(() => this.keepAfter());
  }

  /** The last journal record the history has taken: later ones are kept for it. */
  private keepAfter(): number {
    if (this.state === 'off' || (this.state === 'waiting' && !this.hadFile)) return Infinity;
    return this.store?.durable ?? this.taken;
  }

  /** Opens the history file now if there is one, so that it catches up from the journal (the server calls it once it serves). */
  resume(): void {
    if (this.hadFile) void this.start();
  }

  /** A change of one operation is read now; any other from its operations when it is written (values.ts). */
  private made(events: readonly ChangeEvent[], ops: readonly JournalOp[]): Made {
    if (events.some((e) => e.path === '/data/history' || e.path.startsWith('/data/history/') || e.path.startsWith('/data/history['))) {
      this.settings = settingsOf(this.db.tree);
    }
    if (events.length === 1 && ops.length === 1) return readingsOfEvent(events[0]!, this.settings);
    const recordable = recordableOps(ops, this.settings);
    return recordable.length ? { ops: recordable, settings: this.settings } : [];
  }

  private durable(n: number, t: number, made: Made | undefined): void {
    if (this.state === 'off' || this.state === 'closed') return;
    this.upTo = n;
    if (this.state === 'behind') {
      this.fromJournal = n; // the next try reads it back from the journal
      return;
    }
    if (made && (!Array.isArray(made) || made.length > 0)) {
      this.queue.push({ n, t, made });
      this.queued++;
    }
    if (this.state === 'live') this.scheduleFlush();
    else if (this.state === 'waiting' && this.queued > 0) void this.start();
    else if (this.queued > MAX_QUEUED) {
      this.queue = [];
      this.queued = 0;
      this.fromJournal = n;
    }
  }

  private scheduleFlush(): void {
    if (this.queued >= 1000) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushDelayMs).unref();
  }

  /** Writes what is queued now (when the file is open and caught up). */
  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.state === 'live') {
      const queue = this.queue;
      this.queue = [];
      this.queued = 0;
      try {
        const writes = queue.map(({ n, t, made }) => ({
          n,
          t,
          readings: Array.isArray(made) ? made : readingsOfOps(made.ops, made.settings),
        }));
        this.store!.record(writes, this.upTo);
        this.store!.checkpointIfDue();
      } catch (err) {
        this.fallBehind(err as Error);
      }
    }
    if (this.idle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Loads SQLite, opens the file and catches up from the journal; once (later calls answer the same). */
  start(): Promise<void> {
    this.running ??= this.open();
    return this.running;
  }

  private async open(): Promise<void> {
    this.state = 'opening';
    try {
      const [{ HistoryStore }, { Compactor }, { HistoryQueries }] = await Promise.all([
        import('./store.ts'),
        import('./compaction.ts'),
        import('./query.ts'),
      ]);
      // A new file takes what the journal files still hold (the last few snapshots' worth): a database that ran
      // without a history gets those writes, and a file lost to a power cut before it was durable gets them back.
      const kept = await firstKept(this.db.dir);
      if (this.state !== 'opening') return;
      const store = HistoryStore.open(this.options.file, Math.min(this.startedAt, (kept ?? Infinity) - 1));
      if (store.created) await fsyncDir(dirname(this.options.file));
      if (store.lastRecorded > this.startedAt) {
        this.logger.warn(
          { file: this.options.file, recorded: store.lastRecorded, database: this.startedAt },
          'the history has writes the database no longer has (it was recovered or restored); they stay in the history',
        );
        store.lastRecorded = this.startedAt;
      }
      const compactor = new Compactor(store);
      this.store = store;
      this.parts = { compactor, queries: new HistoryQueries(store, compactor) };
    } catch (err) {
      this.turnOff(err as Error);
      return;
    }
    await this.catchUp();
    if (this.options.compactEveryMs > 0 && (this.state as State) === 'live') {
      this.compactTimer = setInterval(() => void this.compact(), this.options.compactEveryMs).unref();
    }
  }

  /** Reads back from the journal what the queue does not hold, until the queue takes over. */
  private async catchUp(): Promise<void> {
    this.state = 'catching-up';
    try {
      for (;;) {
        const target = this.fromJournal;
        await this.replay(target);
        if (this.state !== 'catching-up') return;
        if (this.fromJournal === target) break; // else the queue overflowed meanwhile: read on
      }
      this.state = 'live';
      this.store!.checkpoint(); // what was caught up is on disk: the journals it came from may go
      this.flush();
    } catch (err) {
      this.fallBehind(err as Error);
    }
  }

  private async replay(target: number): Promise<void> {
    const store = this.store!;
    const started = store.lastRecorded;
    let expected = started + 1;
    for await (const chunk of recordsAfter(this.db.dir, started, target)) {
      if (this.state !== 'catching-up') return;
      if (chunk[0]!.n > expected) this.gap(expected, chunk[0]!.n - 1);
      const writes = chunk.map((e) => ({ n: e.n, t: e.t, readings: readingsOfOps(e.ops, this.settings) }));
      store.record(writes, chunk[chunk.length - 1]!.n);
      store.checkpointIfDue();
      expected = store.lastRecorded + 1;
      await nextTurn();
    }
    if (this.state !== 'catching-up') return;
    if (store.lastRecorded < target) {
      this.gap(expected, target);
      store.lastRecorded = target;
    }
    if (target > started) this.logger.info({ from: started + 1, to: target }, 'history caught up from the journal');
  }

  private gap(from: number, to: number): void {
    this.store!.addGap(from, to, this.options.now());
    this.logger.warn(
      { from, to },
      `the history misses writes ${from}–${to}: their journal files were gone (the history file was older than the kept journals)`,
    );
  }

  private fallBehind(err: Error): void {
    if (this.closing) return;
    if (HOPELESS.test(String((err as { code?: string }).code))) {
      this.turnOff(err);
      return;
    }
    this.logger.error({ err, file: this.options.file }, 'the history cannot be written; it tries again, reading back from the journal');
    this.problem = `the history file cannot be written (${err.message}); trying again`;
    this.closeStore();
    this.queue = [];
    this.queued = 0;
    this.fromJournal = this.upTo;
    this.state = 'behind';
    setTimeout(() => {
      if (this.state !== 'behind') return;
      this.running = undefined;
      void this.start();
    }, this.options.retryMs).unref();
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private turnOff(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // better-sqlite3 is an optional dependency: a machine that could neither download nor build it runs without.
    const unloadable = /MODULE_NOT_FOUND|ERR_DLOPEN_FAILED/.test(code) || /better_sqlite3\.node|bindings file/.test(err.message);
    const advice = unloadable
      ? 'better-sqlite3 could not be loaded (npm install downloads or builds it: see README, Dependencies)'
      : 'its file cannot be used (move it aside to start a new one)';
    this.logger.error({ err, file: this.options.file }, `the history is off: ${advice}`);
    this.problem = `the history is off: ${unloadable ? advice : err.message}`;
    this.closeStore();
    this.queue = [];
    this.queued = 0;
    this.state = 'off';
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private closeStore(): void {
    clearInterval(this.compactTimer);
    try {
      this.store?.close();
      if (this.store) this.taken = this.store.lastRecorded;
    } catch {}
    this.store = undefined;
    this.parts = undefined;
  }

  /** Everything up to now recorded, for a read; 503 when the history is not available. */
  async reader(): Promise<HistoryReader> {
    await this.start();
    if (this.state !== 'live' || !this.store || !this.parts) throw new UnavailableError(this.problem || 'the history is not available');
    this.flush();
    return { store: this.store, settings: this.settings, ...this.parts };
  }

  /** Brings statistics and retention up to date, a step at a time, yielding between steps. */
  compact(): Promise<void> {
    this.compacting ??= (async () => {
      try {
        while (
          this.state === 'live' &&
          !this.closing &&
          this.parts?.compactor.step(this.options.now() - this.settings.rawDays * 86_400_000)
        )
          await nextTurn();
        // A server idles between the once-a-minute passes: SQLite gives back the pages it no longer needs.
        if (this.state === 'live') this.store?.releaseMemory();
      } catch (err) {
        this.fallBehind(err as Error);
      } finally {
        this.compacting = undefined;
      }
    })();
    return this.compacting;
  }

  /** How the recorder is doing, in a few words (for stats). */
  get status(): { state: State; problem?: string; queued: number; lastWrite: number } {
    return { state: this.state, ...(this.problem ? { problem: this.problem } : {}), queued: this.queued, lastWrite: this.upTo };
  }

  idle(): boolean {
    return this.queue.length === 0 || this.state === 'off' || this.state === 'behind' || this.state === 'closed';
  }

  whenIdle(): Promise<void> {
    if (this.state === 'live') this.flush();
    return this.idle() ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops as a process that dies would: what is queued is lost (the journal has it). For crash tests. */
  abandon(): void {
    this.closing = true;
    this.state = 'closed';
    clearTimeout(this.flushTimer);
    this.queue = [];
    this.queued = 0;
    this.closeStore();
  }

  async close(): Promise<void> {
    if (this.state === 'closed' || this.closing) return;
    this.closing = true;
    const live = this.state === 'live';
    // Opening and catching up stop at their next step; what they took is on disk, the rest is in the journal.
    if (!live) this.state = 'closed';
    await this.running;
    await this.compacting;
    if (live) this.flush();
    this.state = 'closed';
    this.closeStore();
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
