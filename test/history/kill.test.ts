/**
 * kill -9 of a real server (without authentication, which is not what this is about) while sensors report: after each restart the history holds every acknowledged
 * reading once, in order (and a reading under way when the process died at most once, at the end of its round).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServerProcess, tempDir, waitFor } from '../helpers.ts';
import { sqliteSkip } from './setup.ts';

const ROUNDS = Number(process.env['CRASH_ROUNDS'] ?? 3);
const CLIENTS = 8;

/** Per sensor, what each round had acknowledged and what was under way when the server died. */
interface Sent {
  acknowledged: number[];
  underWay: number[];
}

async function report(url: string, sent: Sent[], round: number, stopped: () => boolean): Promise<void> {
  await Promise.all(
    sent.map(async (s, c) => {
      for (let i = 0; !stopped(); i++) {
        const value = round * 1_000_000 + i;
        s.underWay.push(value);
        try {
          const res = await fetch(`${url}/data/sensors/k${c}/v`, {
            method: 'PUT',
            body: String(value),
            headers: { 'content-type': 'text/plain' },
          });
          await res.text();
          if (res.status !== 200) throw new Error(`PUT answered ${res.status}`);
          s.underWay.pop();
          s.acknowledged.push(value);
        } catch (err) {
          if (!stopped()) throw err;
          return;
        }
      }
    }),
  );
}

describe('the history after kill -9', { skip: sqliteSkip }, () => {
  it(`holds every acknowledged reading once, over ${ROUNDS} kills`, { timeout: 60_000 + ROUNDS * 20_000 }, async () => {
    const dir = await tempDir();
    const sent: Sent[] = Array.from({ length: CLIENTS }, () => ({ acknowledged: [], underWay: [] }));
    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServerProcess(dir, ['--no-auth'], { expectPassword: false });
      let stop = false;
      const writing = report(server.url, sent, round, () => stop);
      // Killed once every sensor has had readings acknowledged this round (more in later rounds).
      const enough = sent.map((s) => s.acknowledged.length + 10 + round * 10);
      await waitFor(() => sent.every((s, c) => s.acknowledged.length >= enough[c]!), 'readings to be acknowledged', 30_000);
      stop = true;
      await server.kill();
      await writing;
    }
    const server = await startServerProcess(dir, ['--no-auth'], { expectPassword: false });
    const res = await fetch(`${server.url}/history/sensors?from=0&points=10000`);
    assert.equal(res.status, 200, await res.clone().text());
    const answer = (await res.json()) as { series: { path: string; points: [number, number][] }[] };
    let total = 0;
    for (const [c, s] of sent.entries()) {
      const got = answer.series.find((x) => x.path === `sensors/k${c}/v`)?.points.map(([, v]) => v) ?? [];
      // What is not acknowledged may be there (it reached the journal), at most once; nothing else may.
      const expected = got.filter((v) => s.acknowledged.includes(v) || s.underWay.includes(v));
      assert.deepEqual(got, expected, `sensors/k${c}/v holds nothing that was not sent`);
      assert.deepEqual(
        got.filter((v) => s.acknowledged.includes(v)),
        s.acknowledged,
        `sensors/k${c}/v holds every acknowledged reading once, in order`,
      );
      total += s.acknowledged.length;
    }
    assert.ok(total > 100, `enough readings were acknowledged (${total})`);
    console.log(`# history after kill -9: ${total} acknowledged readings through ${ROUNDS} kills, each once`);
    await server.kill();
  });
});
