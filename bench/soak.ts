/**
 * Does the server hold steady for days? (issue #21) A bounded soak of `node bin/igor.js serve`, run as a person
 * runs it, under a steady mixed load:
 * - 100 sensor readings a second written over REST (each replacing the last of its meter, as a home's sensors do)
 *   and 10 XPath reads a second, predicates included;
 * - two actions: one every 5 s copying a count into sandbox/, one on every change of a meter;
 * - 20 live-update (/events) clients reading everything, 5 of them replaced by new ones every minute;
 * - the `_fitbit` plugin fetching from a local Google (test/plugins/_fitbit/fakeGoogleHealth.ts) every 30 s,
 *   with new steps arriving there and access tokens that expire every 2 minutes, so refreshes happen too.
 *   (At about 120 bytes a journal record, that fills the 16 MB journal that triggers a snapshot in ~23 minutes.)
 * Every SAMPLE seconds it records the server's resident memory (VmRSS) and the sizes of its journal and snapshot
 * files, then prints the series and the slope of memory over the second half (least squares, MB per hour), both
 * for all of it and for its two parts (bench/residentMemory.ts), and what is left a minute after the load stops.
 * With --heap-snapshots DIR the server writes a V8 heap snapshot into DIR at a quarter of the run and at its end
 * (Node's --heapsnapshot-signal); `bench/heap-diff.ts` compares two by constructor, to tell growth from churn.
 * Usage: node --import tsx bench/soak.ts [--minutes 30] [--sample-seconds 60] [--quiet-seconds 60] [--heap-snapshots DIR]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { residentMemory } from './residentMemory.ts';
import { pluginSettings, startFakeGoogle } from '../test/plugins/_fitbit/fakeGoogleHealth.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string, fallback: number) =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback;
const MINUTES = arg('--minutes', 30);
const SAMPLE_S = arg('--sample-seconds', 60);
const QUIET_S = arg('--quiet-seconds', 60);
const METERS = 50;
const SNAPSHOTS = process.argv.includes('--heap-snapshots') ? process.argv[process.argv.indexOf('--heap-snapshots') + 1] : undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(dir: string): Promise<{ child: ChildProcess; url: string; auth: string }> {
  const port = 10000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['bin/igor.js', 'serve', '--database', dir, '--port', String(port), '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: SNAPSHOTS ? { ...process.env, NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${SNAPSHOTS}` } : process.env,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 1000 && !/with password: \S+\n/.test(out); i++) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${out}`);
    await sleep(20);
  }
  const password = /with password: (\S+)\n/.exec(out)?.[1];
  if (!password) throw new Error(`no admin password printed: ${out}`);
  return { child, url: `http://127.0.0.1:${port}`, auth: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
}

const dir = await mkdtemp(join(tmpdir(), 'igor-soak-'));
const google = await startFakeGoogle();
google.expiresIn = 120;
const server = await startServer(dir);
const counts = { writes: 0, reads: 0, events: 0, fetches: 0, failures: 0 };
/** Failed calls by status and path, to print: a soak that hides its errors measures nothing. */
const failed = new Map<string, number>();

