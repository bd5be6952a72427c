/**
 * One process at a time per database directory: two writers would interleave their journals. The lock is
 * a file `igor.lock` holding the owner's pid, made with O_EXCL; one left by a process that is gone is taken over.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';

export class DirectoryLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks this process holds: a lock file with our own pid is stale (a container restarts as pid 1) unless it is here. */
const held = new Set<string>();

export interface DirectoryLock {
  /** Removes the lock file. */
  release(): Promise<void>;
  /** Leaves the lock file as a crash would, and lets this process take the directory again (for crash tests). */
  abandon(): void;
}

export async function lockDirectory(dir: string): Promise<DirectoryLock> {
  const path = resolve(dir, 'igor.lock');
  if (held.has(path)) throw new DirectoryLockedError(`${dir} is in use by this process already`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      held.add(path);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return {
        release: () => {
          held.delete(path);
          return unlink(path).catch(() => {});
        },
        abandon: () => held.delete(path),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (held.has(path) || (pid && pid !== process.pid && alive(pid))) {
        throw new DirectoryLockedError(`${dir} is in use by process ${pid} (an igor server?); stop it first`);
      }
      await unlink(path).catch(() => {}); // left by a process that is gone
    }
  }
  throw new DirectoryLockedError(`could not lock ${dir}`);
}
