/**
 * The history (issue 31), measured:
 * 1. what recording costs durable PUTs: two servers on fresh databases, one recording each PUT's value and one
 *    told to record nothing (history/include empty), alternated in rounds; requests per second and the server's
 *    CPU per request, as ratios; then whether the recorder kept up (every PUT a reading).
 * 2. a year of 50 sensors at one reading a minute (26 million readings), generated into a history file through
 *    the store's own write path: the rate, the bytes per reading, compaction (statistics) in total and its
 *    longest step, a 1,000-point plot of one sensor's year and of one day's raw readings, then retention to
 *    30 days (longest step) and the file's size after it.
 * 3. a server started on that file: a plot over HTTP, and the server's resident memory idle, two minutes after
 *    (the history is not loaded into memory); and what a history costs an idle server at all: a fresh database
 *    with a history file against one without, both idle for two minutes. Start time and idle memory without a history file are bench/footprint.ts's.
 * Usage: node --import tsx bench/history.ts [--sensors 50] [--days 365] [--rounds 5] [--duration 3] [--skip-put]
 */
import autocannon from 'autocannon';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Compactor } from '../src/history/compaction.ts';
import { HistoryQueries } from '../src/history/query.ts';
import { CHECKPOINT_ROWS, HistoryStore, type RecordedWrite } from '../src/history/store.ts';
import { startIgor, type IgorProcess } from './processes.ts';
import { residentMemory } from './residentMemory.ts';

const { values: args } = parseArgs({
  options: {
    sensors: { type: 'string', default: '50' },
    days: { type: 'string', default: '365' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    'skip-put': { type: 'boolean', default: false },
  },
});
const SENSORS = Number(args.sensors);
const DAYS = Number(args.days);
const MINUTE = 60_000;
const DAY = 86_400_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function putRound(server: IgorProcess, start: number): Promise<{ rps: number; cpuUs: number; ok: number }> {
  let counter = start;
  const before = cpuMs(server.child.pid!);
  const r = await autocannon({
    url: `${server.url}/data/sensors/bench/value`,
    method: 'PUT',
    connections: Number(args.connections),
    duration: Number(args.duration),
    headers: { authorization: server.adminAuthorization, 'content-type': 'text/plain', accept: 'text/plain' },
    requests: [{ setupRequest: (req) => ({ ...req, body: String(counter++) }) }],
  });
  return { rps: r.requests.average, cpuUs: ((cpuMs(server.child.pid!) - before) * 1000) / Math.max(1, r.requests.total), ok: r['2xx'] };
}

async function putOverhead(): Promise<void> {
  const dirs = [await mkdtemp(join(tmpdir(), 'igor-hist-rec-')), await mkdtemp(join(tmpdir(), 'igor-hist-off-'))];
  const [recording, off] = [await startIgor(dirs[0]!), await startIgor(dirs[1]!)];
  const nothing = await fetch(`${off.url}/data/history`, {
    method: 'PUT',
    headers: { authorization: off.adminAuthorization, 'content-type': 'application/xml' },
    body: '<history><include/></history>',
  });
  if (nothing.status !== 200) throw new Error(`history/include: ${nothing.status}`);
  const rec: { rps: number; cpuUs: number }[] = [];
  const plain: { rps: number; cpuUs: number }[] = [];
  let acknowledged = 0;
  for (let i = 0; i < Number(args.rounds); i++) {
    const r = await putRound(recording, i * 1_000_000);
    acknowledged += r.ok;
    rec.push(r);
    plain.push(await putRound(off, i * 1_000_000));
  }
  const stats = (await (
    await fetch(`${recording.url}/history`, { headers: { authorization: recording.adminAuthorization, accept: 'application/json' } })
  ).json()) as { readings: number; lastRecorded: number; lastWrite: number };
  say(
    `durable PUT of a changing sensor value, ${args.connections} connections, ${args.rounds} alternated rounds of ${args.duration} s (medians):`,
  );
  say(
    `  recording ${median(rec.map((r) => r.rps)).toFixed(0)} req/s, not recording ${median(plain.map((r) => r.rps)).toFixed(0)} req/s: ratio ${median(rec.map((r, i) => r.rps / plain[i]!.rps)).toFixed(2)}`,
  );
  say(
    `  server CPU per request ${median(rec.map((r) => r.cpuUs)).toFixed(0)} / ${median(plain.map((r) => r.cpuUs)).toFixed(0)} µs: ratio ${median(rec.map((r, i) => plain[i]!.cpuUs / r.cpuUs)).toFixed(2)}`,
  );
  say(
    `  kept up: ${stats.readings} readings for ${acknowledged} acknowledged PUTs; recorded up to write ${stats.lastRecorded} of ${stats.lastWrite}`,
  );
  await recording.stop();
  await off.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}

/** A temperature-like value: a daily swing, a slow drift and noise, in hundredths. */
function valueAt(sensor: number, minute: number): number {
  const day = Math.sin((2 * Math.PI * minute) / 1440 + sensor);
  const drift = Math.sin((2 * Math.PI * minute) / (1440 * 90) + sensor * 0.7);
  return Math.round((20 + 4 * day + 3 * drift + Math.random() * 0.5) * 100) / 100;
}

function fileBytes(file: string): number {
  const size = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  return size(file) + size(`${file}-wal`);
}

function timeQuery(run: () => unknown, times = 20): { first: number; median: number } {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    run();
    ms.push(performance.now() - t);
  }
  return { first: ms[0]!, median: median(ms.slice(1)) };
}

