/**
 * The actions of the tree, kept running: `<action>` elements under actions/ and plugindata/NAME/ are read at
 * start and again whenever one is added, changed or deleted (a deleted action stops at once). Each runs on
 * its triggers — interval, cron, matching changes, its name — within its minInterval, and records how each
 * run went under status/<representing>.
 */
import { STATUS_CODES } from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { mayPublish } from '../auth/mqtt.ts';
import { SYSTEM, type Principal } from '../auth/principal.ts';
import { viewOf, visibilityFor, type Visibility } from '../auth/visibility.ts';
import { httpRequest } from '../http/client.ts';
import type { OutboundPolicy } from '../http/outbound.ts';
import { redactUrls } from '../http/redact.ts';
import type { Logger } from '../logger.ts';
import type { LocalCaller } from '../localCall.ts';
import { recordStatus } from '../status.ts';
import type { Database } from '../store/database.ts';
import { ELEMENT_NODE, textOf } from '../tree/dom.ts';
import type { ChangeEvent } from '../tree/tree.ts';
import { stringOf, type View } from '../tree/xpath.ts';
import type { WorkTracker } from '../work.ts';
import { ChangeMatcher, elementsWithin, type Watch } from './changeMatch.ts';
import { scheduleCron } from './cron.ts';
import { parseAction, type ActionDefinition } from './definition.ts';
import { TriggerPattern } from './pattern.ts';
import { ActionRunner, laneOf } from './runner.ts';
import { expandTemplate } from './template.ts';

export interface ActionHost {
  db: Database;
  logger: Logger;
  work: WorkTracker;
  /** Calls this server's own routes in-process. */
  call: LocalCaller;
  /** Limit for calls to other servers (ms). */
  externalTimeoutMs?: number;
  /** Who a plugin's actions act as (its declared extra subtrees included); a bare plugin principal if not given. */
  pluginPrincipal?: (name: string) => Principal;
  /** Where a plugin's actions may call other servers (http/outbound.ts): a plugin is not an admin. */
  outbound?: OutboundPolicy;
  /** Publishes an MQTT message (an action whose url is mqtt:TOPIC); absent when the server has no broker. */
  publish?: (topic: string, payload: string) => Promise<void>;
}

/** Which actions led to the code running now: a change made inside an action's run carries its chain. */
const causes = new AsyncLocalStorage<{ chain: ActiveAction[] }>();
/** The action whose run is under way here, if any (for the access-failure record of a refused call). */
export function currentAction(): string | undefined {
  const chain = causes.getStore()?.chain;
  return chain?.length ? chain[chain.length - 1]!.label : undefined;
}

/**
 * A delay setTimeout keeps: it takes at most 2^31 - 1 ms (24.8 days) and fires after 1 ms for anything longer,
 * so an <interval> of 30 days ran its action a thousand times a second. Longer waits wake and wait again.
 */
function timerDelay(ms: number): number {
  return Math.max(0, Math.min(ms, 2 ** 31 - 1));
}

/** Longest chain of actions triggering one another that is let through. */
const MAX_CHAIN = 10;
const ACTION_PATHS = /^\/data\/(actions|plugindata)(\/|$)/;

class ActiveAction {
  private static next = 1;
  readonly id = ActiveAction.next++;
  lastRun = -Infinity;
  /** How the last run ended (kept in memory: recording every run in the tree would fill the journal). */
  lastOutcome: { at: number; ok: boolean; message?: string } | undefined;
  /** Runs under way; a loop found meanwhile is reported as their outcome, so their success does not hide it. */
  running = 0;
  loopMessage: string | undefined;
  deferred: { timer: NodeJS.Timeout; nodes: Node[] | undefined; chain: ActiveAction[] } | undefined;
  intervalTimer: NodeJS.Timeout | undefined;
  cronTask: { stop(): void } | undefined;
  stopped = false;
  readonly patterns: TriggerPattern[];
  /** Changes under its own status entry do not trigger it: recording a run is not a reason to run again. */
  readonly ownStatus: string[] | undefined;

  constructor(readonly def: ActionDefinition) {
    this.patterns = def.xpaths.map((x) => new TriggerPattern(x));
    this.ownStatus = def.representing ? ['data', 'status', ...def.representing.split('/')] : undefined;
  }

  /** What its triggers, condition and templates see: all of the tree for the server's own actions. */
  view(host: ActionHost): View | undefined {
    const visibility = this.visibility(host);
    return visibility && viewOf(visibility);
  }

