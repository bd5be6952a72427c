/**
 * Sessions end (src/auth/sessions.ts): after logging out, a password change (the user's own or an admin's reset),
 * a demotion, a deletion (and an account made again under the same name), "log out everywhere" and an admin's
 * ending them, a copy of the old cookie is worth nothing. MQTT connections of the embedded broker close when the
 * credentials they came with no longer hold. Credentials (tokens, sessions) are managed with a password or a
 * session, never with a token.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { createToken } from '../../src/auth/tokens.ts';
import { setPassword } from '../../src/auth/users.ts';
import {
  basic,
  cookiesOf,
  logIn,
  onCleanup,
  startTestServer,
  tokenParts,
  waitFor,
  type BrowserSession,
  type TestServer,
} from '../helpers.ts';

let s: TestServer;

/** Who the server takes a request with this session's cookie for ('' when nobody). */
async function whoIs(session: BrowserSession): Promise<string> {
  const r = await s.anonymous('/internal/whoami', { headers: { cookie: session.cookie, accept: 'text/plain' } });
  return (await r.text()).trim();
}

function as(session: BrowserSession, method: string, path: string, body?: unknown): Promise<Response> {
  return s.anonymous(path, {
    method,
    redirect: 'manual',
    headers: { cookie: session.cookie, 'x-csrf-token': session.token, accept: 'application/json', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function user(name: string, password: string, admin = false): Promise<void> {
  await setPassword(s.db, name, password);
  if (admin) assert.equal((await s.request(`/internal/users/${name}/admin`, { method: 'PUT', body: '{"admin":true}' })).status, 200);
}

before(async () => {
  s = await startTestServer({ mqttBroker: '0' });
});

describe('a session', () => {
  it('ends when its user logs out: a copy of the cookie no longer works', async () => {
    await user('jack', 'jack-password');
    const laptop = await logIn(s, 'jack', 'jack-password');
    const phone = await logIn(s, 'jack', 'jack-password');
    assert.equal(await whoIs(laptop), 'jack');
    const out = await as(laptop, 'POST', '/logout');
    assert.equal(out.status, 303);
    assert.match(out.headers.getSetCookie().join(), /igor_session=;/);
    assert.equal(await whoIs(laptop), '', 'the cookie as it was before logging out');
    assert.equal(await whoIs(phone), 'jack', 'only that session');
  });

  it("ends everywhere when its user's password changes, but the browser that changed it gets a new one", async () => {
    await user('jill', 'jill-password');
    const here = await logIn(s, 'jill', 'jill-password');
    const there = await logIn(s, 'jill', 'jill-password');
    const r = await as(here, 'PUT', '/internal/users/jill/password', { password: 'quite another phrase', oldPassword: 'jill-password' });
    assert.equal(r.status, 200, await r.text());
    assert.equal(await whoIs(there), '', 'the other browser');
    assert.equal(await whoIs(here), '', 'the old cookie here too');
    const renewed = cookiesOf(r);
    assert.ok(renewed['igor_session'] && renewed['igor_csrf'], 'a new session for the browser that changed it');
    assert.equal(await whoIs({ cookie: `igor_session=${encodeURIComponent(renewed['igor_session'])}`, token: '' }), 'jill');
  });

  it("ends when an admin resets its user's password, also through Igor's user plugin and /data", async () => {
    await user('joe', 'joe-password');
    const a = await logIn(s, 'joe', 'joe-password');
    assert.equal((await s.request('/internal/users/joe/password', { method: 'PUT', body: '{"password":"reset-by-admin"}' })).status, 200);
    assert.equal(await whoIs(a), '');
    const b = await logIn(s, 'joe', 'reset-by-admin');
    assert.equal((await s.request('/plugin/user/password?username=joe&password=reset-again-1')).status, 200);
    assert.equal(await whoIs(b), '');
    const c = await logIn(s, 'joe', 'reset-again-1');
    await setPassword(s.db, 'joe', 'set-from-the-command-line');
    assert.equal(await whoIs(c), '', 'however the password was changed');
  });

  it('ends when its admin is demoted, and when its user is deleted and made again under the same name', async () => {
    await user('boss', 'boss-password', true);
    const boss = await logIn(s, 'boss', 'boss-password');
    assert.equal((await as(boss, 'GET', '/internal/users')).status, 200, 'an admin');
    assert.equal((await s.request('/internal/users/boss/admin', { method: 'PUT', body: '{"admin":false}' })).status, 200);
    assert.equal(await whoIs(boss), '');
    await user('ann', 'ann-password');
    const ann = await logIn(s, 'ann', 'ann-password');
    assert.equal((await s.request('/internal/users/ann', { method: 'DELETE' })).status, 200);
    await user('ann', 'ann-password');
    assert.equal(await whoIs(ann), '', 'the new ann is not the old one');
  });

  it('is listed for its user, who can log out everywhere; an admin can end anyone’s', async () => {
    await user('kim', 'kim-password');
    const one = await logIn(s, 'kim', 'kim-password');
    const two = await logIn(s, 'kim', 'kim-password');
    const list = (await (await as(one, 'GET', '/internal/sessions')).json()) as { id: string; current: boolean }[];
    assert.equal(list.length, 2);
    assert.equal(list.filter((x) => x.current).length, 1);
    assert.doesNotMatch(JSON.stringify(list), /hash|stamp/, 'nothing that would let a session be taken over');
    assert.equal((await as(one, 'GET', '/internal/sessions?user=jill')).status, 403, "not someone else's");
    const other = list.find((x) => !x.current)!;
    assert.equal((await as(one, 'DELETE', `/internal/sessions/${other.id}`)).status, 200);
    assert.equal(await whoIs(two), '');
    assert.equal(await whoIs(one), 'kim');
    const three = await logIn(s, 'kim', 'kim-password');
    assert.equal((await as(one, 'DELETE', '/internal/sessions')).status, 200, 'log out everywhere');
    assert.equal(await whoIs(one), '');
    assert.equal(await whoIs(three), '');
    const four = await logIn(s, 'kim', 'kim-password');
    assert.equal((await s.request('/internal/sessions?user=kim', { method: 'DELETE' })).status, 200, "an admin ends kim's");
    assert.equal(await whoIs(four), '');
  });

  it('is one of at most 20 a user keeps: a new one beyond ends the oldest', async () => {
    await user('max', 'max-password');
    const first = await logIn(s, 'max', 'max-password');
    for (let i = 0; i < 19; i++) await logIn(s, 'max', 'max-password');
    assert.equal(await whoIs(first), 'max', 'twenty');
    await logIn(s, 'max', 'max-password');
    assert.equal(await whoIs(first), '', 'the twenty-first ends the first');
    assert.equal(
      ((await (await s.request('/internal/sessions?user=max', { headers: { accept: 'application/json' } })).json()) as unknown[]).length,
      20,
    );
  });

  it('is not readable or writable through /data but by an admin asking raw', async () => {
    await logIn(s, 'jack', 'jack-password');
    const mine = await s.anonymous('/data/identities/jack?.VARIANT=raw', { headers: { authorization: basic('jack', 'jack-password') } });
    assert.doesNotMatch(await mine.text(), /loginSessions/);
    const forge = await s.anonymous('/data/identities/jack/loginSessions/session', {
      method: 'POST',
      headers: { authorization: basic('jack', 'jack-password'), 'content-type': 'application/json' },
      body: '{"id":"0123456789abcdef"}',
    });
    assert.equal(forge.status, 403);
    assert.match(await (await s.request('/data/identities/jack?.VARIANT=raw')).text(), /loginSessions/);
  });
});

describe('credentials', () => {
  it('are managed with a password or a session, never with an API token', async () => {
    const { token } = await createToken(s.db, { user: 'jack', path: '/data/devices/kitchen', rights: ['get'] });
    const other = await createToken(s.db, { user: 'jack', path: '/data/people/jack', rights: ['get'] });
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal((await s.anonymous('/internal/tokens', { headers: bearer })).status, 403, 'list');
    const id = tokenParts(other.token).id;
    assert.equal((await s.anonymous(`/internal/tokens/${id}`, { method: 'DELETE', headers: bearer })).status, 403, 'revoke');
    assert.equal((await s.anonymous('/internal/sessions', { headers: bearer })).status, 403, 'sessions');
    assert.equal(
      (await s.anonymous(`/internal/tokens/${id}`, { method: 'DELETE', headers: { authorization: basic('jack', 'jack-password') } }))
        .status,
      200,
    );
  });
});

describe('an MQTT connection', () => {
  const url = () => `mqtt://127.0.0.1:${s.mqttPort}`;

  async function connect(username: string, password: string): Promise<{ client: MqttClient; closed: () => boolean }> {
    const client = await mqtt.connectAsync(url(), { username, password, reconnectPeriod: 0 });
    onCleanup(() => client.endAsync(true));
    let closed = false;
    client.on('close', () => (closed = true));
    return { client, closed: () => closed };
  }

  it('closes when the password it came with changes, the token it came with is revoked, or its admin is demoted', async () => {
    await user('dev', 'dev-password');
    const byPassword = await connect('dev', 'dev-password');
    const { token, id } = await createToken(s.db, { user: 'dev', path: '/data/devices/dev', rights: ['put'] });
    const byToken = await connect('device', token);
    const other = await connect('admin', s.adminPassword);
    await s.request(`/internal/tokens/${id}`, { method: 'DELETE' });
    await waitFor(() => byToken.closed(), 'the connection of the revoked token to close');
    assert.equal(byPassword.closed(), false, 'a token revoked is no reason to close a password login');
    await setPassword(s.db, 'dev', 'dev-new-password');
    await waitFor(() => byPassword.closed(), 'the connection with the old password to close');
    await user('chief', 'chief-password', true);
    const chief = await connect('chief', 'chief-password');
    await s.request('/internal/users/chief/admin', { method: 'PUT', body: '{"admin":false}' });
    await waitFor(() => chief.closed(), "the demoted admin's connection to close");
    assert.equal(other.closed(), false, 'the others stay');
  });
});
