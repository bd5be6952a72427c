/**
 * The durable database: the state tree plus its journal and snapshots in one directory.
 *
 * - `database.xml`: the latest snapshot (Igor's format, so an Igor database directory can be adopted as is),
 *   with a checksum and the journal that follows it (snapshot.ts).
 * - `journal.N`: records of changes since (see journal.ts). A write is acknowledged once its record is on disk.
 * - `database.xml.YYYYMMDDHHMMSS`: the last few snapshots, as backups, and the journals since the oldest of
 *   them: any backup and the journals after it make the whole database again, so a damaged snapshot loses
 *   nothing (`igor db recover`).
 *
 * Opening never changes or drops anything it cannot vouch for. Only an incomplete last record — a write a
 * crash cut short, never acknowledged — is cut off by itself. A damaged snapshot, a damaged record (one that
 * fails its check, with or without intact records after it) or a record that does not apply stops the start
 * with a message saying what is wrong and the command that recovers (recovery.ts).
 *
 * A snapshot is taken when the journal has grown past a limit, after a while with changes, on request and
 * on close. Its cost is the size of the database, but it is paid rarely; a write costs its own size.
 */
import { EventEmitter } from 'node:events';
import { access, open as openFile, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InsufficientStorageError, UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { WorkSource } from '../work.ts';
import { parseXml } from '../tree/parseXml.ts';
import { DEFAULT_MAX_DEPTH, Tree, type ChangeEvent, type JournalOp, type Mutation } from '../tree/tree.ts';
import { fsyncDir, listBackups, mkdirDurably, readHead, replaceWithBackup } from './files.ts';
import { Journal, scanJournal, type JournalScan } from './journal.ts';
import { lockDirectory, type DirectoryLock } from './lock.ts';
import { DamagedSnapshotError, formatSnapshot, readSnapshot, snapshotHeader } from './snapshot.ts';

export interface DatabaseOptions {
  dir: string;
  /** XML file a new database starts from. */
  template: string;
  logger: Logger;
  /** Take a snapshot once the journal is this big (bytes). */
  snapshotJournalBytes?: number;
  /** Take a snapshot this long after the first change since the last one (ms). */
  snapshotDelayMs?: number;
  /** How many old snapshots to keep. */
  backups?: number;
  /** Deepest nesting the tree takes (Tree.maxDepth). */
  maxDepth?: number;
}

/** The database directory cannot be opened; the message says why and what to do. */
export class DatabaseOpenError extends Error {}

export const DATABASE = 'database.xml';
const JOURNAL = /^journal\.(\d+)$/;

/** What to do when opening refused: the one command that recovers, with the server stopped. */
export function recoverAdvice(dir: string): string {
  return `Nothing was changed. With the server stopped, \`igor db check --database ${dir}\` says what is wrong and \`igor db recover --database ${dir}\` rebuilds the database from every intact record, reports exactly which writes are lost, and keeps the damaged files aside.`;
}

/** What the damaged stretches of a journal are, in words. */
export function describeDamage(path: string, scan: JournalScan): string {
  return scan.damaged
    .map((d) => {
      const after = scan.records.filter((r) => r.offset > d.offset).length;
      return `${path}: bytes ${d.offset}–${d.offset + d.length - 1} hold no intact record (${d.hint}), with ${after} intact record${after === 1 ? '' : 's'} after them`;
    })
    .join('; ');
}

/** Looks at a change before it is made durable; throwing refuses it (the tree is restored). */
export type Validator = (events: ChangeEvent[]) => void;

/**
 * Follows the acknowledged writes by their journal numbers (the history does): `made` sees a change as it is
 * made, synchronously, with its events and the journal operations that record it (a change of one operation:
 * its node is exactly what the operation holds), and its answer is handed to `durable` once the record is on
 * disk, in the order of the numbers. A write that is not made durable never reaches `durable`. Neither may
 * throw (what they throw is logged): an observer never fails a write.
 */
export interface WriteObserver<T> {
  made(events: readonly ChangeEvent[], ops: readonly JournalOp[]): T;
  durable(n: number, t: number, made: T): void;
}

export class Database extends EventEmitter<{ change: [ChangeEvent[]] }> {
  private readonly validators: Validator[] = [];
  private readonly observers: WriteObserver<unknown>[] = [];
  /** Readers of the journal files (the history): each says the number of the last record it has taken. */
  private readonly journalReaders: (() => number)[] = [];
  /** Goes up with every change to the tree (and every undo): a cheap way to know a cached view is stale. */
  version = 0;
  private snapshotting: Promise<string> | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly tree: Tree,
    private journal: Journal,
    private journalIndex: number,
    private readonly options: Required<DatabaseOptions>,
    /** True when this open created the database from the template. */
    readonly created: boolean,
    /** True when database.xml was written by Igor: an Igor directory, adopted by this open (or Igor ran here since). */
    readonly fromIgor: boolean,
    private readonly lock: DirectoryLock,
  ) {
    super();
  }

  get dir(): string {
    return this.options.dir;
  }

  static async open(opts: DatabaseOptions): Promise<Database> {
    const options: Required<DatabaseOptions> = {
      snapshotJournalBytes: 16 * 1024 * 1024,
      snapshotDelayMs: 10 * 60 * 1000,
      backups: 5,
      maxDepth: DEFAULT_MAX_DEPTH,
      ...opts,
    };
    const { dir } = options;
    await mkdirDurably(dir).catch((err: NodeJS.ErrnoException) => {
      throw new DatabaseOpenError(`${dir} cannot be made (${err.code ?? err.message}): is its parent there, and writable by this user?`);
    });
    const lock = await lockDirectory(dir);
    try {
      return await Database.load(options, lock);
    } catch (err) {
      await lock.release();
      // A file system's refusal (it has a code: EACCES, EIO, EISDIR…) becomes a sentence; anything else is a bug,
      // and keeps its stack.
      const code = (err as NodeJS.ErrnoException).code;
      throw typeof code === 'string' && !(err instanceof DatabaseOpenError) ? unreadable(dir, err as NodeJS.ErrnoException) : err;
    }
  }

  private static async load(options: Required<DatabaseOptions>, lock: DirectoryLock): Promise<Database> {
    const { dir, logger } = options;
    const dbFile = join(dir, DATABASE);
    const journals = await listJournals(dir);
    let created = false;
    if (!(await exists(dbFile))) {
      if (journals.length > 0) throw new DatabaseOpenError(`${dbFile} is missing, but ${dir} has journal files. ${recoverAdvice(dir)}`);
      // Backups without a database.xml are a database that lost its name, not a new one: never start afresh over it.
      const backups = await listBackups(dbFile);
      if (backups.length > 0)
        throw new DatabaseOpenError(`${dbFile} is missing, but ${dir} has its backups (${backups[0]}). ${recoverAdvice(dir)}`);
      // Saved as a snapshot (its data on disk before its name, with a backup beside it): a power cut must not
      // leave an empty database.xml, and a damaged one is rebuilt from the backup and the journals.
      const template = new Tree(parseXml(await readFile(options.template, 'utf8'), options.template));
      await replaceWithBackup(dbFile, formatSnapshot(template.root, 0, 0), options.backups);
      created = true;
    }
    let snapshot: ReturnType<typeof readSnapshot>;
    try {
      snapshot = readSnapshot(await reading(dbFile, (p) => readFile(p)), dbFile);
    } catch (err) {
      if (err instanceof DamagedSnapshotError) throw new DatabaseOpenError(`${err.message}. ${recoverAdvice(dir)}`);
      throw err;
    }
    const fromIgor = !created && snapshot.info.igor;
    if (fromIgor) await Database.adopt(options, snapshot, journals);
    const tree = new Tree(snapshot.doc);
    let last = snapshot.info.last;
    let current = snapshot.info.journal;
    // Journals before the snapshot's are already in it (kept for the backups that need them).
    const later: { index: number; path: string; scan: JournalScan }[] = [];
    for (const { index, name } of journals.filter((j) => j.index >= snapshot.info.journal))
      later.push({ index, path: join(dir, name), scan: await reading(join(dir, name), scanJournal) });
    for (const [i, { index, path, scan }] of later.entries()) {
      if (scan.damaged.length) throw new DatabaseOpenError(`${describeDamage(path, scan)}. ${recoverAdvice(dir)}`);
      // A save makes the next journal before the writes under way reach the disk: a cut then leaves a record cut
      // short with only empty journals after it, a crash's. With records after it, it is damage.
      if (scan.tail && later.slice(i + 1).some((j) => j.scan.size > 0)) {
        throw new DatabaseOpenError(
          `${path} ends in an incomplete record, yet later journals hold records, so it is damage, not a crash. ${recoverAdvice(dir)}`,
        );
      }
      let unterminated: number | undefined;
      for (const { record, offset, length, unterminated: open } of scan.records) {
        if (open) unterminated = offset + length;
        try {
          tree.applyAll((record.ops ?? []) as JournalOp[]);
        } catch (err) {
          throw new DatabaseOpenError(
            `${path}: the record at byte ${offset}${record.n !== undefined ? ` (number ${record.n})` : ''} cannot be applied (${(err as Error).message}). ${recoverAdvice(dir)}`,
          );
        }
        if (record.n !== undefined) last = record.n;
      }
      if (scan.tail || unterminated !== undefined) {
        const keep = unterminated ?? scan.tail!.offset;
        logger.warn(
          { journal: path, keptBytes: keep, droppedBytes: scan.size - keep },
          'cutting off an incomplete last record (a write a crash cut short, never acknowledged)',
        );
        await reading(path, (p) => truncateDurably(p, keep, unterminated !== undefined));
      }
      current = index;
      logger.debug({ journal: path, records: scan.records.length }, 'replayed journal');
    }
    const journal = await Journal.open(join(dir, `journal.${current}`), last);
    await fsyncDir(dir);
    tree.maxDepth = options.maxDepth;
    return new Database(tree, journal, current, options, created, fromIgor, lock);
  }

  /**
   * Takes over a database.xml Igor wrote, at once: saved again, the same content, as this server's snapshot (Igor's
   * own backups, database.xml.TIME, stay beside it), so that from the first write on a crash replays the journal
   * onto it. Journals found beside it mean Igor ran here after this server did; they go aside
   * (setJournalsAside), and their numbering goes on after them.
   */
  private static async adopt(
    options: Required<DatabaseOptions>,
    snapshot: ReturnType<typeof readSnapshot>,
    journals: { index: number; name: string }[],
  ): Promise<void> {
    if (journals.length) {
      await setJournalsAside(options.dir, journals, options.logger);
      snapshot.info.journal = Math.max(...journals.map((j) => j.index)) + 1;
      journals.length = 0;
    }
    const root = snapshot.doc.documentElement!;
    await replaceWithBackup(join(options.dir, DATABASE), formatSnapshot(root, snapshot.info.journal, snapshot.info.last), options.backups);
  }

  /**
   * Makes a change: `change` runs at once against the tree (and may throw, changing nothing); the promise
   * resolves when the change is on disk. Change events are emitted then, in the order of the changes.
   */
  async write(change: (tree: Tree) => Mutation): Promise<Mutation> {
    if (this.closed) throw new UnavailableError('the database is closed');
    const mutation = change(this.tree);
    if (mutation.ops.length === 0) return mutation;
    this.version++;
    try {
      for (const validate of this.validators) validate(mutation.events);
    } catch (err) {
      mutation.undo();
      this.version++;
      throw err;
    }
    const t = Date.now();
    const made = this.observers.map((o) => this.observed(() => o.made(mutation.events, mutation.ops)));
    let n: number;
    try {
      n = await this.journal.append({ t, ops: mutation.ops }, mutation.undo);
    } catch (err) {
      this.version++; // the journal undid it
      const code = (err as NodeJS.ErrnoException).code;
      this.options.logger.error({ err, dir: this.dir }, 'a write could not be made durable and was undone');
      const restart = (err as { journalBroken?: boolean }).journalBroken ? '; restart the server once that is fixed' : '';
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new InsufficientStorageError(`the disk holding ${this.dir} is full; the write was not made${restart}`);
      throw new UnavailableError(`the database cannot be written (${code ?? (err as Error).message}); the write was not made${restart}`);
    }
    this.observers.forEach((o, i) => this.observed(() => o.durable(n, t, made[i])));
    this.emit('change', mutation.events);
    this.scheduleSnapshot();
    return mutation;
  }

  private observed<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (err) {
      this.options.logger.error({ err }, 'a write observer failed; the write itself is made');
      return undefined;
    }
  }

  addValidator(validator: Validator): void {
    this.validators.push(validator);
  }

  observeWrites<T>(observer: WriteObserver<T>): void {
    this.observers.push(observer as WriteObserver<unknown>);
  }

  /**
   * Keeps the journal files whose records `lastTaken()` says a reader has not taken yet (the number of the last
   * one it has), when a snapshot would otherwise remove them.
   */
  keepJournalsFor(lastTaken: () => number): void {
    this.journalReaders.push(lastTaken);
  }

  /** The number of the last write on disk (journal records are numbered on across journals). */
  get lastWrite(): number {
    return this.journal.lastDurable;
  }

  /** Saves a snapshot now (waiting for one under way); resolves with the backup file's name. */
  snapshot(): Promise<string> {
    this.snapshotting ??= this.takeSnapshot().finally(() => {
      this.snapshotting = undefined;
    });
    return this.snapshotting;
  }

  /** True when no write is waiting to get to disk. */
  get idle(): boolean {
    return this.journal.idle;
  }

  /** Resolves once every acknowledged-or-pending write is on disk. */
  async flush(): Promise<void> {
    await this.journal.whenIdle();
  }

  /** The journal as background work, for a WorkTracker to wait on (server and test host alike). */
  get journalWork(): WorkSource {
    return { name: 'journal', idle: () => this.idle, whenIdle: () => this.flush() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.snapshotTimer);
    await this.journal.whenIdle();
    if (this.journal.size > 0)
      await this.snapshot().catch((err) =>
        this.options.logger.error({ err }, 'final snapshot failed; the journal still holds every change'),
      );
    this.closed = true;
    await this.journal.close();
    await this.lock.release();
  }

  /** Stops without saving anything or removing the lock, as if the process had died: for crash tests. */
  abandon(): void {
    clearTimeout(this.snapshotTimer);
    this.closed = true;
    this.journal.abandon();
    this.lock.abandon();
  }

  private scheduleSnapshot(): void {
    if (this.journal.size >= this.options.snapshotJournalBytes) {
      this.snapshot().catch((err) => this.options.logger.error({ err }, 'snapshot failed; the journal still holds every change'));
    } else if (!this.snapshotTimer) {
      this.snapshotTimer = setTimeout(() => {
        this.snapshotTimer = undefined;
        this.snapshot().catch((err) => this.options.logger.error({ err }, 'snapshot failed; the journal still holds every change'));
      }, this.options.snapshotDelayMs).unref();
    }
  }

  private async takeSnapshot(): Promise<string> {
    const { dir, logger } = this.options;
    clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    const nextIndex = this.journalIndex + 1;
    const next = await Journal.open(join(dir, `journal.${nextIndex}`));
    await fsyncDir(dir);
    // Serialise and switch journals with nothing in flight, in one synchronous step: every record in the
    // old journal is in the snapshot, every later one goes to the new journal, numbered on.
    while (!this.journal.idle) await this.journal.whenIdle();
    const started = performance.now();
    const old = this.journal;
    next.continueFrom(old.lastDurable);
    const content = formatSnapshot(this.tree.root, nextIndex, old.lastDurable);
    this.journal = next;
    this.journalIndex = nextIndex;
    const backup = await replaceWithBackup(join(dir, DATABASE), content, this.options.backups);
    await old.close();
    await this.pruneJournals({ journal: nextIndex, last: old.lastDurable });
    logger.info({ backup, bytes: content.length, ms: Math.round(performance.now() - started) }, 'saved snapshot');
    return backup;
  }

  /**
   * Removes the journals no kept snapshot needs (those before the oldest backup's) and no journal reader still
   * needs: a journal before a snapshot's holds records numbered at most that snapshot's `last`.
   */
  private async pruneJournals(current: { journal: number; last: number }): Promise<void> {
    const dbFile = join(this.dir, DATABASE);
    let oldest = this.journalIndex;
    const snapshots = [current];
    for (const name of await listBackups(dbFile)) {
      const header = snapshotHeader(await readHead(join(this.dir, name)).catch(() => ''));
      if (!header) continue;
      snapshots.push(header);
      if (header.journal < oldest) oldest = header.journal;
    }
    const taken = Math.min(...this.journalReaders.map((lastTaken) => lastTaken()));
    for (const { index, name } of await listJournals(this.dir)) {
      if (index >= oldest) continue;
      const lastIn = Math.min(...snapshots.filter((s) => s.journal > index).map((s) => s.last));
      if (lastIn > taken) continue;
      await unlink(join(this.dir, name));
    }
  }
}

