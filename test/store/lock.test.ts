/**
 * The database directory's lock (src/store/lock.ts): two live processes never hold one directory, and nothing
 * a dead one left — before a reboot, as a zombie, under a pid handed out again, as a container's pid 1 — keeps
 * the next server from starting. Each case with real processes: servers, `sleep`, a zombie, init.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PACKAGE_DIR } from '../../src/server.ts';
import { linuxProbe, lockDirectory, psProbe, type ProcessIdentity, type ProcessProbe } from '../../src/store/lock.ts';
import { startServerProcess, tempDir, waitFor } from '../helpers.ts';

const HOLDER = fileURLToPath(new URL('./lockHolder.ts', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** A process, and its output line by line (the holder's `locked PID` or `refused …`). */
interface Started {
  child: ChildProcess;
  /** The first line not yet taken; rejects if the process exits first. */
  line(): Promise<string>;
}

function start(command: string, args: string[]): Started {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`${command} exited (${code ?? signal}); it said: ${out}`))),
  );
  exited.catch(() => {});
  const reader = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    line: () =>
      Promise.race([
        reader.next().then((r) => {
          if (r.done) throw new Error(`${command} closed its output; it said: ${out}`);
          out += `${r.value}\n`;
          return r.value;
        }),
        exited,
      ]),
  };
}

/** Starts a process and resolves with its first line of output. */
async function started(command: string, args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const s = start(command, args);
  return { child: s.child, line: await s.line() };
}

function holder(dir: string): Promise<{ child: ChildProcess; line: string }> {
  return started(process.execPath, ['--import', 'tsx', HOLDER, dir]);
}

/** A live process unrelated to igor: the kind that gets an old pid after a reboot. */
async function sleeper(): Promise<number> {
  const { line } = await started('sh', ['-c', 'echo $$; exec sleep 600']);
  return Number(line);
}

async function identityOf(pid: number): Promise<ProcessIdentity> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
  const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'latin1')).trim();
  return { pid, start, boot };
}

/** When a process started, in seconds since 1970, as ps counts it (boot time plus its start in clock ticks). */
async function psStartOf(pid: number): Promise<number> {
  const btime = Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'latin1'))![1]);
  return Math.round(btime + (await identityOf(pid)).start / 100);
}

const entry = (who: ProcessIdentity) => `igor.lock.${who.pid}-${who.start}-${who.boot}`;
const entries = async (dir: string) => (await readdir(dir)).filter((n) => n.startsWith('igor.lock'));

/** Takes and releases the lock, and says which entries it saw before. */
async function takes(dir: string, probe?: ProcessProbe): Promise<void> {
  const lock = await lockDirectory(dir, probe);
  const self = await (probe ?? linuxProbe).self();
  assert.deepEqual(await entries(dir), [entry(self)], 'only our own entry is left');
  await lock.release();
  assert.deepEqual(await entries(dir), []);
}

describe('two live processes on one directory', () => {
  it('a second server is refused, saying by which process; once the first is killed, the next one starts', {
    timeout: 60_000,
  }, async () => {
    const dir = await tempDir();
    const first = await startServerProcess(dir);
    const second = await startServerProcess(dir).then(
      () => assert.fail('a second server started on a directory in use'),
      (err: Error) => err.message,
    );
    assert.match(second, /exited with 1 before serving/);
    assert.match(second, /is in use by process \d+ \(an igor server\?\); stop it first/);
    await first.kill(); // SIGKILL: nothing is cleaned up
    assert.equal((await entries(dir)).length, 1, 'the killed server left its entry');
    const third = await startServerProcess(dir);
    await third.kill();
  });

  it('`igor token` and `igor user` refuse a directory a running server holds', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const server = await startServerProcess(dir);
    for (const args of [
      ['token', 'list'],
      ['user', 'list'],
    ]) {
      const run = spawn(process.execPath, [join(PACKAGE_DIR, 'bin/igor.js'), ...args, '--database', dir], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      run.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise((resolve) => run.once('exit', resolve));
      assert.equal(code, 1, `igor ${args.join(' ')}: ${err}`);
      assert.match(err, /is in use by process \d+.*a running server holds it: use --url and --credentials/);
    }
    await server.kill();
  });

  it('of two processes taking the lock at the same moment, never both get it', { timeout: 120_000 }, async () => {
    for (let round = 0; round < 8; round++) {
      const dir = await tempDir();
      const both = await Promise.all([holder(dir), holder(dir)]);
      const locked = both.filter((h) => h.line.startsWith('locked'));
      assert.ok(locked.length <= 1, `round ${round}: ${both.map((h) => h.line).join(' / ')}`);
      for (const h of both) h.child.stdin!.end();
      await Promise.all(both.map((h) => (h.child.exitCode === null ? new Promise((r) => h.child.once('exit', r)) : undefined)));
    }
  });
});

