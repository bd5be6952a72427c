/**
 * Power cuts (issue #15): the server runs on a filesystem that keeps only what was made durable (powerfs.py,
 * over Debian's python3-llfuse: file data on fsync of the file, directory entries on fsync of the directory),
 * and the power goes — the filesystem process and the server are killed together — at first start, during
 * writes, and during snapshots. After each cut the server must start again, with every acknowledged write,
 * and a session key that is a key.
 *
 * Needs FUSE (/dev/fuse, fusermount3, python3-llfuse); skipped with a message where they are missing, except
 * under CI=true, where .ci/run installs them and the test must run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ServerProcess, startServerProcess, tempDir } from '../helpers.ts';

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
const skip = absent && process.env['CI'] !== 'true' ? `needs ${absent}` : false;
if (skip) console.log(`# power-loss test skipped: it ${skip}`);

/** More cuts for a longer run: POWERLOSS_ROUNDS=100 node test/run.js powerloss (a round takes a few seconds). */
const ROUNDS = Number(process.env['POWERLOSS_ROUNDS'] ?? 1);
/**
 * Each test's limit, there only to end a hang: nothing here waits for a time to pass (a cut comes after so many
 * acknowledged writes and saves), so a busy machine makes a round slower, never wrong.
 */
const LIMIT = 600_000 + ROUNDS * 60_000;

/** A child process's exit (or its failure to start), as a promise that settles either way. */
function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(`exited with ${code ?? signal}`));
    child.once('error', (err) => resolve(`could not be started: ${err.message}`));
  });
}

