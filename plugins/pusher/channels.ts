/**
 * Asking Pusher about channels: /channels (channels_info, optionally by prefix), /channels/NAME
 * (channel_info) and /channels/NAME/users (users_info of a presence channel), each name checked first.
 */
import type { PluginCall, PluginHost } from 'igor-ts/plugin-api';
import { invalid } from './events.ts';
import { checkChannel } from './pusherApi.ts';
import type { PusherClient } from './pusherClient.ts';

/** An attribute Pusher can report on a channel, such as user_count. */
const ATTRIBUTE = /^[a-z_]{1,40}$/;

export function channelsMethod(host: PluginHost, pusher: PusherClient) {
  return async function channels(c: PluginCall) {
    const [channel, users, ...more] = c.path;
    if (more.length || (users !== undefined && users !== 'users')) host.fail(404, 'use /channels, /channels/NAME or /channels/NAME/users');
    const info = (c.params['info'] ?? '').split(',').filter(Boolean);
    if (!info.every((a) => ATTRIBUTE.test(a)))
      host.fail(400, 'info is a comma-separated list of attribute names such as user_count,subscription_count');
    try {
      if (channel === undefined) {
        const prefix = c.params['filter_by_prefix'];
        if (prefix !== undefined && prefix !== '') checkChannel(prefix);
        return await pusher.call('GET', '/channels', undefined, {
          ...(prefix ? { filter_by_prefix: prefix } : {}),
          ...(info.length ? { info: info.join(',') } : {}),
        });
      }
      checkChannel(channel);
      if (users) return await pusher.call('GET', `/channels/${channel}/users`, undefined, {});
      return await pusher.call('GET', `/channels/${channel}`, undefined, info.length ? { info: info.join(',') } : {});
    } catch (err) {
      return invalid(host, err);
    }
  };
}