describe('what a dead process left never keeps the directory', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  it('an entry from before a reboot, even one naming a process that runs now with that very start time', async () => {
    const dir = await tempDir();
    const init = await identityOf(1);
    await writeFile(join(dir, entry({ ...init, boot: '00000000-0000-4000-8000-000000000000' })), '1\n');
    await takes(dir);
  });

  it('an entry of a zombie: killed, not yet reaped by its parent', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    // sh starts the holder and becomes `sleep`, which never reaps it: killed, the holder stays a zombie.
    const sh = start('sh', ['-c', `"${process.execPath}" --import tsx "${HOLDER}" "${dir}" --forever & echo $!; exec sleep 600`]);
    const pid = Number(await sh.line());
    assert.equal(await sh.line(), `locked ${pid}`);
    const psStart = await psStartOf(pid);
    assert.ok(await psProbe.running({ pid, start: psStart, boot: 'any' }), 'ps sees the holder running');
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await readFile(`/proc/${pid}/stat`, 'latin1')).includes(') Z '), 'the holder to be a zombie');
    await takes(dir);
    assert.match(await readFile(`/proc/${pid}/stat`, 'latin1'), /\) Z /, 'still a zombie while the lock was taken');
    assert.ok(!(await psProbe.running({ pid, start: psStart, boot: 'any' })), 'nor does ps take a zombie for running');
  });

  it('an entry whose pid now belongs to an unrelated process (a `sleep`)', async () => {
    const dir = await tempDir();
    const sleep = await identityOf(await sleeper());
    await writeFile(join(dir, entry({ ...sleep, start: sleep.start - 1 })), `${sleep.pid}\n`);
    await takes(dir);
  });

  it('an igor.lock of an earlier version naming a `sleep`; one naming a live igor server still counts', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'igor.lock'), `${await sleeper()}\n`);
    await takes(dir);

    const serving = await tempDir();
    const server = await startServerProcess(serving);
    const [own] = await entries(serving);
    const pid = Number(/^igor\.lock\.(\d+)-/.exec(own!)![1]);
    const other = await tempDir();
    await writeFile(join(other, 'igor.lock'), `${pid}\n`);
    await assert.rejects(lockDirectory(other), new RegExp(`in use by process ${pid}`));
    await server.kill();
    await takes(other);
  });

  it("a container's pid 1 from an earlier start, and an entry naming this process's own pid from another start", async () => {
    const dir = await tempDir();
    const init = await identityOf(1);
    const self = await identityOf(process.pid);
    await writeFile(join(dir, entry({ ...init, start: init.start + 7 })), '1\n');
    await writeFile(join(dir, entry({ ...self, start: self.start - 3 })), `${self.pid}\n`);
    await takes(dir);
  });

  it('a live process with the right pid, start and boot is a holder', async () => {
    const dir = await tempDir();
    const sleep = await identityOf(await sleeper());
    await writeFile(join(dir, entry(sleep)), `${sleep.pid}\n`);
    await assert.rejects(lockDirectory(dir), new RegExp(`in use by process ${sleep.pid}`));
    assert.deepEqual(await entries(dir), [entry(sleep)], 'a refused opener leaves nothing behind');
  });
});

describe('without /proc: ps tells the state and age of a pid', { skip: process.platform !== 'linux' && 'compared with /proc' }, () => {
  it('sees this process and a live `sleep`; not the same pid with another start, nor a dead pid', { timeout: 30_000 }, async () => {
    const self = await psProbe.self();
    assert.ok(await psProbe.running(self));
    const pid = await sleeper();
    const sleep = { pid, start: await psStartOf(pid), boot: 'any' };
    assert.ok(await psProbe.running(sleep), 'a running sleep');
    assert.ok(!(await psProbe.running({ ...sleep, start: sleep.start - 3600 })), 'the same pid, an hour earlier');
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !(await psProbe.commandLine(pid)), 'the sleep to be gone');
    assert.ok(!(await psProbe.running(sleep)));

    const dir = await tempDir();
    await writeFile(join(dir, entry({ ...sleep, start: sleep.start - 3600 })), `${pid}\n`);
    await takes(dir, psProbe);
  });
});
