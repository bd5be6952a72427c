/**
 * pusher: this home's changes to browsers and apps through Pusher Channels — events triggered by actions,
 * channel queries, authentication of browsers for private and presence channels, and webhooks recording
 * channel occupancy and presence under sensors/pusher.
 *
 * Requests are signed here (pusherApi.ts) and sent with the host's HTTP client, rather than with the official
 * `pusher` npm client: that client makes its own HTTP calls (outside the host's timeouts and logging) and
 * has other limits than the seed's; the signing is small and checked against the published vectors.
 */
import type { Json, JsonObject, PluginCall, PluginDefinition, PluginHost, TreeChange } from 'igor-ts/plugin-api';
import {
  authenticate,
  checkChannel,
  LIMITS,
  signRequest,
  triggerBody,
  validateWebhook,
  ValidationError,
  type TriggerRequest,
} from './pusherApi.ts';

const SETTINGS = ['app_id', 'key', 'secret', 'cluster', 'host', 'port', 'ssl'] as const;
const ATTRIBUTE = /^[a-z_]{1,40}$/;

function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

function create(host: PluginHost) {
  const setting = (key: string) => text(host.settings()[key]);
  const sensors = `/data/sensors/${host.name}`;

  /** Where the HTTP API is: host and port, or api-CLUSTER.pusher.com, or api.pusherapp.com; https unless ssl=false. */
  function config() {
    const appId = setting('app_id');
    const key = setting('key');
    const secret = setting('secret');
    if (!/^\d+$/.test(appId) || !key || !secret) {
      host.fail(
        400,
        `${host.name} is not set up: an admin sets app_id (digits), key and secret in plugindata/${host.name} (or on /plugin/${host.name}/settings)`,
      );
    }
    const ssl = setting('ssl') !== 'false';
    const hostName = setting('host') || (setting('cluster') ? `api-${setting('cluster')}.pusher.com` : 'api.pusherapp.com');
    const port = setting('port') || (ssl ? '443' : '80');
    return { appId, key, secret, base: `${ssl ? 'https' : 'http'}://${hostName}:${port}` };
  }

  async function call(method: 'GET' | 'POST', path: string, payload?: JsonObject, params?: Record<string, string>): Promise<Json> {
    const c = config();
    const signed = signRequest({
      key: c.key,
      secret: c.secret,
      method,
      path: `/apps/${c.appId}${path}`,
      ...(params ? { params } : {}),
      ...(payload ? { body: JSON.stringify(payload) } : {}),
    });
    const res = await host.http(c.base + signed.url, {
      method,
      headers: { 'x-pusher-library': 'igor-ts pusher 1.0', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: signed.body } : {}),
    });
    if (res.status === 200 || res.status === 202) {
      try {
        return JSON.parse(res.body || '{}') as Json;
      } catch {
        host.fail(502, `Pusher answered with something that is not JSON`);
      }
    }
    const reason =
      res.status === 400
        ? 'refused the request'
        : res.status === 401
          ? 'refused our signature (check key and secret)'
          : res.status === 403
            ? 'forbids it (app disabled or over quota?)'
            : `answered ${res.status}`;
    host.fail(502, `Pusher ${reason}: ${res.body.trim().slice(0, 300)}`);
  }

  const invalid = (err: unknown): never => {
    if (err instanceof ValidationError) host.fail(400, err.message);
    throw err;
  };

  /** The data to send: the request body as sent (an action's changed value), else the `data` parameter. */
  function dataOf(c: PluginCall): string {
    if (
      c.body?.json !== undefined &&
      c.body.json !== null &&
      typeof c.body.json === 'object' &&
      !Array.isArray(c.body.json) &&
      'data' in c.body.json
    ) {
      const d = c.body.json['data'];
      return typeof d === 'string' ? d : JSON.stringify(d);
    }
    if (c.body && !c.body.contentType.startsWith('application/x-www-form-urlencoded') && !c.body.contentType.startsWith('multipart/'))
      return c.body.raw.toString('utf8');
    return c.params['data'] ?? '';
  }

  async function trigger(c: PluginCall) {
    const channels = (c.params['channels'] ?? c.params['channel'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    let body: TriggerRequest;
    try {
      body = triggerBody(channels, c.params['event'] ?? c.params['name'] ?? '', dataOf(c), c.params['socket_id']);
    } catch (err) {
      return invalid(err);
    }
    return call('POST', '/events', body as unknown as JsonObject);
  }

  async function triggerBatch(c: PluginCall) {
    const batch = (c.body?.json as { batch?: unknown } | undefined)?.batch;
    if (!Array.isArray(batch) || batch.length === 0)
      host.fail(400, 'trigger_batch takes a JSON body {"batch": [{"channel", "name", "data"}, …]}');
    if (batch.length > LIMITS.channels) host.fail(400, `at most ${LIMITS.channels} events in one batch`);
    const events = batch.map((e, i) => {
      const item = e as Record<string, unknown>;
      try {
        const data = typeof item['data'] === 'string' ? item['data'] : JSON.stringify(item['data'] ?? null);
        const one = triggerBody(
          [String(item['channel'] ?? '')],
          String(item['name'] ?? ''),
          data,
          item['socket_id'] === undefined ? undefined : String(item['socket_id']),
        );
        return { channel: one.channels[0]!, name: one.name, data: one.data, ...(one.socket_id ? { socket_id: one.socket_id } : {}) };
      } catch (err) {
        if (err instanceof ValidationError) host.fail(400, `event ${i + 1}: ${err.message}`);
        throw err;
      }
    });
    return call('POST', '/batch_events', { batch: events });
  }

  /** /channels (channels_info), /channels/NAME (channel_info), /channels/NAME/users (users_info). */
  async function channels(c: PluginCall) {
    const [channel, users, ...more] = c.path;
    if (more.length || (users !== undefined && users !== 'users')) host.fail(404, 'use /channels, /channels/NAME or /channels/NAME/users');
    const info = (c.params['info'] ?? '').split(',').filter(Boolean);
    if (!info.every((a) => ATTRIBUTE.test(a)))
      host.fail(400, 'info is a comma-separated list of attribute names such as user_count,subscription_count');
    try {
      if (channel === undefined) {
        const prefix = c.params['filter_by_prefix'];
        if (prefix !== undefined && prefix !== '') checkChannel(prefix);
        return await call('GET', '/channels', undefined, {
          ...(prefix ? { filter_by_prefix: prefix } : {}),
          ...(info.length ? { info: info.join(',') } : {}),
        });
      }
      checkChannel(channel);
      if (users) return await call('GET', `/channels/${channel}/users`, undefined, {});
      return await call('GET', `/channels/${channel}`, undefined, info.length ? { info: info.join(',') } : {});
    } catch (err) {
      return invalid(err);
    }
  }

  /**
   * Signs a browser's subscription to a private- or presence- channel, for a logged-in user only; presence
   * user_id is the user's name. A channel ending in -user-NAME is for NAME (or an admin) only.
   */
  async function auth(c: PluginCall) {
    const user = c.caller.user;
    if (!user) return host.reply(403, 'log in to subscribe to private channels\n', { 'content-type': 'text/plain; charset=utf-8' });
    const channel = c.params['channel_name'] ?? '';
    const socketId = c.params['socket_id'] ?? '';
    if (!channel.startsWith('private-') && !channel.startsWith('presence-'))
      host.fail(400, 'only private- and presence- channels need authentication');
    const owner = /-user-([A-Za-z_][\w.-]*)$/.exec(channel)?.[1];
    if (owner && owner !== user && !c.caller.admin)
      return host.reply(403, `${channel} is ${owner}'s\n`, { 'content-type': 'text/plain; charset=utf-8' });
    const { key, secret } = config();
    try {
      return authenticate({
        key,
        secret,
        channel,
        socketId,
        ...(channel.startsWith('presence-') ? { customData: { user_id: user, user_info: { name: user } } } : {}),
      });
    } catch (err) {
      return invalid(err);
    }
  }

  /** Records channel occupancy and presence from a webhook that proves it comes from Pusher. */
  async function webhook(c: PluginCall) {
    const { key, secret } = config();
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
    const changes: TreeChange[] = [];
    const when = new Date(hook.time_ms).toISOString();
    for (const e of hook.events) {
      let channel: string;
      try {
        channel = checkChannel(String(e.channel ?? ''));
      } catch {
        continue;
      }
      const path = `${sensors}/channel[name='${channel}']`;
      const exists = host.data.get(path) !== undefined;
      if (!exists && (e.name === 'channel_occupied' || e.name === 'member_added')) {
        changes.push({ op: 'post', xpath: `${sensors}/channel`, value: { name: channel, occupied: false } });
      }
      if (e.name === 'channel_occupied' || e.name === 'channel_vacated') {
        changes.push({ op: 'put', xpath: `${path}/occupied`, value: e.name === 'channel_occupied' });
        changes.push({ op: 'put', xpath: `${path}/since`, value: when });
        if (e.name === 'channel_vacated') changes.push({ op: 'delete', xpath: `${path}/member` });
      } else if (
        (e.name === 'member_added' || e.name === 'member_removed') &&
        typeof e.user_id === 'string' &&
        /^[-\w=@,.;]{1,200}$/.test(e.user_id)
      ) {
        changes.push({ op: 'delete', xpath: `${path}/member[.='${e.user_id}']` });
        if (e.name === 'member_added') changes.push({ op: 'post', xpath: `${path}/member`, value: e.user_id });
      }
    }
    // One by one: a later change may need the channel an earlier one made.
    for (const change of changes) await host.data.batch([change]);
    return { received: hook.events.length };
  }

  async function settingsMethod(c: PluginCall) {
    if (c.method === 'POST') {
      const changes: TreeChange[] = [];
      for (const k of SETTINGS) {
        const v = c.params[k]?.trim();
        if (v === undefined || (v === '' && k === 'secret')) continue;
        if (k === 'app_id' && v && !/^\d+$/.test(v)) host.fail(400, 'app_id is a number');
        if (k === 'port' && v && !/^\d{1,5}$/.test(v)) host.fail(400, 'port is a number');
        if (k === 'ssl' && v && v !== 'true' && v !== 'false') host.fail(400, 'ssl is true or false');
        changes.push({ op: 'put', xpath: `/data/plugindata/${host.name}/${k}`, value: v });
      }
      await host.data.batch(changes);
    }
    const s = host.settings();
    return {
      app_id: text(s['app_id']),
      key: text(s['key']),
      hasSecret: text(s['secret']) !== '',
      cluster: text(s['cluster']),
      host: text(s['host']),
      port: text(s['port']),
      ssl: text(s['ssl']) !== 'false',
      webhookUrl: host.publicUrl(`/plugin/${host.name}/webhook`),
    };
  }

  return {
    methods: {
      trigger,
      trigger_batch: triggerBatch,
      channels,
      auth: { access: 'user' as const, handler: auth },
      webhook: { access: 'public' as const, handler: webhook },
      settings: settingsMethod,
    },
  };
}

export default {
  description: 'Pusher Channels: trigger events from actions, channel queries, browser channel auth, webhooks',
  create,
} satisfies PluginDefinition;
