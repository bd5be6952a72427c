/**
 * The durable database: the state tree plus its journal and snapshots in one directory.
 *
 * - `database.xml`: the latest snapshot (Igor's format, so an Igor database directory can be adopted as is),
 *   starting with `<?igor-ts journal="N"?>`: the journal files from N on hold what came after it.
 * - `journal.N`: records of changes since (see journal.ts). A write is acknowledged once its record is on disk.
 * - `database.xml.YYYYMMDDHHMMSS`: the last few snapshots, as backups.
 *
 * A snapshot is taken when the journal has grown past a limit, after a while with changes, on request and
 * on close. Its cost is the size of the database, but it is paid rarely; a write costs its own size.
 */
import { EventEmitter } from 'node:events';
import { copyFile, mkdir, readFile, readdir, truncate, unlink, access } from 'node:fs/promises';
import { join } from 'node:path';
import { InsufficientStorageError, UnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { parseXml, serialize, SHOW_ALL } from '../tree/dom.ts';
import { DEFAULT_MAX_DEPTH, Tree, type ChangeEvent, type JournalOp, type Mutation } from '../tree/tree.ts';
import { fsyncDir, listBackups, replaceWithBackup } from './files.ts';
import { Journal, readJournal } from './journal.ts';
import { lockDirectory, type DirectoryLock } from './lock.ts';

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

interface JournalRecord {
  t: number;
  ops: JournalOp[];
}

/** The database directory cannot be opened; the message says why and what to do. */
export class DatabaseOpenError extends Error {}

const DATABASE = 'database.xml';
const JOURNAL = /^journal\.(\d+)$/;

/** Looks at a change before it is made durable; throwing refuses it (the tree is restored). */
export type Validator = (events: ChangeEvent[]) => void;

export class Database extends EventEmitter<{ change: [ChangeEvent[]] }> {
  private readonly validators: Validator[] = [];
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
    await mkdir(dir, { recursive: true });
    const lock = await lockDirectory(dir);
    try {
      return await Database.load(options, lock);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private static async load(options: Required<DatabaseOptions>, lock: DirectoryLock): Promise<Database> {
    const { dir, logger } = options;
    const dbFile = join(dir, DATABASE);
    const journals = await listJournals(dir);
    let created = false;
    if (!(await exists(dbFile))) {
      if (journals.length > 0) {
        throw new DatabaseOpenError(`${dbFile} is missing but ${dir} has journal files; restore database.xml from a backup`);
      }
      await copyFile(options.template, dbFile);
      await fsyncDir(dir);
      created = true;
    }
    const { tree, startIndex } = await loadSnapshot(dbFile);
    let current = startIndex;
    for (const { index, name } of journals) {
      const path = join(dir, name);
      if (index < startIndex) {
        await unlink(path); // already in the snapshot: left over from a crash right after saving it
        continue;
      }
      const { records, validLength, droppedLength } = await readJournal(path);
      records.forEach((record, i) => {
        try {
          for (const op of (record as JournalRecord).ops) tree.apply(op);
        } catch (err) {
          throw new DatabaseOpenError(`${path}: record ${i + 1} cannot be applied (${(err as Error).message}); the journal does not match ${DATABASE}`);
        }
      });
      if (droppedLength > 0) {
        if (index !== journals[journals.length - 1]!.index) {
          throw new DatabaseOpenError(`${path} is corrupt after ${validLength} bytes, and later journals exist; restore from a backup`);
        }
        logger.warn({ journal: path, keptBytes: validLength, droppedBytes: droppedLength }, 'dropping a torn record at the end of the journal (a write that was never acknowledged)');
        await truncate(path, validLength);
      }
      current = index;
      logger.debug({ journal: path, records: records.length }, 'replayed journal');
    }
    const journal = await Journal.open(join(dir, `journal.${current}`));
    await fsyncDir(dir);
    tree.maxDepth = options.maxDepth;
    return new Database(tree, journal, current, options, created, lock);
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
    try {
      await this.journal.append({ t: Date.now(), ops: mutation.ops } satisfies JournalRecord, mutation.undo);
    } catch (err) {
      this.version++; // the journal undid it
      const code = (err as NodeJS.ErrnoException).code;
      this.options.logger.error({ err, dir: this.dir }, 'a write could not be made durable and was undone');
      const restart = (err as { journalBroken?: boolean }).journalBroken ? '; restart the server once that is fixed' : '';
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new InsufficientStorageError(`the disk holding ${this.dir} is full; the write was not made${restart}`);
      throw new UnavailableError(`the database cannot be written (${code ?? (err as Error).message}); the write was not made${restart}`);
    }
    this.emit('change', mutation.events);
    this.scheduleSnapshot();
    return mutation;
  }

  addValidator(validator: Validator): void {
    this.validators.push(validator);
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

  async close(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.snapshotTimer);
    await this.journal.whenIdle();
    if (this.journal.size > 0) await this.snapshot().catch((err) => this.options.logger.error({ err }, 'final snapshot failed; the journal still holds every change'));
    this.closed = true;
    await this.journal.close();
    await this.lock.release();
  }

  /** Stops without saving anything or removing the lock, as if the process had died: for crash tests. */
  abandon(): void {
    clearTimeout(this.snapshotTimer);
    this.closed = true;
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
    // old journal is in the snapshot, every later one goes to the new journal.
    while (!this.journal.idle) await this.journal.whenIdle();
    const started = performance.now();
    const xml = `<?xml version="1.0" encoding="utf-8"?>\n<?igor-ts journal="${nextIndex}"?>\n${serialize(this.tree.root, { show: SHOW_ALL, indent: '\t' })}\n`;
    const old = this.journal;
    this.journal = next;
    this.journalIndex = nextIndex;
    const backup = await replaceWithBackup(join(dir, DATABASE), xml, this.options.backups);
    await old.close();
    for (const { index, name } of await listJournals(dir)) {
      if (index < nextIndex) await unlink(join(dir, name));
    }
    logger.info({ backup, bytes: xml.length, ms: Math.round(performance.now() - started) }, 'saved snapshot');
    return backup;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function listJournals(dir: string): Promise<{ index: number; name: string }[]> {
  const out: { index: number; name: string }[] = [];
  for (const name of await readdir(dir)) {
    const m = JOURNAL.exec(name);
    if (m) out.push({ index: Number(m[1]), name });
  }
  return out.sort((a, b) => a.index - b.index);
}

async function loadSnapshot(file: string): Promise<{ tree: Tree; startIndex: number }> {
  try {
    const doc = parseXml(await readFile(file, 'utf8'), file);
    const startIndex = journalIndexOf(doc);
    return { tree: new Tree(doc), startIndex };
  } catch (err) {
    throw new DatabaseOpenError(`cannot load ${file}: ${(err as Error).message}; ${await backupAdvice(file)}`);
  }
}

/** Names the newest backup that loads (the newest may be the damaged file itself: they share an inode). */
async function backupAdvice(file: string): Promise<string> {
  for (const name of await listBackups(file).catch(() => [])) {
    const path = join(file, '..', name);
    try {
      parseXml(await readFile(path, 'utf8'), path);
      return `the newest backup that loads is ${path}: copy it to ${file} to start from it (changes since it was saved are lost)`;
    } catch {
      // damaged too: try an older one
    }
  }
  return 'there is no backup that loads';
}

function journalIndexOf(doc: Document): number {
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 7 && n.nodeName === 'igor-ts') {
      const m = /journal="(\d+)"/.exec(n.nodeValue ?? '');
      if (m) return Number(m[1]);
    }
  }
  return 0;
}