async function aYear(dir: string): Promise<{ file: string; end: number }> {
  const file = join(dir, 'history.sqlite');
  const store = HistoryStore.open(file, 0);
  const minutes = DAYS * 1440;
  const start = Date.UTC(2025, 0, 1);
  const end = start + minutes * MINUTE;
  const t0 = performance.now();
  const BATCH = 1000;
  for (let m0 = 0; m0 < minutes; m0 += BATCH) {
    const writes: RecordedWrite[] = [];
    for (let m = m0; m < Math.min(minutes, m0 + BATCH); m++) {
      const readings = Array.from({ length: SENSORS }, (_, s) => ({ path: `sensors/bench/s${s}/temperature`, value: valueAt(s, m) }));
      writes.push({ n: m + 1, t: start + m * MINUTE, readings });
    }
    store.record(writes, writes[writes.length - 1]!.n);
    store.checkpointIfDue(); // as the recorder does after each batch
  }
  const insertS = (performance.now() - t0) / 1000;
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const readings = store.db.prepare('SELECT count(*) FROM readings').pluck().get() as number;
  const bytes = fileBytes(file);
  let tableBytes: number | undefined;
  try {
    tableBytes = store.db.prepare("SELECT sum(pgsize) FROM dbstat WHERE name = 'readings'").pluck().get() as number;
  } catch {}
  say(`\n${SENSORS} sensors × one reading a minute × ${DAYS} days: ${readings.toLocaleString('en')} readings`);
  say(
    `  written through the store in ${insertS.toFixed(1)} s (${Math.round(readings / insertS).toLocaleString('en')} readings/s, batches of ${BATCH} writes)`,
  );
  say(
    `  ${(bytes / readings).toFixed(1)} bytes per reading, the whole file (${(bytes / 2 ** 20).toFixed(0)} MB)${tableBytes ? `; the readings table alone ${(tableBytes / readings).toFixed(1)}` : ''}`,
  );
  const compactor = new Compactor(store);
  const c0 = performance.now();
  while (compactor.step(0));
  say(
    `  statistics (5-minute and hourly) of all of it: ${((performance.now() - c0) / 1000).toFixed(1)} s in ${compactor.steps.toLocaleString('en')} steps, the longest ${compactor.longestStepMs.toFixed(1)} ms`,
  );
  say(
    `  the longest checkpoint meanwhile (every ${CHECKPOINT_ROWS.toLocaleString('en')} rows written): ${store.longestCheckpointMs.toFixed(1)} ms`,
  );
  const queries = new HistoryQueries(store, compactor);
  const series = store.series.get(`sensors/bench/s${Math.min(7, SENSORS - 1)}/temperature`)!;
  const year = timeQuery(() => queries.read(series, { from: start, to: end, points: 1000 }));
  const yearAnswer = queries.read(series, { from: start, to: end, points: 1000 });
  const dayFrom = end - DAY;
  const day = timeQuery(() => queries.read(series, { from: dayFrom, to: end, points: 1000 }));
  const dayAnswer = queries.read(series, { from: dayFrom, to: end, points: 1000 });
  say(
    `  a 1,000-point plot of one sensor's ${DAYS} days: ${year.median.toFixed(1)} ms (the first ${year.first.toFixed(1)} ms; ${yearAnswer.points.length} points from ${yearAnswer.level} statistics)`,
  );
  say(
    `  of one day's raw readings: ${day.median.toFixed(2)} ms (the first ${day.first.toFixed(1)} ms; ${dayAnswer.points.length} points, ${dayAnswer.level})`,
  );
  const longestBefore = compactor.longestStepMs;
  compactor.longestStepMs = 0;
  const r0 = performance.now();
  let retired = 0;
  while (compactor.step(end - 30 * DAY)) retired++;
  say(
    `  raw readings older than 30 days dropped: ${((performance.now() - r0) / 1000).toFixed(1)} s in ${retired.toLocaleString('en')} steps, the longest ${compactor.longestStepMs.toFixed(1)} ms`,
  );
  compactor.longestStepMs = Math.max(longestBefore, compactor.longestStepMs);
  // A home's pace: 50 sensors at a reading a minute bring 25 readings in 30 s, then the recorder's checkpoint.
  const pace: number[] = [];
  for (let i = 0; i < 10; i++) {
    const n = store.lastRecorded + 1;
    store.record(
      [
        {
          n,
          t: end + i * 30_000,
          readings: Array.from({ length: 25 }, (_, s) => ({
            path: `sensors/bench/s${(s * 2 + i) % SENSORS}/temperature`,
            value: valueAt(s, i),
          })),
        },
      ],
      n,
    );
    const t = performance.now();
    store.checkpoint();
    pace.push(performance.now() - t);
  }
  say(
    `  a checkpoint at a home's pace (25 readings in 30 s): ${median(pace).toFixed(1)} ms (median of 10; the longest ${Math.max(...pace).toFixed(1)} ms)`,
  );
  const vacuumed = join(dir, 'vacuumed.sqlite');
  store.db.exec(`VACUUM INTO '${vacuumed}'`);
  say(
    `  kept then (30 days raw, statistics for all ${DAYS} days): ${(statSync(vacuumed).size / 2 ** 20).toFixed(0)} MB once vacuumed; the file itself stays ${(fileBytes(file) / 2 ** 20).toFixed(0)} MB and reuses its free pages`,
  );
  await rm(vacuumed);
  store.lastRecorded = 0; // a server takes it over from its own first write
  store.close();
  return { file, end };
}

