/**
 * /auth: signs a browser's subscription to a private- or presence- channel, for a logged-in user only (as
 * pusher-js asks, with socket_id and channel_name). Presence user_id is the user's name; a channel ending in
 * -user-NAME is for NAME (or an admin) only.
 */
import type { PluginCall, PluginHost } from 'igor-ts/plugin-api';
import { invalid } from './events.ts';
import { authenticate } from './pusherApi.ts';
import type { PusherClient } from './pusherClient.ts';

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

export function authMethod(host: PluginHost, pusher: PusherClient) {
  return async function auth(c: PluginCall) {
    const user = c.caller.user;
    if (!user) return host.reply(403, 'log in to subscribe to private channels\n', TEXT);
    const channel = c.params['channel_name'] ?? '';
    const socketId = c.params['socket_id'] ?? '';
    if (!channel.startsWith('private-') && !channel.startsWith('presence-'))
      host.fail(400, 'only private- and presence- channels need authentication');
    const owner = /-user-([A-Za-z_][\w.-]*)$/.exec(channel)?.[1];
    if (owner && owner !== user && !c.caller.admin) return host.reply(403, `${channel} is ${owner}'s\n`, TEXT);
    const { key, secret } = pusher.config();
    try {
      return authenticate({
        key,
        secret,
        channel,
        socketId,
        ...(channel.startsWith('presence-') ? { customData: { user_id: user, user_info: { name: user } } } : {}),
      });
    } catch (err) {
      return invalid(host, err);
    }
  };
}
