/**
 * The append-only journal: one line per record, `<crc32 hex> <json>\n`.
 *
 * Appends are group-committed: records queued while a write+fdatasync is under way go to disk together in
 * the next one, so the cost of durability is one fdatasync per batch, not per write. A record's promise
 * resolves only once it is on disk. If writing fails (disk full, read-only), the file is cut back to its
 * last good length and every record not yet on disk is undone, last first, and rejected.
 *
 * Records are numbered (`n`, counting on across journals), so a damaged one can be told by the numbers of the
 * intact records around it. Reading (scanJournal) tells apart what a crash can leave — an incomplete last
 * line, never acknowledged — from damage: a line that fails its check, with or without intact lines after it.
 * After a damaged stretch, reading picks up again at the first intact record, even one inside the same line
 * (a flipped newline joins two records).
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

interface Pending {
  line: Buffer;
  n: number;
  undo: () => void;
  resolve: (n: number) => void;
  reject: (err: Error) => void;
}

export class Journal {
  private queue: Pending[] = [];
  private flushing = false;
  private idleWaiters: (() => void)[] = [];
  /** Set when the file could not even be cut back after a failed write: appending more would corrupt it. */
  private broken: Error | undefined;

  /** The number of the last record given out, and of the last one on disk. */
  private lastNumber: number;
  private durableNumber: number;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private length: number,
    lastNumber: number,
  ) {
    this.lastNumber = this.durableNumber = lastNumber;
  }

  /** Opens (or creates) a journal for appending; its records are numbered on from `lastNumber`. */
  static async open(path: string, lastNumber = 0): Promise<Journal> {
    const handle = await open(path, 'a');
    const { size } = await handle.stat();
    return new Journal(handle, path, size, lastNumber);
  }

  /** The number of the last record on disk. */
  get lastDurable(): number {
    return this.durableNumber;
  }

  /** Numbers records on from `n`: a new journal taking over from one that is idle. */
  continueFrom(n: number): void {
    this.lastNumber = this.durableNumber = n;
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

  /**
   * Queues a record (numbered here, as `n`); resolves with its number when it is durable. `undo` reverts its
   * in-memory effect if it cannot be.
   */
  append(record: Record<string, unknown>, undo: () => void): Promise<number> {
    const n = ++this.lastNumber;
    const json = Buffer.from(JSON.stringify({ n, ...record }), 'utf8');
    const line = Buffer.concat([Buffer.from(crc32(json).toString(16).padStart(8, '0') + ' '), json, Buffer.from('\n')]);
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ line, n, undo, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  async close(): Promise<void> {
    await this.whenIdle();
    await this.handle.close();
  }

  /** Lets go of the file as a process that dies would: nothing more is written (for crash tests). */
  abandon(): void {
    this.broken ??= new Error('the journal was abandoned');
    void this.handle.close().catch(() => {});
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
        this.durableNumber = batch[batch.length - 1]!.n;
        for (const p of batch) p.resolve(p.n);
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
    // None of them is on disk: the next record takes the first of their numbers, leaving no gap.
    this.lastNumber = this.durableNumber;
    if (!this.broken) {
      try {
        await this.handle.truncate(this.length);
      } catch (truncateError) {
        // Keep the first cause (a full disk stays a full disk to the client), and say why nothing goes on.
        const cause = err as NodeJS.ErrnoException;
        this.broken = Object.assign(
          new Error(
            `the journal could not be cut back after "${cause.message}" (${(truncateError as Error).message}); restart the server once that is fixed`,
          ),
          {
            code: cause.code,
            journalBroken: true,
          },
        );
      }
    }
  }
}

export interface JournalRecord {
  /** Number, counting on across journals (absent in journals written before records were numbered). */
  n?: number;
  t?: number;
  ops?: unknown[];
  [key: string]: unknown;
}

export interface ScannedRecord {
  record: JournalRecord;
  offset: number;
  length: number;
  /** An intact record at the very end with no newline after it (what follows, if anything, is the tail). */
  unterminated?: boolean;
}

/** A stretch of the file that holds no intact record: damage, unless it is the incomplete end (`tail`). */
export interface DamagedStretch {
  offset: number;
  length: number;
  /** The number of the intact record before it in this journal, if any. */
  after?: number;
  /** The number of the intact record after it in this journal, if any. */
  before?: number;
  /** What can still be read of the damaged bytes: times and paths, for the report. */
  hint: string;
}

export interface JournalScan {
  records: ScannedRecord[];
  /** Damaged stretches that are not the incomplete end of the file. */
  damaged: DamagedStretch[];
  /** The end of the file when it is an incomplete line: a record a crash cut short, never acknowledged. */
  tail?: DamagedStretch;
  size: number;
}

const CRC = /^[0-9a-f]{8}$/;

/** The record a line holds, if it is intact. */
function parseLine(line: Buffer): JournalRecord | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const head = line.subarray(0, 8).toString('latin1');
  if (!CRC.test(head)) return undefined;
  const json = line.subarray(9);
  if (crc32(json).toString(16).padStart(8, '0') !== head) return undefined;
  try {
    const record = JSON.parse(json.toString('utf8')) as unknown;
    return record && typeof record === 'object' && !Array.isArray(record) ? (record as JournalRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Where inside a damaged line an intact record starts again (a flipped newline joined two), or -1. */
function resync(line: Buffer): number {
  for (let p = 1; p + 9 < line.length; p++) {
    if (line[p + 8] !== 0x20 || line[p + 9] !== 0x7b) continue; // "xxxxxxxx {"
    if (parseLine(line.subarray(p))) return p;
  }
  return -1;
}

/** An intact record starting at `pos` and ending where a '}' does, before the end of the data, if there is one. */
function wholeRecordAt(data: Buffer, pos: number): { record: JournalRecord; length: number } | undefined {
  for (let end = data.length; end > pos + 10; end--) {
    if (data[end - 1] !== 0x7d) continue; // '}'
    const record = parseLine(data.subarray(pos, end));
    if (record) return { record, length: end - pos };
  }
  return undefined;
}

/** Times and paths still readable in damaged bytes. */
function hintOf(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const n = /"n":(\d+)/.exec(text)?.[1];
  const t = /"t":(\d{10,})/.exec(text)?.[1];
  const paths = [...text.matchAll(/"(?:path|parent)":"([^"]{1,200})"/g)].map((m) => m[1]);
  const parts = [
    n ? `record ${n}` : '',
    t ? `written ${new Date(Number(t)).toISOString()}` : '',
    paths.length ? `to ${[...new Set(paths)].join(', ')}` : '',
  ];
  return parts.filter(Boolean).join(', ') || 'nothing readable';
}

export function scanJournalBytes(data: Buffer): JournalScan {
  const records: ScannedRecord[] = [];
  const damaged: DamagedStretch[] = [];
  let tail: DamagedStretch | undefined;
  const lastNumber = () => records[records.length - 1]?.record.n;
  const damage = (offset: number, length: number) => {
    const previous = damaged[damaged.length - 1];
    // Damage right after damage is one stretch.
    if (previous && previous.offset + previous.length === offset) previous.length += length;
    else damaged.push({ offset, length, ...(lastNumber() !== undefined ? { after: lastNumber() } : {}), hint: '' });
  };
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) {
      // The end without a newline. A crash leaves a record cut short (or zeros); but the record itself may be
      // whole, with its newline lost to a crash or a flipped bit: then it is kept, and only the rest is dropped.
      const whole = wholeRecordAt(data, pos);
      if (whole) {
        records.push({ record: whole.record, offset: pos, length: whole.length, unterminated: true });
        pos += whole.length;
        if (pos >= data.length) break;
      }
      tail = {
        offset: pos,
        length: data.length - pos,
        ...(lastNumber() !== undefined ? { after: lastNumber() } : {}),
        hint: hintOf(data.subarray(pos)),
      };
      break;
    }
    const line = data.subarray(pos, end);
    const record = parseLine(line);
    if (record) records.push({ record, offset: pos, length: end + 1 - pos });
    else {
      const at = resync(line);
      if (at > 0) {
        damage(pos, at);
        records.push({ record: parseLine(line.subarray(at))!, offset: pos + at, length: end + 1 - pos - at });
      } else damage(pos, end + 1 - pos);
    }
    pos = end + 1;
  }
  for (const d of damaged) {
    d.hint = hintOf(data.subarray(d.offset, d.offset + d.length));
    const next = records.find((r) => r.offset > d.offset)?.record.n;
    if (next !== undefined) d.before = next;
  }
  return { records, damaged, ...(tail ? { tail } : {}), size: data.length };
}

export async function scanJournal(path: string): Promise<JournalScan> {
  return scanJournalBytes(await readFile(path));
}