async function call(path: string, init: RequestInit = {}, expect = 200): Promise<string> {
  const res = await fetch(server.url + path, { ...init, headers: { authorization: server.auth, ...init.headers } });
  const body = await res.text();
  if (res.status !== expect) {
    counts.failures++;
    const key = `${res.status} ${init.method ?? 'GET'} ${path.replace(/\d+/g, 'N')}: ${body.slice(0, 120)}`;
    failed.set(key, (failed.get(key) ?? 0) + 1);
    throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${body.slice(0, 300)}`);
  }
  return body;
}
const put = (path: string, body: string, type = 'application/xml') =>
  call(path, { method: 'PUT', body, headers: { 'content-type': type } });

// _fitbit against the local Google, authorised as admin (auth1 → Google → auth2, as a browser would go).
await call('/internal/plugins/_fitbit', { method: 'PUT' });
await call('/plugin/_fitbit/settings', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(pluginSettings(google)),
});
await call('/plugin/_fitbit/userSettings?user=admin&create=1', { method: 'POST' });
const toGoogle = await fetch(`${server.url}/plugin/_fitbit/auth1?user=admin`, {
  headers: { authorization: server.auth },
  redirect: 'manual',
});
const back = await fetch(toGoogle.headers.get('location')!, { redirect: 'manual' });
const callback = new URL(back.headers.get('location')!);
await call(callback.pathname + callback.search, { redirect: 'manual' }, 303);

// The actions.
for (const action of [
  '<action><name>soakCount</name><interval>5</interval><url>/data/sandbox/soakMeters</url><method>PUT</method><data>{count(/data/sensors/soak/*)}</data></action>',
  '<action><name>soakLast</name><xpath>/data/sensors/soak/m7</xpath><url>/data/sandbox/soakLast</url><method>PUT</method><data>{.}</data></action>',
]) {
  await call('/data/actions/action', { method: 'POST', body: action, headers: { 'content-type': 'application/xml' } });
}

/** A minute of new steps at the local Google, then `_fitbit` fetches them. */
async function newStepsFetched(count: number): Promise<void> {
  google.points.set('steps', [
    ...(google.points.get('steps') ?? []),
    { at: new Date(Date.now() - 60_000).toISOString(), end: new Date().toISOString(), offset: 3600, value: { count: String(count) } },
  ]);
  await call('/plugin/_fitbit?user=admin', { method: 'POST' });
}

// Every meter has a reading, and Fitbit's steps are there, before the reads start, so that a failed call is the
// server's doing, not the bench's.
for (let m = 0; m < METERS; m++) await put(`/data/sensors/soak/m${m}`, `<m${m}>20.00</m${m}>`);
await newStepsFetched(99);

const started = Date.now();
const end = started + MINUTES * 60_000;
const running = () => Date.now() < end;

/** Calls `step` `perSecond` times a second until the end, each one awaited (no pile-up if the server is slow). */
async function steady(perSecond: number, step: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; running(); i++) {
    const due = started + (i * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    await step(i).catch((err) => console.error(String(err)));
  }
}

const writing = steady(100, async (i) => {
  await put(`/data/sensors/soak/m${i % METERS}`, `<m${i % METERS}>${(20 + Math.sin(i / 100) * 5).toFixed(2)}</m${i % METERS}>`);
  counts.writes++;
});
const reading = steady(10, async (i) => {
  const paths = [
    '/data/sensors/soak/m3',
    `/data/sensors/soak/*[. > ${20 + (i % 5)}]?.VARIANT=multi`,
    '/data/sandbox/soakMeters',
    '/data/sensors/fitbit/admin/activities-steps',
  ];
  await call(paths[i % paths.length]!, { headers: { accept: 'application/json' } });
  counts.reads++;
});
const fetching = steady(1 / 30, async (i) => {
  await newStepsFetched(100 + i);
  counts.fetches++;
});

/** A live-update client reading until aborted. */
function listen(): AbortController {
  const abort = new AbortController();
  void fetch(`${server.url}/events?xpath=/data/sensors/soak/*`, { headers: { authorization: server.auth }, signal: abort.signal })
    .then(async (res) => {
      for await (const chunk of res.body!) counts.events += (chunk as Uint8Array).length > 0 ? 1 : 0;
    })
    .catch(() => {});
  return abort;
}
const listeners = Array.from({ length: 20 }, listen);
const churning = steady(1 / 60, async () => {
  for (const old of listeners.splice(0, 5)) old.abort();
  listeners.push(...Array.from({ length: 5 }, listen));
});

interface Sample {
  minute: number;
  rssMB: number;
  /** Resident anonymous memory (heaps: V8's and C's) apart from file pages (the node binary's code, mostly). */
  anonMB: number;
  fileMB: number;
  journalKB: number;
  snapshotKB: number;
}

async function sample(): Promise<Sample> {
  const memory = await residentMemory(server.child.pid!);
  let journal = 0;
  let snapshot = 0;
  for (const name of await readdir(dir)) {
    const size = (await stat(join(dir, name))).size;
    if (name.startsWith('journal.')) journal += size;
    else if (name.startsWith('database.xml')) snapshot += size;
  }
  return {
    minute: (Date.now() - started) / 60_000,
    rssMB: memory.rss,
    anonMB: memory.anon,
    fileMB: memory.file,
    journalKB: journal / 1024,
    snapshotKB: snapshot / 1024,
  };
}

/** Asks the server for a heap snapshot and waits until it is written (the server pauses while it writes). */
async function heapSnapshot(): Promise<void> {
  if (!SNAPSHOTS) return;
  const before = new Set(await readdir(SNAPSHOTS));
  server.child.kill('SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const fresh = (await readdir(SNAPSHOTS)).filter((name) => !before.has(name));
    // The file appears at once and fills; a response to a request means the server is back.
    if (fresh.length > 0 && (await fetch(`${server.url}/data/sandbox`, { headers: { authorization: server.auth } })).ok) {
      console.error(`heap snapshot ${join(SNAPSHOTS, fresh[0]!)}`);
      return;
    }
  }
}

const samples = [await sample()];
let snapshotted = false;
while (running()) {
  if (!snapshotted && Date.now() - started >= (MINUTES * 60_000) / 4) {
    snapshotted = true;
    await heapSnapshot();
  }
  await sleep(Math.min(SAMPLE_S * 1000, end - Date.now()));
  samples.push(await sample());
  const s = samples.at(-1)!;
  console.error(
    `${s.minute.toFixed(1)} min: ${s.rssMB.toFixed(1)} MB (anon ${s.anonMB.toFixed(1)}, file ${s.fileMB.toFixed(1)}), journals ${s.journalKB.toFixed(0)} KB, snapshots ${s.snapshotKB.toFixed(0)} KB`,
  );
}
await Promise.all([writing, reading, fetching, churning]);
for (const l of listeners) l.abort();
await heapSnapshot();
// A home's load comes in bursts: what the server gives back once the load is gone (V8's memory reducer acts
// after some quiet seconds).
const minutes = (Date.now() - started) / 60_000;
await sleep(QUIET_S * 1000);
const quiet = await residentMemory(server.child.pid!);

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length;
  const my = points.reduce((a, p) => a + p.y, 0) / points.length;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}
const secondHalf = samples.filter((s) => s.minute >= MINUTES / 2);
const slopeOf = (field: 'rssMB' | 'anonMB' | 'fileMB') => slope(secondHalf.map((s) => ({ x: s.minute / 60, y: s[field] })));

console.log(`soak of \`node bin/igor.js serve\` for ${minutes.toFixed(1)} min (Node ${process.versions.node})`);
console.log(
  `load: ${counts.writes} writes, ${counts.reads} reads, ${counts.fetches} _fitbit fetches, ${counts.events} event chunks, ${counts.failures} failed calls; Google token grants ${JSON.stringify(google.grants)}`,
);
for (const [what, n] of failed) console.log(`failed ${n}×: ${what}`);
const runs = JSON.parse(await call('/internal/actions', { headers: { accept: 'application/json' } })) as {
  ref: string;
  ok?: boolean;
  message?: string;
}[];
console.log(
  `actions' last runs: ${runs.map((r) => `${r.ref} ${r.ok === undefined ? 'not run' : r.ok ? 'ok' : `failed: ${r.message}`}`).join('; ')}`,
);
console.log('minute  RSS MB  anon MB  file MB  journals KB  snapshots KB');
for (const s of samples) {
  console.log(
    `${s.minute.toFixed(1).padStart(6)}  ${s.rssMB.toFixed(1).padStart(6)}  ${s.anonMB.toFixed(1).padStart(7)}  ${s.fileMB.toFixed(1).padStart(7)}  ${s.journalKB.toFixed(0).padStart(11)}  ${s.snapshotKB.toFixed(0).padStart(12)}`,
  );
}
console.log(
  `${QUIET_S} s after the load stopped: ${quiet.rss.toFixed(1)} MB (anon ${quiet.anon.toFixed(1)}, file ${quiet.file.toFixed(1)})`,
);
console.log(
  `memory slope over the second half: ${slopeOf('rssMB').toFixed(2)} MB per hour (anon ${slopeOf('anonMB').toFixed(2)}, file ${slopeOf('fileMB').toFixed(2)})`,
);

const exited = new Promise((r) => server.child.once('exit', r));
server.child.kill('SIGTERM');
await exited;
await rm(dir, { recursive: true, force: true });
process.exit(0);
