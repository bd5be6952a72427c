/**
 * Sending events: /trigger (one event to up to ten channels, its data the body an action sends) and
 * /trigger_batch (several events at once). Every event is checked against the library's rules before anything
 * is sent, each failure a 400 naming what is wrong.
 */
import type { JsonObject, PluginCall, PluginHost } from 'igor-ts/plugin-api';
import { LIMITS, triggerBody, ValidationError, type TriggerRequest } from './pusherApi.ts';
import type { PusherClient } from './pusherClient.ts';

/** One event of a batch, as Pusher's /batch_events takes it. */
export interface BatchEvent {
  channel: string;
  name: string;
  data: string;
  socket_id?: string;
}

/** The data to send: the request body as sent (an action's changed value), else the `data` parameter. */
export function dataOf(c: Pick<PluginCall, 'body' | 'params'>): string {
  const json = c.body?.json;
  if (json !== undefined && json !== null && typeof json === 'object' && !Array.isArray(json) && 'data' in json) {
    const d = json['data'];
    return typeof d === 'string' ? d : JSON.stringify(d);
  }
  if (c.body && !c.body.contentType.startsWith('application/x-www-form-urlencoded') && !c.body.contentType.startsWith('multipart/'))
    return c.body.raw.toString('utf8');
  return c.params['data'] ?? '';
}

/** A batch's events, each checked; a ValidationError names the first one wrong (1-based) and why. */
export function batchEvents(batch: unknown[]): BatchEvent[] {
  return batch.map((e, i) => {
    const item = e as Record<string, unknown>;
    try {
      const data = typeof item['data'] === 'string' ? item['data'] : JSON.stringify(item['data'] ?? null);
      const socketId = item['socket_id'] === undefined ? undefined : String(item['socket_id']);
      const one = triggerBody([String(item['channel'] ?? '')], String(item['name'] ?? ''), data, socketId);
      return { channel: one.channels[0]!, name: one.name, data: one.data, ...(one.socket_id ? { socket_id: one.socket_id } : {}) };
    } catch (err) {
      if (err instanceof ValidationError) throw new ValidationError(`event ${i + 1}: ${err.message}`);
      throw err;
    }
  });
}

/** A ValidationError as the caller's 400; anything else as it is. */
export function invalid(host: PluginHost, err: unknown): never {
  if (err instanceof ValidationError) host.fail(400, err.message);
  throw err;
}

export function eventMethods(host: PluginHost, pusher: PusherClient) {
  return {
    async trigger(c: PluginCall) {
      const channels = (c.params['channels'] ?? c.params['channel'] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      let body: TriggerRequest;
      try {
        body = triggerBody(channels, c.params['event'] ?? c.params['name'] ?? '', dataOf(c), c.params['socket_id']);
      } catch (err) {
        return invalid(host, err);
      }
      return pusher.call('POST', '/events', body as unknown as JsonObject);
    },

    async trigger_batch(c: PluginCall) {
      const batch = (c.body?.json as { batch?: unknown } | undefined)?.batch;
      if (!Array.isArray(batch) || batch.length === 0)
        host.fail(400, 'trigger_batch takes a JSON body {"batch": [{"channel", "name", "data"}, …]}');
      if (batch.length > LIMITS.channels) host.fail(400, `at most ${LIMITS.channels} events in one batch`);
      let events: BatchEvent[];
      try {
        events = batchEvents(batch);
      } catch (err) {
        return invalid(host, err);
      }
      return pusher.call('POST', '/batch_events', { batch: events as unknown as JsonObject[] });
    },
  };
}
