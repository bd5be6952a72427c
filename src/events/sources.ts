/**
 * Igor's eventSources: each `/data/eventSources/eventSource` {src, srcMethod=GET, dst, dstMethod=PUT,
 * mimetype=application/json, event?} listens to the Server-Sent Events at `src` and sends each event's data
 * to the local path `dst` (as the server itself). Connections are kept: a dropped one is reopened with
 * Last-Event-ID after a growing pause. Adding, changing or removing an eventSource takes effect at once.
 * How each is doing is recorded under status/<representing>, by default status/eventSources/sourceN (N from 1).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { SYSTEM } from '../auth/principal.ts';
import { httpStream } from '../http/client.ts';
import type { Logger } from '../logger.ts';
import type { LocalCaller } from '../localCall.ts';
import { recordStatus } from '../status.ts';
import type { Database } from '../store/database.ts';
import { childField } from '../tree/text.ts';
import type { ChangeEvent } from '../tree/tree.ts';

interface SourceDefinition {
  src: string;
  srcMethod: string;
  dst: string;
  dstMethod: string;
  mimetype: string;
  event?: string;
  /** Where its status is recorded: its `representing`, or eventSources/sourceN. */
  representing: string;
}

const PATH = '/data/eventSources/eventSource';

function definitionsOf(db: Database): SourceDefinition[] {
  return (db.tree.select(PATH) as Element[]).map((el, i) => {
    const field = (name: string) => childField(el, name);
    return {
      src: field('src'),
      srcMethod: (field('srcMethod') || 'GET').toUpperCase(),
      dst: field('dst'),
      dstMethod: (field('dstMethod') || 'PUT').toUpperCase(),
      mimetype: field('mimetype') || 'application/json',
      ...(field('event') ? { event: field('event') } : {}),
      representing: field('representing') || `eventSources/source${i + 1}`,
    };
  });
}

class Listener {
  private readonly abort = new AbortController();
  private lastEventId: string | undefined;
  private pauseMs = 1000;

  constructor(
    readonly def: SourceDefinition,
    private readonly deps: { db: Database; logger: Logger; call: LocalCaller; connectTimeoutMs: number },
  ) {
    void this.run();
  }

  stop(): void {
    this.abort.abort();
  }

  private async run(): Promise<void> {
    const { def, deps } = this;
    while (!this.abort.signal.aborted) {
      try {
        if (!/^https?:\/\//.test(def.src)) throw new Error(`src ${def.src || '(empty)'} is not an http(s) URL`);
        if (!def.dst.startsWith('/')) throw new Error(`dst ${def.dst || '(empty)'} is not a local path such as /data/sensors/x`);
        const res = await httpStream(def.src, {
          method: def.srcMethod,
          headers: { accept: 'text/event-stream', ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}) },
          signal: this.abort.signal,
          connectTimeoutMs: deps.connectTimeoutMs,
        });
        if (res.status !== 200) throw new Error(`${def.src} answered ${res.status}`);
        await recordStatus(deps.db, def.representing, { ok: true });
        this.pauseMs = 1000;
        await this.read(res.body);
        if (!this.abort.signal.aborted) throw new Error(`${def.src} ended the stream`);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        const message = (err as Error).message;
        deps.logger.warn({ src: def.src }, `event source: ${message}; trying again in ${this.pauseMs / 1000} s`);
        await recordStatus(deps.db, def.representing, { ok: false, message }).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
        this.pauseMs = Math.min(this.pauseMs * 2, 60_000);
      }
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    // One event at a time, in order: the tree gets them as they were sent.
    let delivered: Promise<void> = Promise.resolve();
    const parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        if (message.id) this.lastEventId = message.id;
        if (this.def.event && (message.event ?? 'message') !== this.def.event) return;
        delivered = delivered.then(() => this.deliver(message.data));
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      await delivered;
    }
  }

  private async deliver(data: string): Promise<void> {
    const { def, deps } = this;
    const res = await deps.call({ method: def.dstMethod, url: def.dst, headers: { 'content-type': def.mimetype }, body: data, as: SYSTEM });
    if (res.status >= 300) {
      deps.logger.warn({ dst: def.dst, status: res.status }, `event source: ${def.dstMethod} ${def.dst} was refused: ${res.body.trim()}`);
      await recordStatus(deps.db, def.representing, {
        ok: false,
        message: `${def.dstMethod} ${def.dst}: ${res.status} ${res.body.trim()}`,
      });
    }
  }
}

export class EventSources {
  private listeners: Listener[] = [];
  private readonly onChange = (events: ChangeEvent[]) => {
    if (events.some((e) => e.path.startsWith('/data/eventSources') || e.path === '/data')) this.sync();
  };

  constructor(private readonly deps: { db: Database; logger: Logger; call: LocalCaller; connectTimeoutMs: number }) {}

  start(): void {
    this.deps.db.on('change', this.onChange);
    this.sync();
  }

  stop(): void {
    this.deps.db.off('change', this.onChange);
    for (const l of this.listeners) l.stop();
    this.listeners = [];
  }

  /** Keeps the listeners whose definition is unchanged; starts and stops the others. */
  private sync(): void {
    const wanted = definitionsOf(this.deps.db);
    const key = (d: SourceDefinition) => JSON.stringify(d);
    const keep = new Set(wanted.map(key));
    const next: Listener[] = [];
    for (const l of this.listeners) {
      if (keep.has(key(l.def))) next.push(l);
      else l.stop();
    }
    for (const def of wanted) if (!next.some((l) => key(l.def) === key(def))) next.push(new Listener(def, this.deps));
    this.listeners = next;
  }
}