class PowerFs {
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

/**
 * Writes from several clients until stopped; what was acknowledged is in `acknowledged`. `after(n)` resolves once n
 * more writes than at its call have been acknowledged (or every client has stopped, the server being gone).
 */
function writers(url: string, acknowledged: Map<string, string>, label: string, count = 6) {
  let stopped = false;
  let made = 0;
  const waiting: { at: number; resolve: () => void }[] = [];
  const run = async (c: number) => {
    for (let i = 0; !stopped; i++) {
      const path = `/data/sandbox/${label}c${c}v${i}`;
      try {
        const res = await fetch(url + path, { method: 'PUT', body: `${label}-${c}-${i}`, headers: { 'content-type': 'text/plain' } });
        await res.text();
        if (res.status !== 200) continue;
        acknowledged.set(path, `${label}-${c}-${i}`);
        made++;
        for (const w of waiting.filter((w) => made >= w.at)) w.resolve();
      } catch {
        return; // the power went
      }
    }
  };
  const all = Promise.all(Array.from({ length: count }, (_, c) => run(c)));
  return {
    after: (n: number) => Promise.race([new Promise<void>((resolve) => waiting.push({ at: made + n, resolve })), all.then(() => {})]),
    stop: async () => {
      stopped = true;
      await all;
    },
  };
}

async function verify(url: string, acknowledged: Map<string, string>, what: string): Promise<void> {
  // One read of the whole sandbox: a long run (POWERLOSS_ROUNDS) acknowledges tens of thousands of writes.
  const res = await fetch(`${url}/data/sandbox`, { headers: { accept: 'application/json' } });
  const sandbox = ((await res.json()) as { sandbox: Record<string, unknown> }).sandbox;
  const missing: string[] = [];
  for (const [path, value] of acknowledged) {
    const found = sandbox[path.slice('/data/sandbox/'.length)];
    if (found !== value) missing.push(`${path}: ${JSON.stringify(found)}`);
  }
  assert.deepEqual(missing, [], `${what}: every acknowledged write survives the power cut`);
}

/** Keeps a copy of a database that would not start, for a person to look at, and says where. */
async function keep(dir: string): Promise<string> {
  const kept = await mkdtemp(join(tmpdir(), 'igor-powerloss-kept-'));
  await cp(dir, kept, { recursive: true });
  return `the database as the power cut left it is kept in ${kept}`;
}

describe('power cuts', { skip }, () => {
  const mounts: PowerFs[] = [];
  after(async () => {
    for (const fs of mounts) await fs.cut().catch(() => {});
  });

  async function setup(): Promise<{ fs: PowerFs; dir: string }> {
    const base = await tempDir('igor-power-');
    const fs = new PowerFs(join(base, 'state'), join(base, 'mnt'));
    await mkdir(fs.state, { recursive: true });
    await mkdir(fs.mount, { recursive: true });
    mounts.push(fs);
    await fs.start();
    return { fs, dir: join(fs.mount, 'db') };
  }

  /** Brings the power back after a cut and starts the server again; a database that will not start is kept. */
  async function restart(fs: PowerFs, dir: string, what: string): Promise<ServerProcess> {
    await fs.start();
    const again = await startServerProcess(dir).catch(async (err: Error) => assert.fail(`${what}: ${err.message}\n${await keep(dir)}`));
    const key = (await readFile(join(dir, 'secret.key'), 'utf8')).trim();
    assert.match(key, /^[0-9a-f]{64}$/, `${what}: the session key is a key`);
    return again;
  }

  it('at first start: the new database, its key and the first writes survive', { timeout: LIMIT }, async () => {
    // The power goes as soon as the server serves, and after its first, fifth and twentieth acknowledged write.
    for (const writes of [0, 1, 5, 20].slice(0, 2 + ROUNDS * 2)) {
      const { fs, dir } = await setup();
      const server = await startServerProcess(dir);
      const acknowledged = new Map<string, string>();
      const w = writers(server.url, acknowledged, `first${writes}`, 2);
      await w.after(writes);
      await fs.cut();
      await server.kill();
      await w.stop();
      const again = await restart(fs, dir, `after a cut ${writes} writes into the first start`);
      await verify(again.url, acknowledged, `a cut ${writes} writes into the first start`);
      await again.kill();
      await fs.cut();
    }
  });

  it('during writes: every acknowledged write survives', { timeout: LIMIT }, async () => {
    const { fs, dir } = await setup();
    let server = await startServerProcess(dir);
    const acknowledged = new Map<string, string>();
    for (let round = 0; round < 2 + ROUNDS; round++) {
      const w = writers(server.url, acknowledged, `w${round}`);
      await w.after(20 + (round % 6) * 25);
      await fs.cut();
      await server.kill();
      await w.stop();
      server = await restart(fs, dir, `after cut ${round + 1}`);
      await verify(server.url, acknowledged, `after cut ${round + 1}`);
    }
    assert.ok(acknowledged.size > 50, `enough writes were acknowledged (${acknowledged.size})`);
    console.log(`# power loss: ${acknowledged.size} acknowledged writes through ${2 + ROUNDS} cuts, all there`);
    await server.kill();
  });

  it('during snapshots: every acknowledged write survives, and the database opens', { timeout: LIMIT }, async () => {
    const { fs, dir } = await setup();
    let server = await startServerProcess(dir);
    const auth = `Basic ${Buffer.from(`admin:${server.password}`).toString('base64')}`;
    const acknowledged = new Map<string, string>();
    let saved = 0;
    for (let round = 0; round < 2 + ROUNDS; round++) {
      const w = writers(server.url, acknowledged, `s${round}`);
      let saving = true;
      // The power goes after some writes and one to three saves of this round, with the next save under way.
      const savesWanted = saved + 1 + (round % 3);
      let enoughSaved!: () => void;
      const savedEnough = new Promise<void>((resolve) => (enoughSaved = resolve));
      const url = server.url;
      const saves = (async () => {
        while (saving)
          await fetch(`${url}/internal/save`, { headers: { authorization: auth } })
            .then(async (r) => {
              await r.text();
              if (r.status !== 200) return;
              if (++saved >= savesWanted) enoughSaved();
            })
            .catch(() => (saving = false));
      })();
      await w.after(10 + (round % 8) * 15);
      await Promise.race([savedEnough, saves]);
      await fs.cut();
      await server.kill();
      saving = false;
      await w.stop();
      await saves;
      server = await restart(fs, dir, `after a cut during snapshots, round ${round + 1}`);
      await verify(server.url, acknowledged, `after a cut during snapshots, round ${round + 1}`);
    }
    console.log(`# power loss: ${2 + ROUNDS} cuts during ${saved} saves, ${acknowledged.size} acknowledged writes, all there`);
    await server.kill();
  });
});