  private visibility(host: ActionHost): Visibility | undefined {
    const plugin = this.def.plugin;
    if (plugin === undefined) return undefined;
    return visibilityFor(host.pluginPrincipal?.(plugin) ?? { kind: 'plugin', name: plugin }, 'plugin');
  }

  /** Its `<xpath>` triggers, for the change matcher (changeMatch.ts). */
  watches(host: ActionHost): Watch<ActiveAction>[] {
    return this.patterns.map((pattern) => ({
      owner: this,
      pattern,
      view: () => this.view(host),
      viewKey: this.def.plugin ?? '',
      sees: (chain) => this.visibility(host)?.admitsChain(chain) ?? true,
      ignores: (chain) => this.ownStatus !== undefined && startsWith(chain, this.ownStatus),
    }));
  }

  get label(): string {
    return this.def.name ? `${this.def.name} (${this.def.ref})` : this.def.ref;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.intervalTimer);
    clearTimeout(this.deferred?.timer);
    this.cronTask?.stop();
  }
}

export interface ActionRun {
  ref: string;
  name?: string;
  plugin?: string;
  /** Seconds since 1970 when the last run since start ended, and whether it went well. */
  lastRun?: number;
  ok?: boolean;
  message?: string;
  running: number;
}

export class ActionManager {
  private actions: ActiveAction[] = [];
  private triggers = new ChangeMatcher<ActiveAction>([]);
  private syncScheduled = false;
  private readonly runner = new ActionRunner();
  private readonly onChange = (events: ChangeEvent[]) => this.changed(events);

  constructor(private readonly host: ActionHost) {}

  start(): void {
    this.host.work.register(this.runner);
    this.host.db.addValidator((events) => this.validate(events));
    this.host.db.on('change', this.onChange);
    this.sync();
    this.runByName('_start');
  }

  stop(): void {
    this.host.db.off('change', this.onChange);
    for (const a of this.actions) a.stop();
    this.actions = [];
  }

  /** What runs and what waits, as lines of text (Igor's /internal/dump). */
  dump(): string[] {
    const lines = Object.entries(this.runner.load()).map(
      ([lane, { waiting, running }]) => `queue ${lane}: ${running} running, ${waiting} waiting`,
    );
    for (const a of this.actions) {
      const { def } = a;
      const when = [
        def.interval !== undefined ? `every ${def.interval} s` : '',
        def.cron !== undefined ? `cron ${def.cron}` : '',
        ...def.xpaths.map((x) => `on ${x}`),
      ].filter(Boolean);
      const last = Number.isFinite(a.lastRun) ? `, last run ${new Date(a.lastRun).toISOString()}` : '';
      lines.push(
        `action ${a.label}${def.plugin ? ` [plugin ${def.plugin}]` : ''}: ${def.method} ${def.url}${when.length ? `; ${when.join(', ')}` : ''}${last}${a.running ? `, ${a.running} running` : ''}`,
      );
    }
    return lines;
  }

  /** Each action as it runs now, for the actions page: where it is, whose it is and how its last run went. */
  runs(): ActionRun[] {
    return this.actions.map(({ def, lastOutcome, running }) => ({
      ref: def.ref,
      ...(def.name ? { name: def.name } : {}),
      ...(def.plugin ? { plugin: def.plugin } : {}),
      ...(lastOutcome ? { lastRun: lastOutcome.at / 1000, ok: lastOutcome.ok } : {}),
      ...(lastOutcome?.message ? { message: lastOutcome.message } : {}),
      running,
    }));
  }

  /** GET /action/NAME and /action/PLUGIN/NAME: runs the actions of that name; answers how many. */
  runByName(name: string, plugin?: string): number {
    const chosen = this.actions.filter(
      (a) => a.def.name === name && (plugin !== undefined ? a.def.plugin === plugin : a.def.plugin === undefined || name.startsWith('_')),
    );
    const chain = causes.getStore()?.chain ?? [];
    for (const a of chosen) this.fire(a, undefined, chain);
    return chosen.length;
  }

  /** Refuses a write that would leave an invalid action in the tree, with the reason. */
  private validate(events: ChangeEvent[]): void {
    for (const e of events) {
      if (e.kind === 'delete' || !ACTION_PATHS.test(e.path)) continue;
      for (const el of actionsIn(e.node)) parseAction(el);
    }
  }

