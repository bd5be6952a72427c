/**
 * Sustained mixed load (issue #10): 200 concurrent clients for 60 s against a server in its own process —
 * reads (XML and JSON), durable writes to a bounded set of elements, and live-update listeners — printing errors, p99,
 * throughput, events delivered, and the server's memory at the start, middle and end.
 * Usage: node --import tsx bench/load.ts [--duration S] [--clients N] [--listeners N]
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startIgor } from './processes.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    clients: { type: 'string', default: '200' },
    listeners: { type: 'string', default: '40' },
  },
});
const duration = Number(values.duration);
const clients = Number(values.clients);
const listenerCount = Number(values.listeners);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const dir = await mkdtemp(join(tmpdir(), 'igor-load-'));
const server = await startIgor(dir);
const auth = server.adminAuthorization;
const pid = server.child.pid!;
try {
  await fetch(`${server.url}/data/sensors/load/value`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'text/plain' },
    body: '0',
  });
  await fetch(`${server.url}/data/sensors/load/log/entry`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'text/plain' },
    body: '0',
  });

  // Live-update listeners: each counts the events it gets.
  const aborts: AbortController[] = [];
  let events = 0;
  let listenerErrors = 0;
  for (let i = 0; i < listenerCount; i++) {
    const abort = new AbortController();
    aborts.push(abort);
    void fetch(`${server.url}/events?xpath=/data/sensors/load/value`, { headers: { authorization: auth }, signal: abort.signal })
      .then(async (res) => {
        if (res.status !== 200) throw new Error(String(res.status));
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          events += (
            Buffer.from(chunk)
              .toString()
              .match(/^event: change$/gm) ?? []
          ).length;
      })
      .catch((err: Error) => {
        if (err.name !== 'AbortError') listenerErrors++;
      });
  }

  const memory: [string, number][] = [['start', rssMiB(pid)]];
  const middle = setTimeout(() => memory.push(['middle', rssMiB(pid)]), (duration * 1000) / 2);
  let counter = 0;
  const result = await autocannon({
    url: server.url,
    connections: clients - listenerCount,
    duration,
    headers: { authorization: auth },
    requests: [
      { method: 'GET', path: '/data/sensors/load/value', headers: { accept: 'application/xml' } },
      { method: 'GET', path: '/data/sensors/load', headers: { accept: 'application/json' } },
      {
        method: 'PUT',
        path: '/data/sensors/load/value',
        headers: { 'content-type': 'text/plain' },
        setupRequest: (req) => ({ ...req, body: String(++counter) }),
      },
      { method: 'GET', path: '/data/sensors/load/value', headers: { accept: 'text/plain' } },
      // Writes to a bounded set of elements: the tree stays the same size, so memory growth would be a leak.
      {
        method: 'PUT',
        path: '/data/sandbox/log/entry',
        headers: { 'content-type': 'text/plain' },
        setupRequest: (req) => ({ ...req, path: `/data/sandbox/log/e${counter % 100}`, body: String(counter) }),
      },
    ],
  });
  clearTimeout(middle);
  memory.push(['end', rssMiB(pid)]);
  for (const a of aborts) a.abort();

  const errors = result.errors + result.timeouts + result.non2xx;
  console.log(
    `\nMixed load: ${clients} clients (${clients - listenerCount} making requests, ${listenerCount} listening to /events) for ${duration} s, node ${process.version}\n`,
  );
  console.log(
    `requests       ${result.requests.total} (${Math.round(result.requests.average)} req/s), errors ${errors} (non-2xx ${result.non2xx}, timeouts ${result.timeouts})`,
  );
  console.log(`latency        p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`);
  console.log(
    `live updates   ${events} events delivered to ${listenerCount} listeners (${listenerErrors} listener errors); ${counter} writes watched`,
  );
  console.log(`server memory  ${memory.map(([when, mib]) => `${when} ${mib} MiB`).join(', ')}`);
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
