/**
 * The snapshot file: Igor's database.xml, with a processing instruction after the XML declaration that says
 * which journal follows it, the number of the last journal record it holds, and a SHA-256 of the whole file
 * (computed with the checksum's own digits left out). A file without it is an Igor database, taken as is.
 *
 *   <?xml version="1.0" encoding="utf-8"?>
 *   <?igor-ts journal="3" last="1234" sha256="…"?>
 *   <data>…</data>
 *
 * A snapshot that does not match its checksum is damaged (or was edited by hand): it is never loaded as if
 * nothing happened; `igor db recover` rebuilds the database from an older one and the journals after it.
 */
import { hash } from 'node:crypto';
import { SHOW_ALL } from '../tree/dom.ts';
import { parseXml } from '../tree/parseXml.ts';
import { serialize } from '../tree/serialize.ts';

export interface SnapshotInfo {
  /** The first journal whose records come after this snapshot. */
  journal: number;
  /** The number of the last journal record this snapshot holds (0: none, or not known). */
  last: number;
  /** Whether the file carried a checksum (an Igor database does not). */
  checked: boolean;
  /** Whether the file is Igor's own (no <?igor-ts?> line): written by Igor, not by this server. */
  igor: boolean;
}

/** A snapshot that cannot be read as it was written; the message says how. */
export class DamagedSnapshotError extends Error {}

const CHECKSUM = /sha256="([0-9a-f]{64})"/;

function checksumOf(withoutDigits: Buffer): string {
  return hash('sha256', withoutDigits, 'hex');
}

export function formatSnapshot(root: Element, journal: number, last: number): Buffer {
  const placeholder = `<?xml version="1.0" encoding="utf-8"?>\n<?igor-ts journal="${journal}" last="${last}" sha256=""?>\n`;
  const body = `${serialize(root, { show: SHOW_ALL, indent: '\t' })}\n`;
  const sum = checksumOf(Buffer.from(placeholder + body, 'utf8'));
  return Buffer.from(placeholder.replace('sha256=""', `sha256="${sum}"`) + body, 'utf8');
}

/** What the processing instruction says, without checking anything else. */
export function snapshotHeader(head: string): Omit<SnapshotInfo, 'checked' | 'igor'> | undefined {
  const m = /<\?igor-ts ([^?]*)\?>/.exec(head);
  if (!m) return undefined;
  const journal = /journal="(\d+)"/.exec(m[1]!)?.[1];
  if (journal === undefined) return undefined;
  return { journal: Number(journal), last: Number(/last="(\d+)"/.exec(m[1]!)?.[1] ?? 0) };
}

/** Reads a snapshot, checking its checksum when it has one; throws DamagedSnapshotError when it is damaged. */
export function readSnapshot(bytes: Buffer, file: string): { doc: Document; info: SnapshotInfo } {
  const head = bytes.subarray(0, 512).toString('latin1');
  const sum = CHECKSUM.exec(head);
  if (sum) {
    const at = sum.index + 'sha256="'.length;
    const without = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 64)]);
    if (checksumOf(without) !== sum[1])
      throw new DamagedSnapshotError(`${file} does not match its checksum: it was damaged, or changed by hand`);
  } else if (/<\?igor-ts [^?]*(last=|sha256)/.test(head)) {
    // (A <?igor-ts journal="N"?> with neither is from before snapshots had checksums, and is taken as it is.)
    throw new DamagedSnapshotError(`${file} has lost its checksum: it was damaged, or changed by hand`);
  }
  let doc: Document;
  try {
    doc = parseXml(bytes.toString('utf8'), file);
  } catch (err) {
    throw new DamagedSnapshotError((err as Error).message);
  }
  const header = snapshotHeader(head);
  if (sum && !header) throw new DamagedSnapshotError(`${file}: its <?igor-ts?> line cannot be read`);
  return { doc, info: { journal: header?.journal ?? 0, last: header?.last ?? 0, checked: !!sum, igor: !header } };
}
