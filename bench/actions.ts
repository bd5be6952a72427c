/**
 * Cost of trigger matching (issue #3): durable PUT throughput with no actions, and with 1,000 actions whose
 * xpath does not match the PUT (a third with a wildcard last step, a third with `//`). Igor evaluated every
 * action's XPath over the whole document on every write; the target is at least half the speed of none.
 * Usage: node --import tsx bench/actions.ts [--duration S] [--connections N]
 */
import autocannon from 'autocannon';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startIgor } from './processes.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } } });

async function database(actions: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'igor-bench-actions-'));
  const xpaths = [
    (i: number) => `/data/sensors/s${i}/value`,
    (i: number) => `/data/devices/d${i}/*`,
    (i: number) => `/data/environment//x${i}[. &gt; 3]`,
  ];
  const list = Array.from(
    { length: actions },
    (_, i) => `<action><xpath>${xpaths[i % 3]!(i)}</xpath><url>/data/sandbox/never${i}</url><method>PUT</method><data>{.}</data></action>`,
  );
  await writeFile(
    join(dir, 'database.xml'),
    `<?xml version="1.0"?>\n<data><environment/><sensors/><devices/><status/><sandbox/><actions>${list.join('')}</actions></data>\n`,
  );
  return dir;
}

async function putRate(dir: string): Promise<{ rps: number; p99: number; errors: number }> {
  const server = await startIgor(dir);
  let counter = 0;
  const r = await autocannon({
    url: `${server.url}/data/sandbox/counter`,
    method: 'PUT',
    connections: Number(values.connections),
    duration: Number(values.duration),
    headers: { 'content-type': 'text/plain', accept: 'text/plain' },
    requests: [{ setupRequest: (req) => ({ ...req, body: String(counter++) }) }],
  });
  await server.stop();
  await rm(dir, { recursive: true, force: true });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

const none = await putRate(await database(0));
const many = await putRate(await database(1000));
console.log(
  `\nDurable PUT with xpath-triggered actions that do not match (${values.connections} connections, ${values.duration} s each)\n`,
);
console.log(`no actions:     ${none.rps.toFixed(0).padStart(7)} req/s   p99 ${none.p99} ms   errors ${none.errors}`);
console.log(`1,000 actions:  ${many.rps.toFixed(0).padStart(7)} req/s   p99 ${many.p99} ms   errors ${many.errors}`);
console.log(`ratio:          ${(many.rps / none.rps).toFixed(2)} (target: at least 0.50)`);
