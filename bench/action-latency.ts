/**
 * Latency of running an action by name (issue 33): `GET /action/NAME` of a trivial action, one request at a time,
 * each on a new connection, as a script or a light switch calls it; p50, p90, p99 and the slowest, beside a plain
 * `GET /data/...` in the same run for scale. The server runs as `igor serve` in a process of its own.
 * Usage: node --import tsx bench/action-latency.ts [--requests N] [--rounds R]
 */
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startIgor } from './processes.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
const N = Number(values.requests);

/** One GET on a new connection (no keep-alive): milliseconds until the whole answer is in. */
function timedGet(url: string, authorization: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { authorization, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

function percentiles(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  const total = times.reduce((a, b) => a + b, 0);
  return `${(times.length / (total / 1000)).toFixed(0).padStart(5)} req/s  p50 ${at(0.5)}  p90 ${at(0.9)}  p99 ${at(0.99)}  max ${sorted.at(-1)!.toFixed(2)} ms`;
}

const dir = await mkdtemp(join(tmpdir(), 'igor-bench-action-'));
await writeFile(
  join(dir, 'database.xml'),
  `<?xml version="1.0"?>\n<data><environment/><sensors/><devices/><status/><sandbox><v>1</v></sandbox>` +
    `<actions><action><name>trivial</name><url>/data/sandbox/v</url></action></actions></data>\n`,
);
const server = await startIgor(dir);
console.log(`\n${N} sequential requests, each on a new connection (${values.rounds} rounds)\n`);
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const [what, path] of [
    ['GET /action/trivial', '/action/trivial'],
    ['GET /data/sandbox/v', '/data/sandbox/v'],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < N; i++) times.push(await timedGet(server.url + path, server.adminAuthorization));
    console.log(`round ${round}  ${what.padEnd(20)} ${percentiles(times)}`);
  }
}
await server.stop();
await rm(dir, { recursive: true, force: true });
