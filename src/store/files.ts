/** Durable file operations: what "on disk" means for the store. */
import { open, rename, link, unlink, readdir } from 'node:fs/promises';
import { join, dirname, basename } from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
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
export async function replaceWithBackup(path: string, data: string, keep: number, now = new Date()): Promise<string> {
  const dir = dirname(path);
  const stamp = [now.getFullYear(), now.getMonth() + 1, now.getDate(), now.getHours(), now.getMinutes(), now.getSeconds()]
    .map((n, i) => String(n).padStart(i === 0 ? 4 : 2, '0'))
    .join('');
  let backup = `${path}.${stamp}`;
  for (let i = 1; ; i++) {
    try {
      await writeNewFile(backup, data);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i > 99) throw err;
      backup = `${path}.${stamp}.${i}`;
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
