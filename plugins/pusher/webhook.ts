/**
 * /webhook: Pusher's reports of channel occupancy and presence, taken only when they prove they come from
 * Pusher (pusherApi.ts validateWebhook), and recorded under sensors/pusher/channel (name, occupied, since,
 * member…). What the events change is worked out as plain values (occupancyChanges), then written.
 */
import type { PluginCall, PluginHost, TreeChange } from 'igor-ts/plugin-api';
import { checkChannel, validateWebhook, type Webhook } from './pusherApi.ts';
import type { PusherClient } from './pusherClient.ts';

/** A presence member's id as it may stand in an XPath string literal. */
const MEMBER_ID = /^[-\w=@,.;]{1,200}$/;

/**
 * The changes a webhook's events make under `sensors`: a channel is made when first occupied or joined,
 * occupancy and its time set, members added and removed, all members dropped when a channel is vacated.
 * Events for a channel name that is not valid are passed over. `exists` says whether a channel is recorded.
 */
export function occupancyChanges(sensors: string, hook: Webhook, exists: (path: string) => boolean): TreeChange[] {
  const changes: TreeChange[] = [];
  const when = new Date(hook.time_ms).toISOString();
  /** Channels made by this webhook: its next event for one finds it made already. */
  const made = new Set<string>();
  for (const e of hook.events) {
    let channel: string;
    try {
      channel = checkChannel(String(e.channel ?? ''));
    } catch {
      continue;
    }
    const path = `${sensors}/channel[name='${channel}']`;
    if (!made.has(channel) && !exists(path) && (e.name === 'channel_occupied' || e.name === 'member_added')) {
      made.add(channel);
      changes.push({ op: 'post', xpath: `${sensors}/channel`, value: { name: channel, occupied: false } });
    }
    if (e.name === 'channel_occupied' || e.name === 'channel_vacated') {
      changes.push({ op: 'put', xpath: `${path}/occupied`, value: e.name === 'channel_occupied' });
      changes.push({ op: 'put', xpath: `${path}/since`, value: when });
      if (e.name === 'channel_vacated') changes.push({ op: 'delete', xpath: `${path}/member` });
    } else if ((e.name === 'member_added' || e.name === 'member_removed') && typeof e.user_id === 'string' && MEMBER_ID.test(e.user_id)) {
      changes.push({ op: 'delete', xpath: `${path}/member[.='${e.user_id}']` });
      if (e.name === 'member_added') changes.push({ op: 'post', xpath: `${path}/member`, value: e.user_id });
    }
  }
  return changes;
}

export function webhookMethod(host: PluginHost, pusher: PusherClient) {
  const sensors = `/data/sensors/${host.name}`;
  return async function webhook(c: PluginCall) {
    const { key, secret } = pusher.config();
    const hook = validateWebhook({
      key,
      secret,
      headerKey: c.headers['x-pusher-key'],
      headerSignature: c.headers['x-pusher-signature'],
      body: c.body?.raw ?? '',
    });
    if (!hook)
      return host.reply(401, 'invalid webhook: wrong key or signature, not JSON, or too old\n', {
        'content-type': 'text/plain; charset=utf-8',
      });
    // One by one: a later change may need the channel an earlier one made.
    for (const change of occupancyChanges(sensors, hook, (path) => host.data.get(path) !== undefined)) await host.data.batch([change]);
    return { received: hook.events.length };
  };
}
