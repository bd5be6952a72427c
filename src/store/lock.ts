/**
 * One process at a time per database directory: two writers would interleave their journals. The lock is
 * a file `igor.lock` holding the owner's pid, made with O_EXCL; one left by a process that is gone is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class DirectoryLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'igor.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => unlink(path).catch(() => {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new DirectoryLockedError(`${dir} is in use by process ${pid} (an igor server?); stop it first`);
      }
      await unlink(path).catch(() => {}); // left by a process that is gone
    }
  }
  throw new DirectoryLockedError(`could not lock ${dir}`);
}
