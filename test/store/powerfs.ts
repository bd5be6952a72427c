/**
 * The power-loss filesystem for tests (powerfs.py beside this file, over Debian's python3-llfuse): mounted in a
 * temporary directory, cut with SIGKILL (everything not made durable is lost), mounted again. Used by
 * test/store/powerloss.test.ts and test/history/powerloss.test.ts.
 *
 * Needs FUSE (/dev/fuse, fusermount3, python3-llfuse): `powerSkip` says what is missing (a test skips with it),
 * except under CI=true, where .ci/run installs them and the tests must run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup, tempDir } from '../helpers.ts';

const POWERFS = fileURLToPath(new URL('./powerfs.py', import.meta.url));
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const FUSERMOUNT = ['fusermount3', 'fusermount'].find((c) => spawnSync(c, ['-V']).status === 0);

function missing(): string | undefined {
  if (!existsSync('/dev/fuse')) return '/dev/fuse (the fuse kernel module)';
  if (!FUSERMOUNT) return 'fusermount3 (Debian package fuse3)';
  if (spawnSync(PYTHON, ['-c', 'import llfuse']).status !== 0) return 'llfuse for python3 (Debian package python3-llfuse)';
  return undefined;
}

const absent = missing();
export const powerSkip = absent && process.env['CI'] !== 'true' ? `needs ${absent}` : false;
if (powerSkip) console.log(`# power-loss tests skipped: they ${powerSkip}`);

/** A child process's exit (or its failure to start), as a promise that settles either way. */
function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(`exited with ${code ?? signal}`));
    child.once('error', (err) => resolve(`could not be started: ${err.message}`));
  });
}

export class PowerFs {
  private child: ChildProcess | undefined;
  private exited: Promise<string> | undefined;
  constructor(
    readonly state: string,
    readonly mount: string,
  ) {}

  /** Mounts the filesystem: resolves when powerfs says `ready` (the mount is there), rejects if it exits first. */
  async start(): Promise<void> {
    const child = spawn(PYTHON, [POWERFS, this.state, this.mount], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.exited = exitOf(child);
    await new Promise<void>((resolve, reject) => {
      let said = '';
      child.stdout!.on('data', (d: Buffer) => {
        said += d.toString();
        if (said.includes('ready\n')) resolve();
      });
      void this.exited!.then((how) => reject(new Error(`powerfs ${how} before mounting ${this.mount}: is FUSE usable here?`)));
    });
  }

  /** The power cut: the filesystem loses everything it did not make durable. */
  async cut(): Promise<void> {
    if (this.child && this.exited) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    spawnSync(FUSERMOUNT!, ['-u', '-z', this.mount]);
  }
}

/** A new power-loss filesystem, mounted; `dir` is where a database goes on it. Cut when the test file ends. */
export async function mountPowerFs(): Promise<{ fs: PowerFs; dir: string }> {
  const base = await tempDir('igor-power-');
  const fs = new PowerFs(join(base, 'state'), join(base, 'mnt'));
  await mkdir(fs.state, { recursive: true });
  await mkdir(fs.mount, { recursive: true });
  // Registered after tempDir's removal, so run before it: the filesystem is unmounted first.
  onCleanup(() => fs.cut().catch(() => {}));
  await fs.start();
  return { fs, dir: join(fs.mount, 'db') };
}
