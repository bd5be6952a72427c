/**
 * The server as an MQTT client (--mqtt URL, or its own embedded broker): messages on subscribed topics become
 * tree writes, changes under published paths become messages, actions may publish (`mqtt:TOPIC`), and
 * sensors with units can be announced to Home Assistant. A QoS 1 message is acknowledged to the broker only
 * once its write is on disk, so nothing acknowledged is lost; a message that cannot be stored (bad payload,
 * a path that cannot be written, too large) is logged, counted under status/services/mqtt and dropped, and
 * one the disk cannot take now is not acknowledged, so the broker delivers it again. A change that came in
 * over MQTT is published like any other (a device's state mirrored to another topic or hub), but never to a
 * topic the subscription it came through consumes: no echo, no loop with a device. Reconnects wait longer
 * each time; what is published while offline waits in a bounded queue.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { isSecretName } from '../auth/visibility.ts';
import { IgorError, statusOf } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { recordStatus } from '../status.ts';
import type { Database } from '../store/database.ts';
import { isHidden } from '../tree/dom.ts';
import { elementFromBody } from '../tree/payload.ts';
import { jsonOf, type Json } from '../tree/jsonxml.ts';
import { splitLastStep } from '../tree/paths.ts';
import type { ChangeEvent } from '../tree/tree.ts';
import { ackWhenDurable } from './ackWhenDurable.ts';
import { readDefinitions, type Definitions, type Publication } from './definitions.ts';
import { discoveryMessages } from './discovery.ts';
import { fill, matchTopic, payloadOfValue } from './topics.ts';

export interface BridgeDeps {
  db: Database;
  logger: Logger;
  /** mqtt:// or mqtts:// URL (user and password may be in it, or in /data/mqtt/connection). */
  url: string;
  /** Extra options (the embedded broker's internal credentials). */
  options?: IClientOptions;
  /** Largest payload stored (the server's --max-body-bytes). */
  maxPayloadBytes: number;
}

const STATUS = 'services/mqtt';
/** Messages published while offline that are kept; older ones are dropped (and counted). */
const MAX_QUEUED = 1000;
const FIRST_PAUSE_MS = 1000;
const LONGEST_PAUSE_MS = 60_000;
/** Published values are what a reader of the tree may see: no secrets, no hidden attributes. */
const SHOW_PUBLIC = (n: Node) => !isHidden(n) && !isSecretName(n.nodeName);

export class MqttBridge {
  private client: MqttClient | undefined;
  private defs: Definitions;
  private subscribed = new Set<string>();
  private readonly queue: { topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean }[] = [];
  /**
   * Paths being written from MQTT right now, with the topic filters of the subscriptions writing them: their
   * change is not published to a topic those filters match (it would come straight back).
   */
  private readonly inbound = new Map<string, string[]>();
  private readonly counts = { received: 0, stored: 0, refused: 0, published: 0, dropped: 0 };
  private lastRefused: Json = null;
  private pauseMs = FIRST_PAUSE_MS;
  private stopped = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private announced = new Map<string, string>();
  private announceTimer: NodeJS.Timeout | undefined;
  private readonly onChange = (events: ChangeEvent[]) => this.changed(events);

  constructor(private readonly deps: BridgeDeps) {
    this.defs = readDefinitions(deps.db);
  }

  start(): void {
    this.deps.db.on('change', this.onChange);
    this.connect();
  }

