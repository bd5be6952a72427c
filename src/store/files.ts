/**
 * Durable file operations: what "on disk" means for the store. A file's data is fsynced before its name is
 * made durable (the rename, and the directory's fsync), in that order, so that a power cut leaves either the
 * old file or the whole new one, never a name that points at nothing.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes a directory and any missing parents, each made durable in its parent (the parent fsynced after the
 * child is made): a database directory made at first start must survive a power cut like its files.
 */
export async function mkdirDurably(dir: string): Promise<void> {
  const made: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const exists = await stat(d).then(
      () => true,
      () => false,
    );
    if (exists) break;
    made.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of made) {
    await mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await fsyncDir(dirname(d));
  }
}

/** Replaces (or creates) `path` with `data`: a temporary file written and fsynced, renamed, the directory fsynced. */
export async function writeFileDurably(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncDir(dirname(path));
}

/** The first bytes of a file, as text: enough for a snapshot's header. */
export async function readHead(path: string, bytes = 512): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}

/** Writes a new file and fsyncs it; the file must not exist yet. */
export async function writeNewFile(path: string, data: string | Buffer): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Igor's save scheme, made durable: the content goes to a new backup file `NAME.YYYYMMDDHHMMSS`, which is
 * then hard-linked into place as NAME by an atomic rename, so NAME is always either the old or the new
 * content, and the newest backup shares its inode. Only the newest `keep` backups are kept.
 */
export async function replaceWithBackup(path: string, data: string | Buffer, keep: number, now = new Date()): Promise<string> {
  const dir = dirname(path);
  const stamp = [now.getFullYear(), now.getMonth() + 1, now.getDate(), now.getHours(), now.getMinutes(), now.getSeconds()]
    .map((n, i) => String(n).padStart(i === 0 ? 4 : 2, '0'))
    .join('');
  // Several snapshots in one second get .1, .2 …, always above any of that second still kept: a name freed by
  // pruning must not come back, or the newest backup would sort as the oldest and be pruned at once.
  const sameSecond = (await listBackups(path)).map((b) => /\.(\d{14})(?:\.(\d+))?$/.exec(b)!).filter((m) => m[1] === stamp);
  let i = sameSecond.length ? Math.max(...sameSecond.map((m) => Number(m[2] ?? 0))) + 1 : 0;
  let backup = i ? `${path}.${stamp}.${i}` : `${path}.${stamp}`;
  for (;;) {
    try {
      await writeNewFile(backup, data);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 999) throw err;
      backup = `${path}.${stamp}.${++i}`;
    }
  }
  const temp = `${path}.linking`;
  await unlink(temp).catch(() => {});
  await link(backup, temp);
  await rename(temp, path);
  await fsyncDir(dir);
  const backups = await listBackups(path);
  for (const old of backups.slice(keep)) await unlink(join(dir, old)).catch(() => {});
  return backup;
}

/** Backup files of `path`, newest first. */
export async function listBackups(path: string): Promise<string[]> {
  const name = basename(path);
  const pattern = new RegExp(`^${name.replace(/\./g, '\\.')}\\.\\d{14}(\\.\\d+)?$`);
  const entries = await readdir(dirname(path));
  return entries
    .filter((e) => pattern.test(e))
    .sort((a, b) => {
      const [, sa = '', na = '0'] = /\.(\d{14})(?:\.(\d+))?$/.exec(a) ?? [];
      const [, sb = '', nb = '0'] = /\.(\d{14})(?:\.(\d+))?$/.exec(b) ?? [];
      return sa === sb ? Number(nb) - Number(na) : sa < sb ? 1 : -1;
    });
}
