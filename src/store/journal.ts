/**
 * The append-only journal: one line per record, `<crc32 hex> <json>\n`.
 *
 * Appends are group-committed: records queued while a write+fdatasync is under way go to disk together in
 * the next one, so the cost of durability is one fdatasync per batch, not per write. A record's promise
 * resolves only once it is on disk. If writing fails (disk full, read-only), the file is cut back to its
 * last good length and every record not yet on disk is undone, last first, and rejected.
 *
 * On reading, the first line that is incomplete or fails its CRC ends the journal: a torn tail from a
 * crash is dropped, never half-applied.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

interface Pending {
  line: Buffer;
  undo: () => void;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Journal {
  private queue: Pending[] = [];
  private flushing = false;
  private idleWaiters: (() => void)[] = [];
  /** Set when the file could not even be cut back after a failed write: appending more would corrupt it. */
  private broken: Error | undefined;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private length: number,
  ) {}

  static async open(path: string): Promise<Journal> {
    const handle = await open(path, 'a');
    const { size } = await handle.stat();
    return new Journal(handle, path, size);
  }

  get size(): number {
    return this.length;
  }

  get idle(): boolean {
    return this.queue.length === 0 && !this.flushing;
  }

  /** Resolves when nothing is queued or being written. */
  whenIdle(): Promise<void> {
    return this.idle ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Queues a record; resolves when it is durable. `undo` reverts its in-memory effect if it cannot be. */
  append(record: unknown, undo: () => void): Promise<void> {
    const json = Buffer.from(JSON.stringify(record), 'utf8');
    const line = Buffer.concat([Buffer.from(crc32(json).toString(16).padStart(8, '0') + ' '), json, Buffer.from('\n')]);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, undo, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  async close(): Promise<void> {
    await this.whenIdle();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0);
      try {
        if (this.broken) throw this.broken;
        const data = batch.length === 1 ? batch[0]!.line : Buffer.concat(batch.map((p) => p.line));
        let written = 0;
        while (written < data.length) {
          const { bytesWritten } = await this.handle.write(data, written, data.length - written);
          written += bytesWritten;
        }
        await this.handle.datasync();
        this.length += data.length;
        for (const p of batch) p.resolve();
      } catch (err) {
        await this.fail(batch, err as Error);
      }
    }
    this.flushing = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async fail(batch: Pending[], err: Error): Promise<void> {
    // Records queued meanwhile were applied on top of the failed ones: they go too.
    const all = batch.concat(this.queue.splice(0));
    for (const p of [...all].reverse()) p.undo();
    for (const p of all) p.reject(err);
    if (!this.broken) {
      try {
        await this.handle.truncate(this.length);
      } catch (truncateError) {
        // Keep the first cause (a full disk stays a full disk to the client), and say why nothing goes on.
        const cause = err as NodeJS.ErrnoException;
        this.broken = Object.assign(new Error(`the journal could not be cut back after "${cause.message}" (${(truncateError as Error).message}); restart the server once that is fixed`), {
          code: cause.code,
          journalBroken: true,
        });
      }
    }
  }
}

export interface JournalContents {
  records: unknown[];
  /** Bytes of the file that hold whole, valid records. */
  validLength: number;
  /** Bytes after that: a torn or corrupt tail. */
  droppedLength: number;
}

export async function readJournal(path: string): Promise<JournalContents> {
  const data = await readFile(path);
  const records: unknown[] = [];
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) break;
    const line = data.subarray(pos, end);
    const space = line.indexOf(0x20);
    if (space !== 8) break;
    const json = line.subarray(9);
    if (crc32(json).toString(16).padStart(8, '0') !== line.subarray(0, 8).toString('latin1')) break;
    try {
      records.push(JSON.parse(json.toString('utf8')));
    } catch {
      break;
    }
    pos = end + 1;
  }
  return { records, validLength: pos, droppedLength: data.length - pos };
}