async function served(file: string, end: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'igor-hist-server-'));
  await mkdir(dir, { recursive: true });
  copyFileSync(file, join(dir, 'history.sqlite'));
  const server = await startIgor(dir);
  const auth = { authorization: server.adminAuthorization, accept: 'application/json' };
  const get = async (query: string) => {
    const t = performance.now();
    const res = await fetch(`${server.url}/history/sensors/bench/s${Math.min(7, SENSORS - 1)}/temperature?${query}`, { headers: auth });
    await res.text();
    if (res.status !== 200) throw new Error(`${res.status}`);
    return performance.now() - t;
  };
  const start = Math.floor((end - DAYS * DAY) / 1000);
  const year: number[] = [];
  const day: number[] = [];
  for (let i = 0; i < 21; i++) {
    year.push(await get(`from=${start}&to=${end / 1000}&points=1000`));
    day.push(await get(`from=${end / 1000 - 86400}&to=${end / 1000}&points=1000`));
  }
  // Idle as bench/footprint.ts means it: after two minutes without a request, once V8 has shrunk its heap.
  await new Promise((r) => setTimeout(r, 120_000));
  const memory = await residentMemory(server.child.pid!);
  say(`\na server on that file, over HTTP (GET /history, JSON, medians of 20 after the first):`);
  say(`  one sensor's ${DAYS} days in 1,000 points: ${median(year.slice(1)).toFixed(1)} ms (the first ${year[0]!.toFixed(1)} ms)`);
  say(`  one day's raw readings: ${median(day.slice(1)).toFixed(1)} ms (the first ${day[0]!.toFixed(1)} ms)`);
  say(
    `  resident memory idle (2 minutes after those reads): ${memory.rss.toFixed(1)} MB (anonymous ${memory.anon.toFixed(1)}, file pages ${memory.file.toFixed(1)}), with a ${(fileBytes(file) / 2 ** 20).toFixed(0)} MB history file`,
  );
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

/** What keeping a history costs an idle server: two fresh databases, one with a history file, both idle 2 minutes. */
async function idleCost(): Promise<void> {
  const dirs = [await mkdtemp(join(tmpdir(), 'igor-hist-idle-')), await mkdtemp(join(tmpdir(), 'igor-nohist-idle-'))];
  for (const [i, dir] of dirs.entries()) {
    const first = await startIgor(dir);
    const res = await fetch(`${first.url}/data/${i === 0 ? 'sensors/thermo' : 'sandbox'}/temperature`, {
      method: 'PUT',
      headers: { authorization: first.adminAuthorization, 'content-type': 'text/plain' },
      body: '21.5',
    });
    if (res.status !== 200) throw new Error(`${res.status}`);
    await first.stop();
  }
  const servers = await Promise.all(dirs.map((dir) => startIgor(dir)));
  await new Promise((r) => setTimeout(r, 120_000));
  const [withHistory, without] = await Promise.all(servers.map((s) => residentMemory(s.child.pid!)));
  say(
    `\nidle (2 minutes after start), a fresh database with a history file and one without: ${withHistory!.rss.toFixed(1)} / ${without!.rss.toFixed(1)} MB (anonymous ${withHistory!.anon.toFixed(1)} / ${without!.anon.toFixed(1)}, file pages ${withHistory!.file.toFixed(1)} / ${without!.file.toFixed(1)})`,
  );
  for (const s of servers) await s.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}

say(`history benchmark: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()})`);
if (!args['skip-put']) await putOverhead();
await idleCost();
const dir = await mkdtemp(join(tmpdir(), 'igor-hist-year-'));
try {
  const { file, end } = await aYear(dir);
  await served(file, end);
} finally {
  await rm(dir, { recursive: true, force: true });
}
