/**
 * `igor db check` and `igor db recover`, with the server stopped: what to do when a database will not open.
 *
 * Check reads everything and changes nothing. Recover rebuilds the database from the newest snapshot that is
 * intact (database.xml, else the newest backup that is) and every intact journal record after it, in order;
 * it reports exactly which writes are lost — a damaged record by its place in the file and the numbers the
 * intact records around it leave for it, a record that no longer applies by its number — saves the result
 * as a new snapshot, and keeps the damaged files aside in `damaged-TIME/` with the report. An incomplete
 * last record (a write a crash cut short) was never acknowledged; it is dropped and said so, not counted lost.
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Tree, type JournalOp } from '../tree/tree.ts';
import { DATABASE, listJournals } from './database.ts';
import { fsyncDir, listBackups, mkdirDurably, replaceWithBackup, writeFileDurably } from './files.ts';
import { Journal, scanJournal, type DamagedStretch, type JournalScan } from './journal.ts';
import { lockDirectory } from './lock.ts';
import { DamagedSnapshotError, formatSnapshot, readSnapshot, type SnapshotInfo } from './snapshot.ts';

export interface Loss {
  /** Where it was: the file and bytes. */
  where: string;
  /** The numbers of the writes lost, when the intact records around it tell them. */
  numbers?: number[];
  why: string;
}

export interface Report {
  healthy: boolean;
  /** The snapshot the database is (or would be) rebuilt from. */
  base?: string;
  /** What is wrong with database.xml, if anything. */
  snapshotProblem?: string;
  /** Files that are damaged. */
  damagedFiles: string[];
  /** Writes lost: damaged records, and records that no longer apply. */
  lost: Loss[];
  /** Incomplete last records: cut short by a crash, never acknowledged. */
  incomplete: Loss[];
  /** Intact records replayed. */
  replayed: number;
  /** The number of the last write kept. */
  last: number;
  /** After recover: where the damaged files and the report were put. */
  aside?: string;
}

interface Base {
  file: string;
  doc: Document;
  info: SnapshotInfo;
}

/** The snapshots to start from, best first: database.xml, then the backups, newest first. */
async function chooseBase(dir: string, keepSnapshot: boolean, report: Report): Promise<Base | undefined> {
  const dbFile = join(dir, DATABASE);
  const candidates = [dbFile, ...(await listBackups(dbFile).catch(() => [] as string[])).map((b) => join(dir, b))];
  for (const file of candidates) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if (file === dbFile) report.snapshotProblem = `${file} cannot be read: ${(err as Error).message}`;
      continue;
    }
    try {
      const { doc, info } = readSnapshot(bytes, file);
      return { file, doc, info };
    } catch (err) {
      if (!(err instanceof DamagedSnapshotError)) throw err;
      if (file === dbFile && keepSnapshot && /checksum/.test(err.message)) {
        // Edited by hand on purpose: taken as it is, if it still reads as XML.
        const { doc, info } = readSnapshot(withoutChecksum(bytes), file);
        return { file, doc, info };
      }
      if (file === dbFile) report.snapshotProblem = err.message;
      report.damagedFiles.push(file);
    }
  }
  return undefined;
}

function withoutChecksum(bytes: Buffer): Buffer {
  const text = bytes.toString('utf8');
  return Buffer.from(text.replace(/ sha256="[0-9a-f]*"/, '').replace(/ last="\d*"/, ''), 'utf8');
}

