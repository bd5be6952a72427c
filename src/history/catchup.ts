/**
 * The journal records after a number, read back from the journal files: what the history had not recorded
 * when the server stopped (or crashed, or the power went), and what it missed while its file could not be
 * written. The journal is the truth; the history is derived from it.
 *
 * A journal whose successor starts at or before the record wanted is passed over unread (a record's number is
 * the first field of its line, so the start of a file tells its first number).
 */
import { join } from 'node:path';
import { listJournals } from '../store/database.ts';
import { readHead } from '../store/files.ts';
import { scanJournal } from '../store/journal.ts';
import type { JournalOp } from '../tree/tree.ts';

export interface JournalEntry {
  n: number;
  t: number;
  ops: JournalOp[];
}

const CHUNK = 500;

async function firstNumber(path: string): Promise<number | undefined> {
  const head = await readHead(path, 256).catch(() => '');
  const m = /^[0-9a-f]{8} \{"n":(\d+)/.exec(head);
  return m ? Number(m[1]) : undefined;
}

/** The number of the first record the journal files still hold, if any. */
export async function firstKept(dir: string): Promise<number | undefined> {
  for (const j of await listJournals(dir)) {
    const first = await firstNumber(join(dir, j.name));
    if (first !== undefined) return first;
  }
  return undefined;
}

/** The records numbered after `after` and up to `upTo`, in order, in chunks. */
export async function* recordsAfter(dir: string, after: number, upTo: number): AsyncGenerator<JournalEntry[]> {
  const journals = await listJournals(dir);
  const firsts = await Promise.all(journals.map((j) => firstNumber(join(dir, j.name))));
  for (const [i, j] of journals.entries()) {
    const next = firsts.slice(i + 1).find((f) => f !== undefined);
    if (next !== undefined && next <= after + 1) continue;
    const first = firsts[i];
    if (first !== undefined && first > upTo) return;
    // Gone meanwhile (a snapshot removed it): it held nothing wanted, or the numbers will show the gap.
    const scan = await scanJournal(join(dir, j.name)).catch(() => undefined);
    let chunk: JournalEntry[] = [];
    for (const { record } of scan?.records ?? []) {
      const n = record.n;
      if (n === undefined || n <= after) continue;
      if (n > upTo) break;
      chunk.push({ n, t: typeof record.t === 'number' ? record.t : 0, ops: (record.ops ?? []) as JournalOp[] });
      if (chunk.length >= CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length) yield chunk;
  }
}
