/**
 * Power cuts (issue #15): the server runs on a filesystem that keeps only what was made durable (powerfs.py,
 * over Debian's python3-llfuse: file data on fsync of the file, directory entries on fsync of the directory),
 * and the power goes — the filesystem process and the server are killed together — at first start, during
 * writes, and during snapshots. After each cut the server must start again, with every acknowledged write,
 * and a session key that is a key.
 *
 * Needs FUSE (/dev/fuse, fusermount3, python3-llfuse): see powerfs.ts.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ServerProcess, startServerProcess } from '../helpers.ts';
import { mountPowerFs, type PowerFs, powerSkip as skip } from './powerfs.ts';

const ROUNDS = Number(process.env['POWERLOSS_ROUNDS'] ?? 1);

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
  const setup = mountPowerFs;

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