function place(file: string, d: DamagedStretch): string {
  return `${file}, bytes ${d.offset}–${d.offset + d.length - 1}`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** Replays the journals after `base` into its tree, recording what is lost on the way. */
async function replay(dir: string, base: Base, report: Report): Promise<Tree> {
  const tree = new Tree(base.doc);
  let last = base.info.last;
  const journals = (await listJournals(dir)).filter((j) => j.index >= base.info.journal);
  const scans: { file: string; scan: JournalScan }[] = [];
  for (const { name } of journals) scans.push({ file: join(dir, name), scan: await scanJournal(join(dir, name)) });
  for (const [j, { file, scan }] of scans.entries()) {
    if (scan.damaged.length) report.damagedFiles.push(file);
    // Records and damaged stretches, in the order they stand in the file.
    const items = [
      ...scan.records.map((r) => ({ offset: r.offset, record: r })),
      ...scan.damaged.map((d) => ({ offset: d.offset, damage: d })),
    ].sort((a, b) => a.offset - b.offset);
    for (const item of items) {
      if ('damage' in item && item.damage) {
        const d = item.damage;
        // The numbers between the intact records around it (the next journal's first, when it ends this one).
        const next = d.before ?? scans.slice(j + 1).flatMap((s) => s.scan.records)[0]?.record.n;
        const lines = [...(await readFile(file)).subarray(d.offset, d.offset + d.length)].filter((b) => b === 0x0a).length || 1;
        const numbers = next !== undefined ? range(last + 1, next - 1) : range(last + 1, last + lines);
        report.lost.push({ where: place(file, d), numbers, why: `damaged (${d.hint})` });
        if (numbers.length) last = numbers[numbers.length - 1]!;
        continue;
      }
      const { record, offset } = (item as { record: JournalScan['records'][number] }).record;
      try {
        tree.applyAll((record.ops ?? []) as JournalOp[]);
        report.replayed++;
      } catch (err) {
        report.lost.push({
          where: `${file}, byte ${offset}`,
          ...(record.n !== undefined ? { numbers: [record.n] } : {}),
          why: `does not apply any more (${(err as Error).message})`,
        });
      }
      if (record.n !== undefined) last = record.n;
    }
    if (scan.tail) {
      // Only empty journals after it: a save had made the next journal when the crash cut this record short.
      if (scans.slice(j + 1).some((s) => s.scan.size > 0)) {
        report.damagedFiles.push(file);
        report.lost.push({
          where: place(file, scan.tail),
          why: `damaged: an incomplete record with later journals after it (${scan.tail.hint})`,
        });
      } else
        report.incomplete.push({
          where: place(file, scan.tail),
          why: `an incomplete last record, cut short by a crash and never acknowledged (${scan.tail.hint})`,
        });
    }
  }
  report.last = last;
  return tree;
}

/** Reads the database directory and says what is wrong, changing nothing. */
export async function checkDatabase(dir: string, keepSnapshot = false): Promise<Report & { tree?: Tree; baseInfo?: Base }> {
  const report: Report = { healthy: true, damagedFiles: [], lost: [], incomplete: [], replayed: 0, last: 0 };
  const base = await chooseBase(dir, keepSnapshot, report);
  if (!base) {
    report.healthy = false;
    return report;
  }
  report.base = base.file;
  const tree = await replay(dir, base, report);
  report.damagedFiles = [...new Set(report.damagedFiles)];
  report.healthy = !report.snapshotProblem && report.lost.length === 0 && report.damagedFiles.length === 0;
  return { ...report, tree, baseInfo: base };
}

function stamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * Rebuilds the database (see the file comment); with `keepSnapshot`, a database.xml that no longer matches
 * its checksum because it was edited by hand is taken as it is. Nothing is changed when nothing is wrong.
 */
export async function recoverDatabase(dir: string, keepSnapshot = false): Promise<Report> {
  const lock = await lockDirectory(dir);
  try {
    const checked = await checkDatabase(dir, keepSnapshot);
    const { tree, baseInfo, ...report } = checked;
    if (!tree || !baseInfo)
      throw new Error(`no snapshot in ${dir} can be read (${report.snapshotProblem ?? 'none found'}); there is nothing to rebuild from`);
    if (checked.healthy && checked.incomplete.length === 0 && !keepSnapshot) return report;
    const journals = await listJournals(dir);
    const newIndex = Math.max(baseInfo.info.journal, ...journals.map((j) => j.index)) + 1;
    const aside = join(dir, `damaged-${stamp()}`);
    await mkdirDurably(aside);
    const move = async (files: string[]) => {
      for (const file of files) await rename(file, join(aside, file.slice(dir.length + 1)));
      await fsyncDir(aside);
      await fsyncDir(dir);
    };
    // Damaged backups go aside first (a damaged database.xml lives on in the backup it shares its data with),
    // so that pruning cannot take them; nothing needs them.
    const dbFile = join(dir, DATABASE);
    await move(report.damagedFiles.filter((f) => f !== dbFile && !/journal\.\d+$/.test(f)));
    // Then the new snapshot, durably: should the power go now, it stands, and the journals before its own
    // (the damaged ones too) are not read again. Only then do the damaged journals go aside.
    await replaceWithBackup(dbFile, formatSnapshot(tree.root, newIndex, report.last), 5);
    const journal = await Journal.open(join(dir, `journal.${newIndex}`), report.last);
    await journal.close();
    await fsyncDir(dir);
    await move(report.damagedFiles.filter((f) => /journal\.\d+$/.test(f)));
    report.aside = aside;
    await writeFileDurably(join(aside, 'report.txt'), describeReport(report, true));
    await writeFileDurably(join(aside, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    return report;
  } finally {
    await lock.release();
  }
}

/** The report in words, for a person. */
export function describeReport(r: Report, recovered: boolean): string {
  const lines: string[] = [];
  const records = `${r.replayed} journal record${r.replayed === 1 ? '' : 's'}`;
  if (r.snapshotProblem) lines.push(`database.xml: ${r.snapshotProblem}`);
  if (!r.base) lines.push('No snapshot can be read: there is nothing to rebuild from.');
  else if (recovered)
    lines.push(`Rebuilt from ${r.base} and the ${records} after it that are intact; the last write kept is number ${r.last}.`);
  else if (r.healthy) lines.push(`Healthy: ${r.base} and the ${records} after it load; the last write is number ${r.last}.`);
  else
    lines.push(`Can be rebuilt from ${r.base} and the ${records} after it that are intact; the last write kept would be number ${r.last}.`);
  if (!r.healthy || recovered)
    lines.push(
      r.lost.length
        ? `${r.lost.length} stretch${r.lost.length === 1 ? '' : 'es'} of acknowledged writes ${recovered ? 'are' : 'would be'} lost:`
        : 'No acknowledged write is lost.',
    );
  for (const l of r.lost)
    lines.push(
      `LOST${l.numbers?.length ? ` write${l.numbers.length === 1 ? '' : 's'} ${l.numbers.join(', ')}` : ''}: ${l.where}: ${l.why}`,
    );
  for (const l of r.incomplete) lines.push(`${recovered ? 'Dropped' : 'To drop'}: ${l.where}: ${l.why}`);
  if (r.damagedFiles.length)
    lines.push(`Damaged: ${r.damagedFiles.join(', ')}${r.aside ? ` (kept aside in ${r.aside}, with this report)` : ''}`);
  if (!recovered && !r.healthy) lines.push('With the server stopped, `igor db recover` rebuilds it so.');
  if (!recovered && r.healthy && r.incomplete.length) lines.push('The server cuts the incomplete record off by itself when it starts.');
  return lines.join('\n') + '\n';
}
