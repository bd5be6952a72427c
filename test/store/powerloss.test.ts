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
import { mkdir, readFile, rm } from 'node:fs/promises';
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

const ROUNDS = Number(process.env['POWERLOSS_ROUNDS'] ?? 1);

class PowerFs {
  private child: ChildProcess | undefined;
  constructor(
    readonly state: string,
    readonly mount: string,
  ) {}

  async start(): Promise<void> {
    await rm(join(this.state, 'ready'), { force: true });
    const child = spawn(PYTHON, [POWERFS, this.state, this.mount], { stdio: ['ignore', 'ignore', 'inherit'] });
    this.child = child;
    for (let i = 0; i < 200 && !existsSync(join(this.state, 'ready')); i++) {
      if (child.exitCode !== null) throw new Error(`powerfs exited with ${child.exitCode}: is FUSE usable here?`);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(existsSync(join(this.state, 'ready')), 'powerfs mounted');
  }

  /** The power cut: the filesystem loses everything it did not make durable. */
  async cut(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    spawnSync(FUSERMOUNT!, ['-u', '-z', this.mount]);
  }
}

/** Writes from several clients until stopped; what was acknowledged is in `acknowledged`. */
function writers(url: string, acknowledged: Map<string, string>, label: string, count = 6): { stop: () => Promise<void> } {
  let stopped = false;
  const run = async (c: number) => {
    for (let i = 0; !stopped; i++) {
      const path = `/data/sandbox/${label}c${c}v${i}`;
      try {
        const res = await fetch(url + path, { method: 'PUT', body: `${label}-${c}-${i}`, headers: { 'content-type': 'text/plain' } });
        await res.text();
        if (res.status === 200) acknowledged.set(path, `${label}-${c}-${i}`);
      } catch {
        return; // the power went
      }
    }
  };
  const all = Array.from({ length: count }, (_, c) => run(c));
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(all);
    },
  };
}

async function verify(url: string, acknowledged: Map<string, string>, what: string): Promise<void> {
  const missing: string[] = [];
  for (const [path, value] of acknowledged) {
    const res = await fetch(url + path, { headers: { accept: 'text/plain' } });
    const text = (await res.text()).trim();
    if (res.status !== 200 || text !== value) missing.push(`${path}: ${res.status} ${text}`);
  }
  assert.deepEqual(missing, [], `${what}: every acknowledged write survives the power cut`);
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

  /** Cuts the power under a running server, brings everything back, and starts the server again. */
  async function cutAndRestart(fs: PowerFs, server: ServerProcess, dir: string): Promise<ServerProcess> {
    await fs.cut();
    await server.kill();
    await fs.start();
    const again = await startServerProcess(dir);
    const key = (await readFile(join(dir, 'secret.key'), 'utf8')).trim();
    assert.match(key, /^[0-9a-f]{64}$/, 'the session key is a key');
    return again;
  }

  it('at first start: the new database, its key and the first writes survive', { timeout: 120_000 }, async () => {
    for (const delay of [0, 30, 150, 400].slice(0, 2 + ROUNDS * 2)) {
      const { fs, dir } = await setup();
      const server = await startServerProcess(dir);
      const acknowledged = new Map<string, string>();
      const w = writers(server.url, acknowledged, `first${delay}`, 2);
      await new Promise((r) => setTimeout(r, delay));
      await fs.cut();
      await server.kill();
      await w.stop();
      await fs.start();
      const again = await startServerProcess(dir).catch((err: Error) =>
        assert.fail(`after a cut ${delay} ms into the first start: ${err.message}`),
      );
      assert.match((await readFile(join(dir, 'secret.key'), 'utf8')).trim(), /^[0-9a-f]{64}$/);
      await verify(again.url, acknowledged, `a cut ${delay} ms into the first start`);
      await again.kill();
      await fs.cut();
    }
  });

  it('during writes: every acknowledged write survives', { timeout: 180_000 }, async () => {
    const { fs, dir } = await setup();
    let server = await startServerProcess(dir);
    const acknowledged = new Map<string, string>();
    for (let round = 0; round < 2 + ROUNDS; round++) {
      const w = writers(server.url, acknowledged, `w${round}`);
      await new Promise((r) => setTimeout(r, 300 + round * 170));
      server = await cutAndRestart(fs, server, dir).finally(() => w.stop());
      await verify(server.url, acknowledged, `after cut ${round + 1}`);
    }
    assert.ok(acknowledged.size > 50, `enough writes were acknowledged (${acknowledged.size})`);
    console.log(`# power loss: ${acknowledged.size} acknowledged writes through ${2 + ROUNDS} cuts, all there`);
    await server.kill();
  });

  it('during snapshots: every acknowledged write survives, and the database opens', { timeout: 180_000 }, async () => {
    const { fs, dir } = await setup();
    let server = await startServerProcess(dir);
    const auth = `Basic ${Buffer.from(`admin:${server.password}`).toString('base64')}`;
    const acknowledged = new Map<string, string>();
    for (let round = 0; round < 2 + ROUNDS; round++) {
      const w = writers(server.url, acknowledged, `s${round}`);
      let saving = true;
      const saves = (async () => {
        while (saving)
          await fetch(`${server.url}/internal/save`, { headers: { authorization: auth } })
            .then((r) => r.text())
            .catch(() => (saving = false));
      })();
      await new Promise((r) => setTimeout(r, 250 + round * 130));
      server = await cutAndRestart(fs, server, dir).finally(async () => {
        saving = false;
        await w.stop();
        await saves;
      });
      await verify(server.url, acknowledged, `after a cut during snapshots, round ${round + 1}`);
    }
    await server.kill();
  });
});
