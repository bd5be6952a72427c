/** The pusher plugin against a local Pusher API that verifies every signature; channel auth; webhooks. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../../src/auth/users.ts';
import { authenticate } from '../../../plugins/pusher/pusherApi.ts';
import { basic, startTestServer, type TestServer } from '../../helpers.ts';
import { startFakePusher, type FakePusher } from './fakePusher.ts';

const APP = { app_id: '4', key: 'app-key', secret: 'app-secret' };
const JACK = basic('jack', 'jack-password');

let s: TestServer;
let pusher: FakePusher;

function as(auth: string | undefined, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth) headers.set('authorization', auth);
  return s.anonymous(path, { ...init, headers });
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

before(async () => {
  pusher = await startFakePusher(APP.app_id, APP.key, APP.secret);
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  assert.equal((await s.request('/internal/plugins/pusher', { method: 'PUT' })).status, 200);
});

describe('setting up', () => {
  it('says what to set before anything is sent', async () => {
    const r = await s.request('/plugin/pusher/trigger?channel=home&event=x&data=1');
    assert.equal(r.status, 400);
    assert.match(await r.text(), /not set up: an admin sets app_id/);
    const saved = await s.request('/plugin/pusher/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...APP, host: '127.0.0.1', port: String(pusher.port), ssl: 'false' }),
    });
    const settings = (await saved.json()) as Record<string, unknown>;
    assert.equal(settings['hasSecret'], true);
    assert.ok(!JSON.stringify(settings).includes(APP.secret));
  });
});

describe('triggering', () => {
  it("sends an action's changed value as an event, signed", async () => {
    const action =
      '<action><xpath>/data/sensors/temperature</xpath><url>/plugin/pusher/trigger?channel=home&amp;event=temperature</url><method>POST</method><mimetype>application/json</mimetype><data>{"temperature": {.}}</data></action>';
    assert.equal(
      (await s.request('/data/actions/action', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: action })).status,
      200,
    );
    await s.request('/data/sensors/temperature', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '21.5' });
    await s.request('/internal/flush');
    const sent = pusher.requests.at(-1)!;
    assert.ok(sent.valid);
    assert.equal(sent.path, '/apps/4/events');
    assert.deepEqual(sent.body, { name: 'temperature', channels: ['home'], data: '{"temperature": 21.5}' });
  });

  it('sends to several channels, leaving one socket out, and in batches', async () => {
    const r = await s.request('/plugin/pusher/trigger?channels=a,b&event=ping&socket_id=123.456', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"data": {"hello": "world"}}',
    });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(pusher.requests.at(-1)!.body, { name: 'ping', channels: ['a', 'b'], data: '{"hello":"world"}', socket_id: '123.456' });
    const batch = {
      batch: [
        { channel: 'a', name: 'one', data: { n: 1 } },
        { channel: 'b', name: 'two', data: 'plain' },
      ],
    };
    assert.equal(
      (
        await s.request('/plugin/pusher/trigger_batch', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batch),
        })
      ).status,
      200,
    );
    assert.deepEqual(pusher.requests.at(-1)!.body, {
      batch: [
        { channel: 'a', name: 'one', data: '{"n":1}' },
        { channel: 'b', name: 'two', data: 'plain' },
      ],
    });
    assert.ok(
      pusher.requests.every((q) => q.valid),
      'every request was signed right',
    );
  });

  it('refuses with a clear 400 before calling Pusher: channels, names, sizes, socket ids', async () => {
    const before = pusher.requests.length;
    const cases: [string, RegExp][] = [
      [`channels=${Array.from({ length: 11 }, (_, i) => `c${i}`).join(',')}&event=e&data=1`, /at most 10 channels/],
      ['channel=so/me!&event=e&data=1', /not a channel name/],
      [`channel=ok&event=${'e'.repeat(201)}&data=1`, /event name/],
      [`channel=ok&event=e&data=${'x'.repeat(10241)}`, /too much data/],
      ['channel=ok&event=e&data=1&socket_id=34554', /socket_id/],
      ['event=e&data=1', /at least one channel/],
    ];
    for (const [query, reason] of cases) {
      const r = await s.request(`/plugin/pusher/trigger?${query}`);
      assert.equal(r.status, 400, query.slice(0, 60));
      assert.match(await r.text(), reason);
    }
    assert.equal(pusher.requests.length, before);
    assert.equal((await as(JACK, '/plugin/pusher/trigger?channel=a&event=e&data=1')).status, 403, 'triggering is for admins and actions');
  });
});

describe('querying', () => {
  it('asks for channels, one channel, and its users', async () => {
    assert.deepEqual(await (await s.request('/plugin/pusher/channels?filter_by_prefix=presence-&info=user_count')).json(), {
      channels: { 'presence-chatroom': { user_count: 2 }, 'presence-lobby': { user_count: 1 } },
    });
    assert.deepEqual(pusher.requests.at(-1)!.query['info'], 'user_count');
    assert.deepEqual(await (await s.request('/plugin/pusher/channels/presence-chatroom?info=user_count')).json(), {
      occupied: true,
      user_count: 42,
    });
    assert.deepEqual(await (await s.request('/plugin/pusher/channels/presence-chatroom/users')).json(), {
      users: [{ id: '1035' }, { id: '4821' }],
    });
    assert.equal((await s.request('/plugin/pusher/channels/presence-chatroom/other')).status, 404);
    assert.equal((await s.request('/plugin/pusher/channels?info=a;b')).status, 400);
    assert.ok(pusher.requests.every((q) => q.valid));
  });

  it('says so when Pusher refuses the signature', async () => {
    await s.request('/data/plugindata/pusher/secret', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'wrong-secret' });
    const r = await s.request('/plugin/pusher/channels');
    assert.equal(r.status, 502);
    assert.match(await r.text(), /refused our signature/);
    await s.request('/data/plugindata/pusher/secret', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: APP.secret });
  });
});

describe('channel authentication', () => {
  it('signs private and presence subscriptions of a logged-in user, presence as that user', async () => {
    const priv = await as(JACK, '/plugin/pusher/auth', form({ channel_name: 'private-home', socket_id: '345.23' }));
    assert.deepEqual(await priv.json(), authenticate({ key: APP.key, secret: APP.secret, channel: 'private-home', socketId: '345.23' }));
    const presence = (await (
      await as(JACK, '/plugin/pusher/auth', form({ channel_name: 'presence-home', socket_id: '345.43245' }))
    ).json()) as { auth: string; channel_data: string };
    assert.deepEqual(JSON.parse(presence.channel_data), { user_id: 'jack', user_info: { name: 'jack' } });
    const expected = createHmac('sha256', APP.secret).update(`345.43245:presence-home:${presence.channel_data}`).digest('hex');
    assert.equal(presence.auth, `${APP.key}:${expected}`);
  });

  it("refuses anonymous clients, other users' channels, public channels and bad sockets", async () => {
    assert.equal((await as(undefined, '/plugin/pusher/auth', form({ channel_name: 'private-home', socket_id: '1.1' }))).status, 401);
    assert.equal((await as(JACK, '/plugin/pusher/auth', form({ channel_name: 'private-user-jill', socket_id: '1.1' }))).status, 403);
    assert.equal((await as(JACK, '/plugin/pusher/auth', form({ channel_name: 'private-user-jack', socket_id: '1.1' }))).status, 200);
    assert.equal((await as(JACK, '/plugin/pusher/auth', form({ channel_name: 'home', socket_id: '1.1' }))).status, 400);
    assert.equal((await as(JACK, '/plugin/pusher/auth', form({ channel_name: 'private-home', socket_id: '34554' }))).status, 400);
  });
});

describe('webhooks', () => {
  function hook(events: unknown[], opts: { key?: string; secret?: string; timeMs?: number } = {}): Promise<Response> {
    const body = JSON.stringify({ time_ms: opts.timeMs ?? Date.now(), events });
    const signature = createHmac('sha256', opts.secret ?? APP.secret)
      .update(body)
      .digest('hex');
    return s.anonymous('/plugin/pusher/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pusher-key': opts.key ?? APP.key, 'x-pusher-signature': signature },
      body,
    });
  }
  const channel = async (name: string) => {
    const r = await s.request(`/data/sensors/pusher/channel[name='${name}']`, { headers: { accept: 'application/json' } });
    return r.status === 200 ? ((await r.json()) as { channel: Record<string, unknown> }).channel : undefined;
  };

  it('records occupancy and presence from valid webhooks', async () => {
    assert.equal((await hook([{ name: 'channel_occupied', channel: 'presence-home' }])).status, 200);
    assert.equal(
      (
        await hook([
          { name: 'member_added', channel: 'presence-home', user_id: 'jack' },
          { name: 'member_added', channel: 'presence-home', user_id: 'jill' },
        ])
      ).status,
      200,
    );
    let c = await channel('presence-home');
    assert.equal(c?.['occupied'], true);
    assert.deepEqual(c?.['member'], ['jack', 'jill']);
    await hook([{ name: 'member_removed', channel: 'presence-home', user_id: 'jack' }]);
    assert.equal((await channel('presence-home'))?.['member'], 'jill');
    await hook([{ name: 'channel_vacated', channel: 'presence-home' }]);
    c = await channel('presence-home');
    assert.equal(c?.['occupied'], false);
    assert.equal(c?.['member'], undefined);
  });

  it('answers 401 and changes nothing for a wrong key, signature or an old message', async () => {
    const before = await (await s.request('/data/sensors/pusher')).text();
    const cases = [
      hook([{ name: 'channel_occupied', channel: 'evil' }], { key: 'other-key' }),
      hook([{ name: 'channel_occupied', channel: 'evil' }], { secret: 'guessed' }),
      hook([{ name: 'channel_occupied', channel: 'evil' }], { timeMs: Date.now() - 301_000 }),
      s.anonymous('/plugin/pusher/webhook', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-pusher-key': APP.key },
        body: '{}',
      }),
    ];
    for (const r of await Promise.all(cases)) assert.equal(r.status, 401);
    assert.equal(await (await s.request('/data/sensors/pusher')).text(), before);
  });
});