  private connect(): void {
    const { url, options } = this.deps;
    const conn = this.defs.connection;
    let files: { ca?: Buffer; cert?: Buffer; key?: Buffer };
    try {
      const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);
      files = { ca: read(conn.ca), cert: read(conn.cert), key: read(conn.key) };
    } catch (err) {
      // Not a reason to stop the server: it says so, and a corrected /data/mqtt/connection tries again.
      this.recordSoon(false, `the TLS files in /data/mqtt/connection cannot be read: ${(err as Error).message}`);
      return;
    }
    // The same client id each start, with a session the broker keeps: QoS 1 messages sent while this
    // server was down (or not yet acknowledged when it stopped) are delivered when it is back.
    const clientId = `igor-ts-${createHash('sha256').update(this.deps.db.dir).digest('hex').slice(0, 12)}`;
    this.client = mqtt.connect(url, {
      clientId,
      clean: false,
      reconnectPeriod: FIRST_PAUSE_MS,
      connectTimeout: 10_000,
      queueQoSZero: false,
      resubscribe: true,
      ...(conn.username ? { username: conn.username } : {}),
      ...(conn.password ? { password: conn.password } : {}),
      ...(files.ca ? { ca: files.ca } : {}),
      ...(files.cert ? { cert: files.cert, key: files.key } : {}),
      ...options,
    });
    const client = this.client;
    // A QoS 1 message is acknowledged (PUBACK) only once its write is on disk, without holding up the next one
    // (ackWhenDurable.ts); a QoS 2 one is taken one at a time, its PUBCOMP after the write.
    const acks = ackWhenDurable(client, (err) => {
      this.deps.logger.error({ err: err.message }, 'an MQTT message could not be stored; reconnecting so that the broker sends it again');
      this.recordSoon(false, `a message could not be stored (${err.message}); it will be delivered again`);
      client.stream?.destroy();
    });
    client.handleMessage = (packet, done) => {
      const p = packet as IPublishPacket;
      const durable = this.receive(p);
      if (p.qos === 1 && p.messageId !== undefined) {
        acks.holdUntil(p.messageId, durable);
        done();
      } else
        durable.then(
          () => done(),
          (err: Error) => done(err),
        );
    };
    client.on('connect', () => {
      this.pauseMs = FIRST_PAUSE_MS;
      client.options.reconnectPeriod = FIRST_PAUSE_MS;
      this.deps.logger.info({ url: redact(url) }, 'connected to the MQTT broker');
      this.subscribed.clear();
      this.announced.clear();
      this.sync();
      this.flushQueue();
      this.announce();
      this.recordSoon(true);
    });
    client.on('close', () => {
      // A growing pause between attempts, as for event sources: a broker that is down is not hammered.
      client.options.reconnectPeriod = this.pauseMs;
      this.pauseMs = Math.min(this.pauseMs * 2, LONGEST_PAUSE_MS);
    });
    client.on('error', (err) => {
      this.deps.logger.warn({ url: redact(url), err: err.message }, 'MQTT');
      this.recordSoon(false, `${redact(url)}: ${err.message}`);
    });
    client.on('offline', () => this.recordSoon(false, `${redact(url)} cannot be reached; trying again`));
  }

  private async reconnect(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    await old?.endAsync(true).catch(() => {});
    if (!this.stopped) this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.db.off('change', this.onChange);
    clearTimeout(this.statusTimer);
    clearTimeout(this.announceTimer);
    // At once, even with the broker away: PUBACKs not sent yet only mean the broker delivers those again.
    await this.client?.endAsync(true).catch(() => {});
  }

  /** Publishes a message (actions' `mqtt:TOPIC`); queued while offline. */
  publish(topic: string, payload: string, options: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
    const message = { topic, payload, qos: options.qos ?? 0, retain: options.retain ?? false };
    if (!this.client?.connected) {
      this.enqueue(message);
      return Promise.resolve();
    }
    this.counts.published++;
    this.recordSoon(true);
    return this.client.publishAsync(topic, payload, { qos: message.qos, retain: message.retain }).then(() => {});
  }

  // --- into the tree ---------------------------------------------------------------------------------

  /**
   * Applies a message's writes at once (in the order messages come) and answers when they are on disk. What
   * cannot be stored is refused and counted (the promise resolves: the message is done with); a write the
   * disk cannot take rejects it, so that the message is not acknowledged.
   */
  private receive(packet: IPublishPacket): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    this.counts.received++;
    const writes: Promise<void>[] = [];
    for (const s of this.defs.subscriptions) {
      const parts = matchTopic(s.topic, packet.topic);
      if (!parts) continue;
      let dst: string;
      let element: Element;
      try {
        if (payload.length > this.deps.maxPayloadBytes)
          throw new IgorError(`the payload has ${payload.length} bytes, more than ${this.deps.maxPayloadBytes}`, 413);
        dst = fill(s.dst, parts, true);
        // A payload becomes an element as a request body of that type does (the usual JSON mapping, all checks).
        element = elementFromBody(this.deps.db.tree.doc, splitLastStep(dst).tag, payload, s.mimetype);
      } catch (err) {
        this.refuse(packet.topic, (err as Error).message);
        continue;
      }
      this.inbound.set(dst, [...(this.inbound.get(dst) ?? []), s.topic]);
      // db.write applies the change now and resolves once it is on disk.
      const written = this.deps.db.write((tree) => tree.put(dst, element));
      writes.push(
        written
          .then(
            () => {
              this.counts.stored++;
            },
            (err: unknown) => {
              if (statusOf(err) >= 500) throw err;
              this.refuse(packet.topic, (err as Error).message);
            },
          )
          .finally(() => {
            const filters = this.inbound.get(dst) ?? [];
            filters.splice(filters.indexOf(s.topic), 1);
            if (filters.length === 0) this.inbound.delete(dst);
          }),
      );
    }
    this.recordSoon(true);
    return Promise.all(writes).then(() => {});
  }

  private refuse(topic: string, reason: string): void {
    this.counts.refused++;
    this.lastRefused = { topic: topic.slice(0, 200), reason, at: Date.now() / 1000 };
    this.deps.logger.warn({ topic, reason }, 'an MQTT message was not stored');
  }

  // --- out of the tree -------------------------------------------------------------------------------

  private changed(events: ChangeEvent[]): void {
    if (events.some((e) => e.path === '/data' || e.path.startsWith('/data/mqtt'))) {
      const before = JSON.stringify(this.defs.connection);
      this.defs = readDefinitions(this.deps.db);
      // New credentials: log in again with them (the session, kept by the broker, goes on).
      if (JSON.stringify(this.defs.connection) !== before) void this.reconnect();
      else this.sync();
    }
    if (!this.client) return;
    const done = new Set<string>();
    for (const e of events) {
      for (const p of this.defs.publications) {
        for (const target of targetsOf(p, e)) {
          if (done.has(`${target.path}\0${p.topic}`)) continue;
          done.add(`${target.path}\0${p.topic}`);
          this.publishPath(p, target.path, target.parts);
        }
      }
    }
    if (this.defs.discovery && !this.announceTimer && events.some((e) => e.path.startsWith('/data/sensors'))) {
      // Discovery reads every sensor's units and latest values: at most once a second, not on every reading.
      this.announceTimer = setTimeout(() => {
        this.announceTimer = undefined;
        this.announce();
      }, 1000).unref();
    }
  }

  private publishPath(p: Publication, path: string, parts: string[]): void {
    let topic: string;
    try {
      topic = fill(p.topic, parts, false);
    } catch {
      return;
    }
    // A change that came in over MQTT goes out, but not to a topic the subscription it came through consumes:
    // that would be an echo, or a loop with the device that sent it.
    for (const [at, filters] of this.inbound) {
      const related = at === path || at.startsWith(`${path}/`) || path.startsWith(`${at}/`);
      if (related && filters.some((f) => matchTopic(f, topic))) return;
    }
    const el = this.deps.db.tree.select(path)[0] as Element | undefined;
    if (!el) return;
    void this.publish(topic, payloadOfValue(jsonOf(el, SHOW_PUBLIC), p.mimetype), { qos: p.qos, retain: p.retain }).catch((err: Error) =>
      this.deps.logger.warn({ topic, err: err.message }, 'MQTT publish failed'),
    );
  }

  /** Home Assistant discovery: each sensor series with units, announced once (again when it changes), and its latest value. */
  private announce(): void {
    if (!this.defs.discovery || !this.client?.connected) return;
    for (const m of discoveryMessages(this.deps.db, this.defs.discovery, SHOW_PUBLIC)) {
      if (this.announced.get(m.topic) === m.payload) continue; // retained already: said once is enough
      this.announced.set(m.topic, m.payload);
      void this.publish(m.topic, m.payload, { qos: 1, retain: true });
    }
  }

  // --- connection bookkeeping ----------------------------------------------------------------------

  /** Subscribes to what the definitions list now, and drops what they no longer do. */
  private sync(): void {
    const client = this.client;
    if (!client?.connected) return;
    const wanted = new Map(this.defs.subscriptions.map((s) => [s.topic, s.qos]));
    const gone = [...this.subscribed].filter((t) => !wanted.has(t));
    if (gone.length) client.unsubscribe(gone);
    for (const t of gone) this.subscribed.delete(t);
    for (const [topic, qos] of wanted) {
      if (this.subscribed.has(topic)) continue;
      this.subscribed.add(topic);
      client.subscribe(topic, { qos }, (err, granted) => {
        const refused = err ?? (granted?.[0]?.qos === 128 ? new Error('the broker refused the subscription') : undefined);
        if (refused) {
          this.subscribed.delete(topic);
          this.recordSoon(false, `subscribing to ${topic}: ${refused.message}`);
        }
      });
    }
    for (const problem of this.defs.problems) this.deps.logger.warn(problem);
  }

  private enqueue(message: (typeof this.queue)[number]): void {
    this.queue.push(message);
    if (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.counts.dropped++;
    }
    this.recordSoon(true);
  }

  private flushQueue(): void {
    for (const m of this.queue.splice(0)) void this.publish(m.topic, m.payload, m);
  }

  /** status/services/mqtt, written at most once a second (a busy topic must not double every write). */
  private recordSoon(ok: boolean, message?: string): void {
    const write = () => {
      this.statusTimer = undefined;
      const connected = this.client?.connected ?? false;
      const problem = this.defs.problems.join('; ');
      void recordStatus(
        this.deps.db,
        STATUS,
        connected && ok && !problem ? { ok: true } : { ok: false, message: message ?? (problem || 'not connected') },
        { connected, ...this.counts, queued: this.queue.length, lastRefused: this.lastRefused },
      ).catch(() => {});
    };
    if (!ok) {
      clearTimeout(this.statusTimer);
      write();
    } else if (!this.statusTimer) this.statusTimer = setTimeout(write, 1000).unref();
  }
}