  /** Brings the running actions in line with the tree: unchanged ones keep their timers and state. */
  private sync(): void {
    this.syncScheduled = false;
    const { db, logger } = this.host;
    const elements = db.tree.select('/data/actions//action | /data/plugindata/*//action') as Element[];
    const old = new Map<string, ActiveAction[]>();
    for (const a of this.actions) old.set(a.def.key, [...(old.get(a.def.key) ?? []), a]);
    const kept: ActiveAction[] = [];
    const started: ActiveAction[] = [];
    for (const el of elements) {
      let def: ActionDefinition;
      try {
        def = parseAction(el);
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'ignoring an invalid action');
        continue;
      }
      const same = old.get(def.key)?.shift();
      if (same) kept.push(same);
      else started.push(new ActiveAction(def));
    }
    for (const list of old.values()) for (const a of list) a.stop();
    this.actions = [...kept, ...started];
    this.triggers = new ChangeMatcher(this.actions.flatMap((a) => a.watches(this.host)));
    for (const a of started) this.schedule(a);
    if (started.length || old.size) logger.debug({ actions: this.actions.length, started: started.length }, 'actions updated');
  }

  private schedule(a: ActiveAction): void {
    const { interval, cron } = a.def;
    if (interval !== undefined) {
      // First run now, then `interval` seconds after each run: a re-armed timer, not clock-aligned. The wait is
      // counted in the timers' own time (one longer than a timer holds is made of several), reading no clock,
      // so that it follows a test's fake timers as it follows real ones.
      let remaining = 0;
      const tick = () => {
        if (a.stopped) return;
        if (remaining <= 0) {
          this.fire(a, undefined, []);
          remaining = interval * 1000;
        }
        const delay = timerDelay(remaining);
        remaining -= delay;
        a.intervalTimer = setTimeout(tick, delay).unref();
      };
      a.intervalTimer = setTimeout(tick, 0).unref();
    }
    if (cron !== undefined) {
      a.cronTask = scheduleCron(cron, () => this.fire(a, undefined, []));
    }
  }

  private changed(events: ChangeEvent[]): void {
    if (!this.syncScheduled && events.some((e) => ACTION_PATHS.test(e.path))) {
      this.syncScheduled = true;
      queueMicrotask(() => this.sync());
    }
    const matched = this.triggers.match(events, this.host.db.tree);
    if (matched.size === 0) return;
    const chain = causes.getStore()?.chain ?? [];
    for (const [action, nodes] of matched) this.fire(action, nodes, chain);
  }

  /** A trigger: runs the action now, or at the end of its minInterval window. */
  private fire(a: ActiveAction, nodes: Node[] | undefined, chain: ActiveAction[]): void {
    if (a.stopped) return;
    if (chain.includes(a) || chain.length >= MAX_CHAIN) {
      const path = [...chain, a].map((x) => x.def.name ?? x.def.ref).join(' → ');
      const message = chain.includes(a)
        ? `stopped a loop of actions triggering each other: ${path}`
        : `stopped a chain of ${chain.length + 1} actions triggering each other: ${path}`;
      this.host.logger.warn({ action: a.label }, message);
      if (a.running > 0) a.loopMessage = message;
      else void this.record(a, { ok: false, message });
      return;
    }
    const now = Date.now();
    const windowEnd = a.lastRun + (a.def.minInterval ?? 0) * 1000;
    if (now < windowEnd) {
      // Deferred, not dropped: the latest trigger runs when the window closes.
      if (a.deferred) Object.assign(a.deferred, { nodes, chain });
      else {
        const timer = setTimeout(
          () => {
            const d = a.deferred!;
            a.deferred = undefined;
            this.fire(a, d.nodes, d.chain); // deferred again if a long window has not closed yet
          },
          timerDelay(windowEnd - now),
        ).unref();
        a.deferred = { timer, nodes, chain };
      }
      return;
    }
    a.lastRun = now;
    const root = this.host.db.tree.root;
    const contexts = nodes && nodes.length ? (a.def.multiple ? nodes : [nodes[0]!]) : [root];
    for (const context of contexts) this.enqueue(a, context, [...chain, a]);
  }

  private enqueue(a: ActiveAction, context: Node, chain: ActiveAction[]): void {
    const { def } = a;
    const tree = this.host.db.tree;
    const view = a.view(this.host);
    let url: string;
    let data: string | undefined;
    try {
      if (def.condition !== undefined) {
        const value = tree.evaluate(def.condition, context, { originalContext: context, view });
        const truth = Array.isArray(value)
          ? value.length > 0
          : typeof value === 'number'
            ? value !== 0 && !Number.isNaN(value)
            : Boolean(value);
        if (!truth) return;
      }
      const valueOf = (expression: string) => {
        const v = tree.evaluate(expression, context, { originalContext: context, view });
        // The server's own actions print a node without Igor's hidden data, as they always have.
        return Array.isArray(v) && !view ? (v.length ? textOf(v[0]!) : '') : stringOf(v, view);
      };
      url = expandTemplate(def.url, valueOf, true);
      data = def.data === undefined ? undefined : expandTemplate(def.data, valueOf, false);
    } catch (err) {
      void this.record(a, { ok: false, message: (err as Error).message });
      return;
    }
    this.runner.enqueue({
      lane: laneOf(url),
      signature: JSON.stringify([def.method, url, data, def.mimetype]),
      aggregate: def.aggregate,
      run: () => causes.run({ chain }, () => this.execute(a, url, data)),
    });
  }

  private async execute(a: ActiveAction, url: string, data: string | undefined): Promise<void> {
    if (a.stopped) return;
    const { method, mimetype } = a.def;
    const headers: Record<string, string> = data === undefined ? {} : { 'Content-Type': mimetype };
    let outcome: { ok: boolean; message?: string };
    a.running++;
    try {
      if (url.startsWith('mqtt:')) {
        await this.publish(a, url.slice('mqtt:'.length), data ?? '');
        outcome = { ok: true };
      } else {
        const res =
          laneOf(url) === 'external'
            ? await httpRequest(
                url,
                { method, headers, body: data, timeoutMs: this.host.externalTimeoutMs ?? 30_000 },
                a.def.plugin ? this.host.outbound : undefined,
              )
            : await this.host.call({
                method,
                url,
                headers,
                body: data,
                as: a.def.plugin ? { kind: 'plugin', name: a.def.plugin } : SYSTEM,
              });
        const ok = res.status >= 200 && res.status < 300;
        // The status and body of the failed call; a bodiless answer at least says what its status means.
        outcome = { ok, message: ok ? undefined : `${res.status} ${res.body.trim() || (STATUS_CODES[res.status] ?? '(no body)')}` };
      }
    } catch (err) {
      outcome = { ok: false, message: (err as Error).message };
    } finally {
      a.running--;
    }
    if (a.loopMessage !== undefined) {
      outcome = { ok: false, message: a.loopMessage };
      a.loopMessage = undefined;
    }
    if (!outcome.ok) this.host.logger.warn({ action: a.label, url: redactUrls(url), error: outcome.message }, 'action failed');
    a.lastOutcome = { at: Date.now(), ...outcome };
    await this.record(a, outcome);
  }

  /** An action's MQTT message, published with the rights the action runs with (a plugin's only where it may write). */
  private async publish(a: ActiveAction, topic: string, payload: string): Promise<void> {
    if (!this.host.publish) throw new Error('this server has no MQTT broker: start it with --mqtt URL or --mqtt-broker');
    const as = a.def.plugin ? (this.host.pluginPrincipal?.(a.def.plugin) ?? { kind: 'plugin' as const, name: a.def.plugin }) : SYSTEM;
    if (!topic || topic.includes('+') || topic.includes('#')) throw new Error(`mqtt:${topic} is not a topic to publish to`);
    if (!mayPublish(as, topic)) throw new Error(`${a.def.plugin ? `plugin ${a.def.plugin}` : 'this action'} may not publish to ${topic}`);
    await this.host.publish(topic, payload);
  }

  private async record(a: ActiveAction, outcome: { ok: boolean; message?: string }): Promise<void> {
    const representing = a.def.representing ?? (outcome.ok ? undefined : 'igor/actions');
    if (!representing) return;
    try {
      await recordStatus(this.host.db, representing, outcome);
    } catch (err) {
      this.host.logger.error({ err, action: a.label }, 'could not record the status of an action');
    }
  }
}

function startsWith(chain: string[], prefix: string[]): boolean {
  return prefix.length <= chain.length && prefix.every((p, i) => chain[i] === p);
}

/** `<action>` elements at, inside or around a changed node (a changed field changes its action). */
function actionsIn(node: Node): Element[] {
  if (node.nodeType !== ELEMENT_NODE) return [];
  for (let n: Node | null = node; n && n.nodeType === ELEMENT_NODE; n = n.parentNode) {
    if (n.nodeName === 'action') return [n as Element];
  }
  return elementsWithin(node as Element).filter((e) => e.nodeName === 'action');
}
