/**
 * What an action's run does: the call its url names — this server's own routes in-process (as the server, or
 * with its plugin's rights), another server over HTTP (within the plugin's outbound rules and a time limit), or
 * an MQTT message for an mqtt:TOPIC url (only where the action may publish) — and how it went, never thrown.
 */
import { STATUS_CODES } from 'node:http';
import { mayPublish } from '../auth/mqtt.ts';
import { SYSTEM, type Principal } from '../auth/principal.ts';
import { httpRequest } from '../http/client.ts';
import type { OutboundPolicy } from '../http/outbound.ts';
import type { LocalCaller } from '../localCall.ts';
import type { RunOutcome } from './active.ts';
import type { ActionDefinition } from './definition.ts';
import { laneOf } from './runner.ts';

export interface CallerHost {
  /** Calls this server's own routes in-process. */
  call: LocalCaller;
  /** Limit for calls to other servers (ms). */
  externalTimeoutMs?: number | undefined;
  /** Who a plugin's actions act as (its declared extra subtrees included); a bare plugin principal if not given. */
  pluginPrincipal?: ((name: string) => Principal) | undefined;
  /** Where a plugin's actions may call other servers (http/outbound.ts): a plugin is not an admin. */
  outbound?: OutboundPolicy | undefined;
  /** Publishes an MQTT message (an action whose url is mqtt:TOPIC); absent when the server has no broker. */
  publish?: ((topic: string, payload: string) => Promise<void>) | undefined;
}

type Call = Pick<ActionDefinition, 'method' | 'mimetype' | 'plugin'>;

export class ActionCaller {
  constructor(private readonly host: CallerHost) {}

  /** Makes the call of one run, with its url and data expanded; answers how it went. */
  async call(def: Call, url: string, data: string | undefined): Promise<RunOutcome> {
    try {
      if (url.startsWith('mqtt:')) {
        await this.publish(def, url.slice('mqtt:'.length), data ?? '');
        return { ok: true };
      }
      const res = await this.request(def, url, data);
      const ok = res.status >= 200 && res.status < 300;
      // The status and body of the failed call; a bodiless answer at least says what its status means.
      return { ok, message: ok ? undefined : `${res.status} ${res.body.trim() || (STATUS_CODES[res.status] ?? '(no body)')}` };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  }

  private request(def: Call, url: string, data: string | undefined) {
    const { method } = def;
    const headers: Record<string, string> = data === undefined ? {} : { 'Content-Type': def.mimetype };
    if (laneOf(url) === 'external') {
      const timeoutMs = this.host.externalTimeoutMs ?? 30_000;
      return httpRequest(url, { method, headers, body: data, timeoutMs }, def.plugin ? this.host.outbound : undefined);
    }
    const as: Principal = def.plugin ? { kind: 'plugin', name: def.plugin } : SYSTEM;
    return this.host.call({ method, url, headers, body: data, as });
  }

  /** An action's MQTT message, published with the rights the action runs with (a plugin's only where it may write). */
  private async publish(def: Call, topic: string, payload: string): Promise<void> {
    if (!this.host.publish) throw new Error('this server has no MQTT broker: start it with --mqtt URL or --mqtt-broker');
    const as = def.plugin ? (this.host.pluginPrincipal?.(def.plugin) ?? { kind: 'plugin' as const, name: def.plugin }) : SYSTEM;
    if (!topic || topic.includes('+') || topic.includes('#')) throw new Error(`mqtt:${topic} is not a topic to publish to`);
    if (!mayPublish(as, topic)) throw new Error(`${def.plugin ? `plugin ${def.plugin}` : 'this action'} may not publish to ${topic}`);
    await this.host.publish(topic, payload);
  }
}