interface Target {
  path: string;
  /** What the publication's * steps matched. */
  parts: string[];
}

/**
 * The elements a publication sends for a change: the one at or above the changed element that its steps match,
 * or, when the change made (or removed) an element above them — the write that creates a device — those its
 * steps match inside the changed element.
 */
function targetsOf(p: Publication, e: ChangeEvent): Target[] {
  const names = e.path
    .split('/')
    .slice(2)
    .map((n) => n.replace(/\[\d+\]$/, ''));
  const parts: string[] = [];
  for (let i = 0; i < Math.min(names.length, p.steps.length); i++) {
    if (p.steps[i] === '*') parts.push(names[i]!);
    else if (names[i] !== p.steps[i]) return [];
  }
  if (names.length >= p.steps.length) return [{ path: `/data/${names.slice(0, p.steps.length).join('/')}`, parts }];
  if (e.kind === 'delete' || e.node.nodeType !== 1) return [];
  return within(e.node as Element, p.steps.slice(names.length)).map(({ names: below, parts: more }) => ({
    path: `/data/${[...names, ...below].join('/')}`,
    parts: [...parts, ...more],
  }));
}

/** The elements inside `el` that `steps` (names, or * for any) lead to, by their names and what the * matched. */
function within(el: Element, steps: string[]): { names: string[]; parts: string[] }[] {
  if (steps.length === 0) return [{ names: [], parts: [] }];
  const [step, ...rest] = steps;
  const out: { names: string[]; parts: string[] }[] = [];
  const seen = new Set<string>();
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== 1 || (step !== '*' && c.nodeName !== step) || seen.has(c.nodeName)) continue;
    seen.add(c.nodeName);
    for (const found of within(c as Element, rest))
      out.push({ names: [c.nodeName, ...found.names], parts: step === '*' ? [c.nodeName, ...found.parts] : found.parts });
  }
  return out;
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//…@');
}
