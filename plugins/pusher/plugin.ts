/**
 * pusher: this home's changes to browsers and apps through Pusher Channels — events triggered by actions,
 * channel queries, authentication of browsers for private and presence channels, and webhooks recording
 * channel occupancy and presence under sensors/pusher.
 *
 * A short method table: sending events is in events.ts, channel queries in channels.ts, browser authentication
 * in browserAuth.ts, webhooks in webhook.ts, settings in settings.ts, all through pusherClient.ts.
 * Requests are signed in pusherApi.ts and sent with the host's HTTP client, rather than with the official
 * `pusher` npm client: that client makes its own HTTP calls (outside the host's timeouts and logging) and
 * has other limits than the seed's; the signing is small and checked against the published vectors.
 */
import type { PluginDefinition, PluginHost } from 'igor-ts/plugin-api';
import { authMethod } from './browserAuth.ts';
import { channelsMethod } from './channels.ts';
import { eventMethods } from './events.ts';
import { PusherClient } from './pusherClient.ts';
import { settingsMethod } from './settings.ts';
import { webhookMethod } from './webhook.ts';

function create(host: PluginHost) {
  const pusher = new PusherClient(host);
  const { trigger, trigger_batch } = eventMethods(host, pusher);
  return {
    methods: {
      trigger,
      trigger_batch,
      channels: channelsMethod(host, pusher),
      auth: { access: 'user' as const, handler: authMethod(host, pusher) },
      webhook: { access: 'public' as const, handler: webhookMethod(host, pusher) },
      settings: settingsMethod(host),
    },
  };
}

export default {
  description: 'Pusher Channels: trigger events from actions, channel queries, browser channel auth, webhooks',
  create,
} satisfies PluginDefinition;
