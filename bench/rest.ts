/**
 * REST throughput and latency, printed as a table with ratios (issue #2's targets):
 * - GET of one sensor value (XML and JSON), durable PUT of a changing value, POST append,
 *   each on a small database and on one with 100,000 elements;
 * - bare express hello-world on the same machine as the ceiling.
 * The servers run in child processes; autocannon runs here. Usage: npm run bench -- [--duration S] [--connections N]
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startIgor, startProcess, type IgorProcess } from './processes.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    // Only the comparison of GET with and without access control, in this many alternated rounds.
    'access-only': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);

interface Result {
  name: string;
  rps: number;
  p99: number;
  errors: number;
}

async function load(name: string, opts: autocannon.Options): Promise<Result> {
  const r = await autocannon({ connections, duration, pipelining: 1, ...opts });
  const errors = r.errors + r.timeouts + r.non2xx;
  return { name, rps: r.requests.average, p99: r.latency.p99, errors };
}

/** A database with `sensors` sensors of `readings` readings each, plus the values the benchmark reads. */
async function makeDatabase(sensors: number, readings: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'igor-bench-'));
  const parts: string[] = [];
  for (let s = 0; s < sensors; s++) {
    parts.push(`<s${s}>`);
    for (let r = 0; r < readings; r++) parts.push(`<reading><dateTime>2026-01-01T00:00:${r % 60}</dateTime><value>${r}</value></reading>`);
    parts.push(`</s${s}>`);
  }
  await writeFile(
    join(dir, 'database.xml'),
    `<?xml version="1.0"?>\n<data xmlns:au="http://jackjansen.nl/igor/authentication" xmlns:own="http://jackjansen.nl/igor/owner"><environment/><status/><sensors><test><value>42</value></test>${parts.join('')}</sensors><sandbox/></data>\n`,
  );
  return dir;
}

/** Every request logs in as admin with HTTP Basic, as a real client of sensor data would (sensors/ is not public). */
async function igorCases(label: string, server: IgorProcess): Promise<Result[]> {
  let counter = 0;
  const auth = { authorization: server.adminAuthorization };
  return [
    await load(`GET XML ${label}`, { url: `${server.url}/data/sensors/test/value`, headers: auth }),
    await load(`GET JSON ${label}`, { url: `${server.url}/data/sensors/test/value`, headers: { ...auth, accept: 'application/json' } }),
    await load(`PUT ${label}`, {
      url: `${server.url}/data/sandbox/counter`,
      method: 'PUT',
      headers: { ...auth, 'content-type': 'text/plain', accept: 'text/plain' },
      requests: [{ setupRequest: (req) => ({ ...req, body: String(counter++) }) }],
    }),
    await load(`POST ${label}`, {
      url: `${server.url}/data/sandbox/log/entry`,
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain', accept: 'text/plain' },
      body: 'entry',
    }),
  ];
}

const results: Result[] = [];
const dirs: string[] = [];
if (!values['access-only']) {
  const bare = await startProcess(['--import', 'tsx', 'bench/bare-express.ts']);
  results.push(await load('bare express hello', { url: `${bare.url}/` }));
  await bare.stop();
  dirs.push(await makeDatabase(0, 0), await makeDatabase(1000, 33)); // 1000 × (reading + dateTime + value) ≈ 100,000 elements
  for (const [label, dir] of [
    ['small', dirs[0]!],
    ['100k', dirs[1]!],
  ] as const) {
    const server = await startIgor(dir);
    results.push(...(await igorCases(label, server)));
    await server.stop();
  }
}
const rounds = Number(values.rounds);
// What the access rules cost (issue #14: GET with them ≥ 90% of GET without): the same read against two
// servers on the same fresh database, one with and one without access control, alternated in short rounds so
// that drift of the machine falls on both. Besides requests per second, the CPU time each server spends per
// request (from /proc): the load generator shares the two cores, so that is the steadier figure.
const cost: { name: string; ratio: number; auth: number; open: number; authCpu: number; openCpu: number }[] = [];
{
  const fresh = [await makeDatabase(0, 0), await makeDatabase(0, 0)];
  const [withAuth, without] = [await startIgor(fresh[0]!), await startIgor(fresh[1]!, [], ['--no-auth'])];
  const cpuMs = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const round = async (server: IgorProcess, accept: string) => {
    const before = cpuMs(server.child.pid!);
    // The same headers to both: the load generator must not work less for one.
    const r = await autocannon({
      url: `${server.url}/data/sensors/test/value`,
      connections,
      duration: Math.max(2, Math.round(duration / 2)),
      headers: { authorization: withAuth.adminAuthorization, accept },
    });
    return { rps: r.requests.average, cpuUs: ((cpuMs(server.child.pid!) - before) * 1000) / Math.max(1, r.requests.total) };
  };
  for (const [name, accept] of [
    ['GET XML', 'application/xml'],
    ['GET JSON', 'application/json'],
  ] as const) {
    const auth: { rps: number; cpuUs: number }[] = [];
    const open: { rps: number; cpuUs: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      auth.push(await round(withAuth, accept));
      open.push(await round(without, accept));
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    cost.push({
      name,
      auth: median(auth.map((a) => a.rps)),
      open: median(open.map((o) => o.rps)),
      ratio: median(auth.map((a, i) => a.rps / open[i]!.rps)),
      authCpu: median(auth.map((a) => a.cpuUs)),
      openCpu: median(open.map((o) => o.cpuUs)),
    });
  }
  await withAuth.stop();
  await without.stop();
  dirs.push(...fresh);
}
for (const dir of dirs) await rm(dir, { recursive: true, force: true });

const ceiling = results[0]?.rps ?? 1;
const byName = new Map(results.map((r) => [r.name, r]));
console.log(
  `\nREST benchmark: ${connections} connections, ${duration} s each, node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`,
);
if (results.length) console.log('case                  req/s    p99 ms  errors  vs express  100k/small');
for (const r of results) {
  const small = r.name.endsWith(' 100k') ? byName.get(r.name.replace(' 100k', ' small')) : undefined;
  console.log(
    `${r.name.padEnd(20)} ${r.rps.toFixed(0).padStart(7)} ${r.p99.toFixed(1).padStart(8)} ${String(r.errors).padStart(7)} ${(r.rps / ceiling).toFixed(2).padStart(11)} ${small ? (r.rps / small.rps).toFixed(2).padStart(11) : ''}`,
  );
}
console.log(`\naccess control, alternated in ${rounds} rounds (medians): with HTTP Basic as admin / --no-auth`);
for (const c of cost) {
  console.log(
    `${c.name.padEnd(20)} ${c.auth.toFixed(0).padStart(7)} / ${c.open.toFixed(0).padStart(7)} req/s = ${c.ratio.toFixed(2)};  server CPU ${c.authCpu.toFixed(0)} / ${c.openCpu.toFixed(0)} µs per request = ${(c.openCpu / c.authCpu).toFixed(2)}`,
  );
}
