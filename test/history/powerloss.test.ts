/**
 * Power cuts under the history (test/store/powerfs.ts: a filesystem that keeps only what was fsynced, killed
 * with the server): sensors report while the power goes, three times, once during snapshots. After each cut
 * the history holds every acknowledged reading once, in order, and nothing that was never sent; the history
 * file opens again each time (SQLite's WAL, synchronous=FULL) and the recorder catches up from the journal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServerProcess, type ServerProcess, waitFor } from '../helpers.ts';
import { mountPowerFs, powerSkip } from '../store/powerfs.ts';
import { sqliteSkip } from './setup.ts';

const SENSORS = 6;

/** Per sensor: what was acknowledged, and what was sent and not answered (it may have reached the journal). */
type Sent = { acknowledged: number[]; unanswered: number[] }[];

function report(url: string, sent: Sent, round: number): { stop: () => Promise<void> } {
  let stopped = false;
  const run = async (c: number) => {
    for (let i = 0; !stopped; i++) {
      const value = round * 1_000_000 + i;
      sent[c]!.unanswered.push(value);
      try {
        const res = await fetch(`${url}/data/sensors/p${c}/v`, {
          method: 'PUT',
          body: String(value),
          headers: { 'content-type': 'text/plain' },
        });
        await res.text();
        if (res.status !== 200) return;
        sent[c]!.unanswered.pop();
        sent[c]!.acknowledged.push(value);
      } catch {
        return; // the power went
      }
    }
  };
  const all = Array.from({ length: SENSORS }, (_, c) => run(c));
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(all);
    },
  };
}

async function verify(server: ServerProcess, sent: Sent, what: string): Promise<number> {
  const res = await fetch(`${server.url}/history/sensors?from=0&points=10000`);
  assert.equal(res.status, 200, `${what}: ${await res.clone().text()}`);
  const { series } = (await res.json()) as { series: { path: string; points: [number, number][] }[] };
  for (const [c, s] of sent.entries()) {
    const got = series.find((x) => x.path === `sensors/p${c}/v`)?.points.map(([, v]) => v) ?? [];
    assert.deepEqual(
      got.filter((v) => !s.acknowledged.includes(v) && !s.unanswered.includes(v)),
      [],
      `${what}: nothing that was never sent`,
    );
    assert.deepEqual(new Set(got).size, got.length, `${what}: each reading once`);
    assert.deepEqual(
      got.filter((v) => s.acknowledged.includes(v)),
      s.acknowledged,
      `${what}: sensors/p${c}/v holds every acknowledged reading, in order`,
    );
  }
  return sent.reduce((n, s) => n + s.acknowledged.length, 0);
}

describe('the history through power cuts', { skip: powerSkip || sqliteSkip }, () => {
  it('holds every acknowledged reading once', { timeout: 180_000 }, async () => {
    const { fs, dir } = await mountPowerFs();
    const args = ['--no-auth'];
    let server = await startServerProcess(dir, args, { expectPassword: false });
    const sent: Sent = Array.from({ length: SENSORS }, () => ({ acknowledged: [], unanswered: [] }));
    for (let round = 0; round < 3; round++) {
      const writing = report(server.url, sent, round);
      let saving = round === 2; // the last round takes snapshots all the while: journals go as the history takes them
      const saves = (async () => {
        while (saving)
          await fetch(`${server.url}/internal/save`).then(
            (r) => r.text(),
            () => (saving = false),
          );
      })();
      // The power goes once every sensor has had readings acknowledged this round (more in later rounds).
      const enough = sent.map((s) => s.acknowledged.length + 10 + round * 10);
      await waitFor(() => sent.every((s, c) => s.acknowledged.length >= enough[c]!), 'readings to be acknowledged', 60_000);
      await fs.cut();
      await server.kill();
      saving = false;
      await writing.stop();
      await saves;
      await fs.start();
      server = await startServerProcess(dir, args, { expectPassword: false });
      const total = await verify(server, sent, `after cut ${round + 1}`);
      if (round === 2) console.log(`# history through power cuts: ${total} acknowledged readings through 3 cuts, each once`);
    }
    await server.kill();
  });
});
