/**
 * How light the server is on the small box in the cupboard (issue #21): `node bin/igor.js serve` as a person
 * starts it, in a process of its own, with every shipped plugin installed.
 * - start to first answer: from spawning the process to the first 200 of GET /data/services/igor/version,
 *   median of ROUNDS starts;
 * - resident memory (VmRSS) 5 s after the first answer, and idle: after 2 minutes without a request, once V8's
 *   memory reducer has shrunk what start-up grew, also in its two parts (bench/residentMemory.ts); then with a
 *   100,000-element database, then with 100 live-update (/events) clients connected.
 * Usage: node --import tsx bench/footprint.ts [--rounds 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ResidentMemory, residentMemory } from './residentMemory.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = process.argv.includes('--rounds') ? Number(process.argv[process.argv.indexOf('--rounds') + 1]) : 5;
const QUIET_S = 120;
// Node reads NODE_EXTRA_CA_CERTS's certificates at every start, needed or not. Where a machine sets it for its
// own reasons (this one does, for its proxy), every Node process starts 150 ms later and holds 1.4 MB more;
// the server is measured as a home's box runs it, without.
const { NODE_EXTRA_CA_CERTS: extraCerts, ...HOME_ENV } = process.env;
const PLUGINS = ['hello', 'copytree', '_fitbit', 'misfit', 'pusher', 'submit'];

interface Started {
  child: ChildProcess;
  url: string;
  password?: string;
  ms: number;
}

async function start(dir: string, port: number, isNew = false): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/igor.js', 'serve', '--database', dir, '--port', String(port), '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: HOME_ENV,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/data/services/igor/version`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`the server exited: ${out}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - t0;
  if (child.exitCode !== null) throw new Error(`the server exited (port ${port} taken?): ${out}`);
  // A new database's admin password is printed once, after the first answer may already have come.
  for (let i = 0; i < 500 && isNew && !/with password: \S+\n/.test(out); i++) await new Promise((r) => setTimeout(r, 10));
  return { child, url, ms, password: /with password: (\S+)\n/.exec(out)?.[1] };
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = await mkdtemp(join(tmpdir(), 'igor-footprint-'));
// Below the range the system hands out for port 0 (32768 and up), where other servers on this machine land.
const port = 10000 + Math.floor(Math.random() * 20000);

// A database with every shipped plugin installed.
const first = await start(dir, port, true);
const admin = `Basic ${Buffer.from(`admin:${first.password}`).toString('base64')}`;
for (const p of PLUGINS) {
  const r = await fetch(`${first.url}/internal/plugins/${p}`, { method: 'PUT', headers: { authorization: admin } });
  if (r.status !== 200) throw new Error(`installing ${p}: ${r.status} ${await r.text()}`);
}
await stop(first);

const times: number[] = [];
let last: Started | undefined;
for (let i = 0; i < ROUNDS; i++) {
  if (last) await stop(last);
  last = await start(dir, port);
  times.push(last.ms);
}
const s = last!;
// Just started, V8's young generation is still as large as start-up made it; once the process has been quiet
// for a while, V8's memory reducer collects and shrinks it. When varies: 30 to 90 s after start here, later on a
// busy machine. Idle is that settled figure: the largest of the last five seconds of QUIET_S without a request.
await new Promise((r) => setTimeout(r, 5000));
const justStarted = (await residentMemory(s.child.pid!)).rss;
const quiet: ResidentMemory[] = [];
for (let i = 5; i < QUIET_S; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  quiet.push(await residentMemory(s.child.pid!));
}
const idle = quiet.slice(-5).reduce((a, b) => (b.rss > a.rss ? b : a));

// 100,000 elements more: 100 sensors of 1,000 readings.
for (let i = 0; i < 100; i++) {
  const readings = Array.from({ length: 999 }, (_, j) => `<v>${(j * 0.1).toFixed(1)}</v>`).join('');
  const r = await fetch(`${s.url}/data/sensors/bench/s${i}`, {
    method: 'PUT',
    headers: { authorization: admin, 'content-type': 'application/xml' },
    body: `<s${i}>${readings}</s${i}>`,
  });
  if (r.status !== 200) throw new Error(`${r.status} ${await r.text()}`);
}
const elements = Number(await (await fetch(`${s.url}/evaluate/count(//*)`, { headers: { authorization: admin } })).text());
await new Promise((r) => setTimeout(r, 3000));
const big = (await residentMemory(s.child.pid!)).rss;

// 100 live-update clients.
const streams: AbortController[] = [];
for (let i = 0; i < 100; i++) {
  const abort = new AbortController();
  streams.push(abort);
  const res = await fetch(`${s.url}/events?xpath=/data/sensors/bench/s${i % 100}`, {
    headers: { authorization: admin },
    signal: abort.signal,
  });
  void res.body
    ?.getReader()
    .read()
    .catch(() => {});
}
await new Promise((r) => setTimeout(r, 3000));
const withClients = (await residentMemory(s.child.pid!)).rss;
for (const a of streams) a.abort();

console.log(`footprint of \`node bin/igor.js serve\` with ${PLUGINS.length} shipped plugins installed (Node ${process.versions.node})`);
if (extraCerts) console.log(`(NODE_EXTRA_CA_CERTS is set here: the server was started without it)`);
console.log(`start to first answer: median ${median(times).toFixed(0)} ms (of ${ROUNDS}: ${times.map((t) => t.toFixed(0)).join(', ')})`);
console.log(
  `resident memory: 5 s after start ${justStarted.toFixed(1)} MB; idle (${QUIET_S} s) ${idle.rss.toFixed(1)} MB (anonymous ${idle.anon.toFixed(1)}, file pages ${idle.file.toFixed(1)}); with ${elements} elements ${big.toFixed(1)} MB; and 100 /events clients ${withClients.toFixed(1)} MB`,
);
await stop(s);
await rm(dir, { recursive: true, force: true });
