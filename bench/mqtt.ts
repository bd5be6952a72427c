/**
 * MQTT into and out of the tree, every write durable:
 * - in:  MESSAGES QoS 1 messages over 1,000 topics (PREFIX/m0…m999) from a publisher process, each written to
 *        the tree and acknowledged only once on disk: messages per second, and the publish-to-tree latency
 *        (p50, p99, from the publisher's send to the tree's change). Flat out with two layouts (the 1,000
 *        values side by side under one element, or each inside its meter's element), and paced at 1,000/s;
 * - out: tree changes under a publication, one every 2 ms: change-to-delivery latency at a subscriber.
 * Against a Mosquitto on a free port (Debian package mosquitto) when there is one, else the embedded broker.
 * Usage: node --import tsx bench/mqtt.ts [--messages 20000] [--embedded]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { resolveConfig } from '../src/config.ts';
import { quietLogger } from '../src/logger.ts';
import { startServer } from '../src/server.ts';
import { elementFromJson } from '../src/tree/jsonxml.ts';

const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1];
const MESSAGES = process.argv.includes('--messages') ? Number(arg('--messages')) : 20_000;
const TOPICS = 1000;
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
const embedded = process.argv.includes('--embedded') || !MOSQUITTO;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const dir = await mkdtemp(join(tmpdir(), 'igor-bench-mqtt-'));
let brokerUrl: string | undefined;
let mosquitto: ReturnType<typeof spawn> | undefined;
if (!embedded) {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 1000\n`,
  );
  mosquitto = spawn(MOSQUITTO!, ['-c', conf], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  brokerUrl = `mqtt://127.0.0.1:${port}`;
}
const server = await startServer(
  resolveConfig({ database: join(dir, 'db'), port: '0', ...(embedded ? { mqttBroker: '0', noAuth: 'true' } : { mqtt: brokerUrl }) }, {}),
  quietLogger('silent'),
);
brokerUrl ??= `mqtt://127.0.0.1:${server.mqttPort}`;
const { db } = server;
await db.write((t) =>
  t.put(
    '/data/mqtt',
    elementFromJson(t.doc, 'mqtt', {
      // flat: 1,000 values side by side under one element; nested: each meter an element with its value inside.
      subscription: [
        { topic: 'flat/+', dst: '/data/sensors/flat/{1}', mimetype: 'text/plain' },
        { topic: 'nested/+', dst: '/data/sensors/nested/{1}/value', mimetype: 'text/plain' },
      ],
      publication: { xpath: '/data/sensors/out/*', topic: 'out/{1}', qos: 0 },
    }),
  ),
);
const connected = async () => db.tree.select('/data/status/services/mqtt/connected')[0]?.textContent === 'true';
while (!(await connected())) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 300));

// The publisher is a process of its own, as a device or another hub would be: its work is not the server's.
// With a rate (messages a second) it paces itself; without, it sends as fast as the broker takes them.
const publisherCode = `
  import mqtt from 'mqtt';
  const [url, prefix, n, topics, rate, user] = process.argv.slice(1);
  const c = await mqtt.connectAsync(url, { clientId: 'bench-publisher', ...(user ? { username: user, password: 'x' } : {}) });
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < Number(n); i++) {
    if (Number(rate)) while (performance.now() - t0 < (i * 1000) / Number(rate)) await new Promise((r) => setTimeout(r, 1));
    pending.push(c.publishAsync(prefix + '/m' + (i % Number(topics)), i + ':' + (performance.now() + performance.timeOrigin), { qos: 1 }));
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await c.endAsync();
`;

/** Publishes `messages` to PREFIX/m0…m999 (at `rate` a second, or flat out) and times their arrival in the tree. */
async function phase(prefix: string, messages: number, rate = 0): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let allIn!: () => void;
  const done = new Promise<void>((r) => (allIn = r));
  // The tree's change events time each arrival; the payload carries its send time.
  const onChange = (events: { path: string; node: Node }[]) => {
    for (const e of events) {
      if (!e.path.startsWith(`/data/sensors/${prefix}/`)) continue;
      const sent = Number((e.node.textContent ?? '').split(':')[1]);
      latencies.push(performance.now() + performance.timeOrigin - sent);
      if (latencies.length === messages) allIn();
    }
  };
  // Every meter exists already, so that each message is one change of its own element.
  await db.write((t) =>
    t.put(
      `/data/sensors/${prefix}`,
      elementFromJson(
        t.doc,
        prefix,
        Object.fromEntries(Array.from({ length: TOPICS }, (_, i) => [`m${i}`, prefix === 'nested' ? { value: 'x' } : 'x'])),
      ),
    ),
  );
  db.on('change', onChange);
  const start = performance.now();
  const publisher = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      publisherCode,
      brokerUrl!,
      prefix,
      String(messages),
      String(TOPICS),
      String(rate),
      embedded ? 'admin' : '',
    ],
    { stdio: 'inherit', cwd: join(import.meta.dirname, '..') },
  );
  const exited = new Promise((r) => publisher.once('exit', r));
  await done;
  const seconds = (performance.now() - start) / 1000;
  await exited;
  db.off('change', onChange);
  return { perSecond: Math.round(messages / seconds), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const flat = await phase('flat', MESSAGES);
const nested = await phase('nested', MESSAGES);
const paced = await phase('nested', 5000, 1000);

// Out: a subscriber times each change's delivery.
const subscriber = await mqtt.connectAsync(brokerUrl, {
  clientId: 'bench-subscriber',
  ...(embedded ? { username: 'admin', password: 'x' } : {}),
});
await subscriber.subscribeAsync('out/#', { qos: 0 });
const outLatencies: number[] = [];
const sentAt = new Map<string, number>();
subscriber.on('message', (_topic, payload) => {
  const at = sentAt.get(payload.toString());
  if (at !== undefined) outLatencies.push(performance.now() - at);
});
for (let i = 0; i < 1000; i++) {
  const value = `v${i}`;
  sentAt.set(JSON.stringify(value), performance.now());
  await db.write((t) => t.put(`/data/sensors/out/o${i % 50}`, elementFromJson(t.doc, `o${i % 50}`, value)));
  await new Promise((r) => setTimeout(r, 2));
}
await new Promise((r) => setTimeout(r, 500));

console.log(`MQTT into and out of the tree (${embedded ? 'embedded broker' : 'Mosquitto'}; QoS 1, every write durable before its PUBACK)`);
for (const [what, r] of [
  [`flat out, ${MESSAGES} messages, 1,000 values under one element`, flat],
  [`flat out, ${MESSAGES} messages, each value inside its meter`, nested],
  ['paced at 1,000 messages/s, 5,000 messages', paced],
] as const)
  console.log(`in:  ${what}: ${r.perSecond} messages/s; publish to tree p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
console.log(
  `out: ${outLatencies.length} changes, one every 2 ms: change to delivery p50 ${percentile(outLatencies, 50).toFixed(2)} ms, p99 ${percentile(outLatencies, 99).toFixed(2)} ms`,
);
await subscriber.endAsync();
await server.close();
mosquitto?.kill();
await rm(dir, { recursive: true, force: true });