/**
 * Journals beside a database.xml that Igor wrote: this server ran here, then Igor did (someone went back), and
 * Igor's database.xml is what the household has used since. The journals hold writes older than it (or writes
 * Igor never saw, after a crash); replayed on it they would undo Igor's changes. They go aside, kept.
 */
async function setJournalsAside(dir: string, journals: { name: string }[], logger: Logger): Promise<void> {
  const aside = join(dir, `journals-before-igor-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`);
  await mkdirDurably(aside);
  for (const { name } of journals) await rename(join(dir, name), join(aside, name));
  await fsyncDir(aside);
  await fsyncDir(dir);
  logger.warn(
    { aside },
    `${join(dir, DATABASE)} was written by Igor after this server last ran here: its journals, older than it, are kept in ${aside} and not replayed`,
  );
}

/**
 * What the file system said when opening failed other than by damage (a directory that cannot be read, a disk
 * that fails): a sentence with the way forward, not a stack trace at every start.
 */
function unreadable(dir: string, err: NodeJS.ErrnoException): DatabaseOpenError {
  const where = err.path ? ` (${err.path})` : '';
  return new DatabaseOpenError(
    `${dir} cannot be opened: ${err.code}${where}. Check that this user can read and write the directory and every file in it, and that the disk is healthy (its kernel log); if files are damaged: ${recoverAdvice(dir).replace(/^Nothing was changed\. With/, 'with')}`,
  );
}

/** Runs `use(path)`, naming the file in an error that does not (reading a directory: EISDIR names none). */
function reading<T>(path: string, use: (path: string) => Promise<T>): Promise<T> {
  return use(path).catch((err: NodeJS.ErrnoException) => {
    err.path ??= path;
    throw err;
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function listJournals(dir: string): Promise<{ index: number; name: string }[]> {
  const out: { index: number; name: string }[] = [];
  for (const name of await readdir(dir)) {
    const m = JOURNAL.exec(name);
    if (m) out.push({ index: Number(m[1]), name });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Cuts a file back to `length` (ending it with a newline, if asked) and makes that durable. */
async function truncateDurably(path: string, length: number, newline = false): Promise<void> {
  const handle = await openFile(path, 'r+');
  try {
    await handle.truncate(length);
    if (newline) await handle.write(Buffer.from('\n'), 0, 1, length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
