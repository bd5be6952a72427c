/** Access control over HTTP: every way to authenticate, the default rules, secrets, sessions, failures. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createToken, revokeToken } from '../../src/auth/tokens.ts';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, type TestServer, tokenParts } from '../helpers.ts';

const JACK = basic('jack', 'jack-password');
const JILL = basic('jill', 'jill-password');
const xml = { 'content-type': 'application/xml' };

let s: TestServer;

before(async () => {
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
  for (const [path, body] of [
    ['environment/weather', '<weather><temperature>12</temperature></weather>'],
    ['sensors/fitbit/jack', '<jack><weight>80</weight></jack>'],
    ['plugindata/_fitbit', '<_fitbit><client_id>abc</client_id><client_secret>s3cret-client</client_secret></_fitbit>'],
    [
      'identities/jack/plugindata/_fitbit',
      '<_fitbit><token><access_token>tok-jack</access_token><refresh_token>ref-jack</refresh_token></token><system>METRIC</system></_fitbit>',
    ],
    ['devices/lamp', '<lamp><on>false</on></lamp>'],
  ]) {
    const r = await s.request(`/data/${path}`, { method: 'PUT', headers: xml, body });
    assert.equal(r.status, 200, `${path}: ${await r.text()}`);
  }
});

async function status(path: string, init: RequestInit & { auth?: string } = {}): Promise<number> {
  const headers = new Headers(init.headers);
  if (init.auth) headers.set('authorization', init.auth);
  const r = await s.anonymous(path, { ...init, headers });
  await r.arrayBuffer();
  return r.status;
}

describe('default rules', () => {
  it('lets anyone read environment/, status/ and services/igor, and use sandbox/', async () => {
    assert.equal(await status('/data/environment/weather/temperature'), 200);
    assert.equal(await status('/data/status'), 200);
    assert.equal(await status('/data/services/igor'), 200);
    assert.equal(await status('/data/sandbox/note', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'hi' }), 200);
    assert.equal(await status('/data/sandbox/note'), 200);
    assert.equal(await status('/data/sandbox/note', { method: 'DELETE' }), 200);
  });

  it('asks anonymous clients to log in (401 with WWW-Authenticate) for anything else', async () => {
    const r = await s.anonymous('/data/sensors/fitbit/jack');
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.match(await r.text(), /log in/);
    const fromPage = await s.anonymous('/data/sensors/fitbit/jack', { headers: { 'x-requested-with': 'igor-page' } });
    assert.equal(fromPage.status, 401);
    assert.equal(fromPage.headers.get('www-authenticate'), null, 'no password dialog over a page');
    assert.equal(await status('/data/environment/weather', { method: 'PUT', headers: xml, body: '<weather/>' }), 401);
    assert.equal(await status('/data/devices/lamp/on', { method: 'DELETE' }), 401);
  });

  it('shows anonymous clients only what they may read of /data itself', async () => {
    const r = await s.anonymous('/data', { headers: { accept: 'application/json' } });
    assert.equal(r.status, 200);
    const data = (await r.json()) as { data: Record<string, unknown> };
    assert.ok('environment' in data.data && 'status' in data.data);
    for (const hidden of ['identities', 'plugindata', 'sensors', 'devices', 'actions', 'people']) assert.ok(!(hidden in data.data), hidden);
    assert.deepEqual(Object.keys(data.data['services'] as object), ['igor']);
  });

  it('refuses a wrong password with 401, not anonymous access', async () => {
    const r = await s.anonymous('/data/environment/weather', { headers: { authorization: basic('jack', 'wrong') } });
    assert.equal(r.status, 401);
    assert.match(await r.text(), /wrong user name or password/);
    assert.equal(await status('/data/environment', { auth: basic('nobody', 'whatever-pw') }), 401);
    assert.equal(await status('/data/environment', { auth: 'Digest abc' }), 401);
  });

  it('lets a user read and write their own identity and person, and read sensors, devices and actions', async () => {
    assert.equal(
      await status('/data/identities/jack/email', {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: 'jack@example.org',
        auth: JACK,
      }),
      200,
    );
    assert.equal(
      await status('/data/people/jack/room', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'kitchen', auth: JACK }),
      200,
    );
    assert.equal(await status('/data/sensors/fitbit/jack/weight', { auth: JACK }), 200);
    assert.equal(await status('/data/devices/lamp', { auth: JACK }), 200);
    assert.equal(await status('/data/actions', { auth: JACK }), 200);
    assert.equal(await status('/data/people/jill', { auth: JACK }), 200);
  });

  it("forbids (403) a user someone else's identity, writing sensors, devices, actions and plugindata", async () => {
    assert.equal(await status('/data/identities/jill', { auth: JACK }), 403);
    assert.equal(
      await status('/data/identities/jill/email', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x', auth: JACK }),
      403,
    );
    assert.equal(
      await status('/data/people/jill/room', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x', auth: JACK }),
      403,
    );
    assert.equal(
      await status('/data/devices/lamp/on', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'true', auth: JACK }),
      403,
    );
    assert.equal(
      await status('/data/actions/action', {
        method: 'POST',
        headers: xml,
        body: '<action><url>/internal/save</url></action>',
        auth: JACK,
      }),
      403,
    );
    assert.equal(await status('/data/plugindata/_fitbit', { auth: JACK }), 403);
    assert.equal(await status('/data/sensors/fitbit/jack', { method: 'DELETE', auth: JACK }), 403);
    const lamp = await (await s.request('/data/devices/lamp/on', { headers: { accept: 'text/plain' } })).text();
    assert.equal(lamp.trim(), 'false');
  });

  it('refuses a DELETE that would also remove something the user may not delete, and deletes nothing', async () => {
    await s.request('/data/sandbox/x', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '1' });
    assert.equal(await status("/data/*[name()='sandbox' or name()='devices']", { method: 'DELETE', auth: JACK }), 403);
    assert.equal(await status('/data/sandbox/x'), 200);
    assert.equal(await status('/data/devices/lamp', { auth: JACK }), 200);
  });

  it('lets nobody but an admin make themselves admin, set a password hash or add API tokens', async () => {
    const text = { 'content-type': 'text/plain' };
    assert.equal(await status('/data/identities/jack/admin', { method: 'PUT', headers: text, body: 'true', auth: JACK }), 403);
    assert.equal(
      await status('/data/identities/jack', { method: 'PUT', headers: xml, body: '<jack><admin>true</admin></jack>', auth: JACK }),
      403,
    );
    assert.equal(await status('/data/identities/jack/encryptedPassword', { method: 'PUT', headers: text, body: 'x', auth: JACK }), 403);
    assert.equal(
      await status('/data/identities/jack/apiTokens', {
        method: 'PUT',
        headers: xml,
        body: '<apiTokens><token><id>0</id></token></apiTokens>',
        auth: JACK,
      }),
      403,
    );
    assert.equal(await status('/data/plugindata/_fitbit', { auth: JACK }), 403); // still not an admin
    assert.equal(await status('/data/identities/jack/email', { auth: JACK }), 200); // and nothing else was lost
  });

  it('keeps the secrets a user cannot see when the user replaces their identity', async () => {
    const before = await s.request('/data/identities/jack?.VARIANT=raw');
    assert.match(await before.text(), /encryptedPassword/);
    const mine = await (await s.anonymous('/data/identities/jack', { headers: { authorization: JACK } })).text();
    assert.doesNotMatch(mine, /encryptedPassword|tok-jack/);
    const put = await s.anonymous('/data/identities/jack', {
      method: 'PUT',
      headers: { ...xml, authorization: JACK },
      body: mine.replace('jack@example.org', 'jack@example.net'),
    });
    assert.equal(put.status, 200, await put.text());
    assert.equal(await status('/data/identities/jack/email', { auth: JACK }), 200);
    const after = await (await s.request('/data/identities/jack?.VARIANT=raw')).text();
    assert.match(after, /jack@example\.net/);
    assert.match(after, /<encryptedPassword>/);
    assert.match(after, /<access_token>tok-jack<\/access_token>/);
    assert.equal(await status('/data/environment', { auth: JACK }), 200, 'the password still works');
  });

  it('refuses hidden (namespaced) data from anyone but an admin', async () => {
    const r = await s.anonymous('/data/people/jack/x', {
      method: 'PUT',
      headers: { ...xml, authorization: JACK },
      body: '<x xmlns:own="http://jackjansen.nl/igor/owner" own:plugin="fitbit">1</x>',
    });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /hidden/);
  });

  it('keeps /internal and /action for admins', async () => {
    assert.equal(await status('/internal/version'), 200);
    assert.equal(await status('/internal/save'), 401);
    assert.equal(await status('/internal/save', { auth: JACK }), 403);
    assert.equal(await status('/internal/flush', { auth: JACK }), 403);
    assert.equal(await status('/action/_start', { auth: JACK }), 403);
    assert.equal(await status('/internal/save', { auth: basic('admin', s.adminPassword) }), 200);
  });

  it('refuses a forged in-process credential', async () => {
    assert.equal(await status('/data/plugindata', { headers: { 'x-igor-internal': 'guess system' } }), 401);
    assert.equal(await status('/data/plugindata', { headers: { 'x-igor-internal': 'guess plugin:_fitbit' } }), 401);
  });
});

describe('secrets', () => {
  const reads = [
    '/data/plugindata/_fitbit',
    '/data/identities/jack/plugindata/_fitbit',
    '/data/identities/jack',
    '/data/identities',
    '/data',
  ];

  for (const accept of ['application/xml', 'application/json', 'text/plain']) {
    it(`are left out of ${accept} reads, for the admin too unless raw`, async () => {
      for (const path of reads) {
        const r = await s.request(path, { headers: { accept } });
        assert.equal(r.status, 200, path);
        const body = await r.text();
        for (const secret of ['s3cret-client', 'tok-jack', 'ref-jack', 'scrypt'])
          assert.ok(!body.includes(secret), `${path} as ${accept} shows ${secret}`);
      }
      const own = await s.anonymous('/data/identities/jack', { headers: { accept, authorization: JACK } });
      const body = await own.text();
      assert.equal(own.status, 200);
      for (const secret of ['tok-jack', 'ref-jack', 'scrypt']) assert.ok(!body.includes(secret), `jack's own identity shows ${secret}`);
      assert.match(body, /METRIC/); // what is not secret is there
    });
  }

  it('are left out of raw and multi reads by anyone but an admin', async () => {
    for (const path of [
      '/data/identities/jack?.VARIANT=raw',
      '/data/identities/jack?.VARIANT=multiraw',
      '/data/identities/jack/plugindata?.VARIANT=multi',
    ]) {
      const r = await s.anonymous(path, { headers: { authorization: JACK, accept: 'application/json' } });
      assert.equal(r.status, 200, path);
      const body = await r.text();
      for (const secret of ['tok-jack', 'ref-jack', 'scrypt']) assert.ok(!body.includes(secret), `${path} shows ${secret}`);
    }
  });

  it('are refused when asked for directly, with a reason', async () => {
    let r = await s.request('/data/plugindata/_fitbit/client_secret');
    assert.equal(r.status, 403);
    assert.match(await r.text(), /secret.*VARIANT=raw/);
    r = await s.anonymous('/data/identities/jack/plugindata/_fitbit/token/access_token', { headers: { authorization: JACK } });
    assert.equal(r.status, 403);
    assert.match(await r.text(), /only an admin/);
    assert.equal(await status('/data/identities/jack/encryptedPassword?.VARIANT=raw', { auth: JACK }), 403);
  });

  it('are shown to an admin asking with .VARIANT=raw', async () => {
    const r = await s.request('/data/plugindata/_fitbit/client_secret?.VARIANT=raw', { headers: { accept: 'text/plain' } });
    assert.equal(r.status, 200);
    assert.equal((await r.text()).trim(), 's3cret-client');
    const all = await (await s.request('/data/identities/jack?.VARIANT=raw')).text();
    assert.match(all, /tok-jack/);
  });

  it('cannot be read around through /evaluate by anyone but an admin', async () => {
    const asJack = async (expr: string) =>
      (
        await (
          await s.anonymous(`/evaluate/${encodeURIComponent(expr)}`, { headers: { authorization: JACK, accept: 'text/plain' } })
        ).text()
      ).trim();
    assert.equal(await asJack('string(/data/identities/jack/plugindata/_fitbit/token/access_token)'), '');
    assert.equal(await asJack('count(//encryptedPassword)'), '0');
    assert.equal(await asJack('string(/data/plugindata/_fitbit/client_id)'), '');
    assert.equal(await asJack('contains(/data/identities/jack/plugindata/_fitbit, "tok")'), 'false');
    assert.equal(await asJack('string(/data/identities/jack/plugindata/_fitbit/system)'), 'METRIC');
    assert.equal(await asJack('/data/sensors/fitbit/jack/weight + 1'), '81');
    const anonymous = await (
      await s.anonymous(`/evaluate/${encodeURIComponent('count(/data/identities/*)')}`, { headers: { accept: 'text/plain' } })
    ).text();
    assert.equal(anonymous.trim(), '0');
    const admin = await (
      await s.request(`/evaluate/${encodeURIComponent('string(//client_secret)')}`, { headers: { accept: 'text/plain' } })
    ).text();
    assert.equal(admin.trim(), 's3cret-client');
  });
});

describe('API tokens', () => {
  it('act as their user within their path and rights only', async () => {
    const { token } = await createToken(s.db, { user: 'jack', path: '/data/people/jack', rights: ['get', 'put'] });
    const bearer = `Bearer ${token}`;
    assert.equal(
      await status('/data/people/jack/mood', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'fine', auth: bearer }),
      200,
    );
    assert.equal(await status('/data/people/jack/mood', { auth: bearer }), 200);
    assert.equal(await status('/data/people/jack/mood', { method: 'DELETE', auth: bearer }), 403); // no delete right
    assert.equal(await status('/data/identities/jack', { auth: bearer }), 403); // outside its path
    assert.equal(await status('/data/sensors', { auth: bearer }), 403);
  });

  it("never give more than their user has, even an admin's token narrowed to a path", async () => {
    const jacks = await createToken(s.db, { user: 'jack', path: '/data/devices', rights: ['get', 'put', 'post', 'delete'] });
    assert.equal(
      await status('/data/devices/lamp/on', {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: 'true',
        auth: `Bearer ${jacks.token}`,
      }),
      403,
    );
    const admins = await createToken(s.db, { user: 'admin', path: '/data/sensors', rights: ['get'] });
    assert.equal(await status('/data/sensors/fitbit/jack', { auth: `Bearer ${admins.token}` }), 200);
    assert.equal(await status('/data/plugindata', { auth: `Bearer ${admins.token}` }), 403);
    assert.equal(await status('/internal/save', { auth: `Bearer ${admins.token}` }), 403);
  });

  it('stop working when revoked or expired, and garbage is a 401', async () => {
    const t = await createToken(s.db, { user: 'jack', path: '/data/people/jack', rights: ['get'] });
    assert.equal(await status('/data/people/jack', { auth: `Bearer ${t.token}` }), 200);
    await revokeToken(s.db, t.id);
    assert.equal(await status('/data/people/jack', { auth: `Bearer ${t.token}` }), 401);
    const expired = await createToken(s.db, {
      user: 'jack',
      path: '/data/people/jack',
      rights: ['get'],
      expires: Math.floor(Date.now() / 1000) - 1,
    });
    assert.equal(await status('/data/people/jack', { auth: `Bearer ${expired.token}` }), 401);
    assert.equal(await status('/data/people/jack', { auth: 'Bearer igor_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 401);
    assert.equal(await status('/data/people/jack', { auth: 'Bearer nonsense' }), 401);
    const forged = t.token.slice(0, -4) + 'AAAA';
    assert.equal(await status('/data/people/jack', { auth: `Bearer ${forged}` }), 401);
  });

  it('are stored only as hashes', async () => {
    const t = await createToken(s.db, { user: 'jill', path: '/data/people/jill', rights: ['get'] });
    const raw = await (await s.request('/data/identities/jill/apiTokens?.VARIANT=raw')).text();
    assert.ok(raw.includes(t.id));
    assert.ok(!raw.includes(tokenParts(t.token).secret));
  });
});

describe('browser sessions', () => {
  function cookiesOf(r: Response): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      out[pair!.slice(0, eq)] = pair!.slice(eq + 1);
    }
    return out;
  }

  async function logIn(user: string, password: string, returnTo = '/'): Promise<{ cookie: string; csrf: string; response: Response }> {
    const page = await s.anonymous('/login');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form/);
    const csrf = cookiesOf(page)['igor_csrf']!;
    assert.ok(csrf);
    const response = await s.anonymous('/login', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `igor_csrf=${csrf}` },
      body: new URLSearchParams({ username: user, password, _csrf: csrf, returnTo }).toString(),
    });
    const set = cookiesOf(response);
    const session = set['igor_session'];
    // Logged in, the session's own token replaces the form's.
    const token = session ? decodeURIComponent(set['igor_csrf']!) : csrf;
    return { cookie: `igor_csrf=${token}` + (session ? `; igor_session=${session}` : ''), csrf: token, response };
  }

  it('logs in with the form, reads as the user, and writes only with the CSRF token', async () => {
    const { cookie, csrf, response } = await logIn('jack', 'jack-password', '/data/people/jack');
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/data/people/jack');
    assert.match(response.headers.getSetCookie().join(), /igor_session=[^;]+;.*HttpOnly/i);
    assert.equal(await status('/data/people/jack', { headers: { cookie } }), 200);
    assert.equal(await status('/data/identities/jill', { headers: { cookie } }), 403);
    const put = { method: 'PUT', headers: { cookie, 'content-type': 'text/plain' }, body: 'happy' };
    assert.equal(await status('/data/people/jack/mood', put), 403, 'no CSRF token');
    assert.equal(await status('/data/people/jack/mood', { ...put, headers: { ...put.headers, 'x-csrf-token': 'wrong' } }), 403);
    assert.equal(await status('/data/people/jack/mood', { ...put, headers: { ...put.headers, 'x-csrf-token': csrf } }), 200);
    assert.equal(await status(`/data/people/jack/mood?.METHOD=PUT&mood=sad&_csrf=${csrf}`, { headers: { cookie } }), 200);
    const mood = await (await s.request('/data/people/jack/mood', { headers: { accept: 'text/plain' } })).text();
    assert.equal(mood.trim(), 'sad');
  });

  it('sends a wrong password back to the form, and never redirects elsewhere', async () => {
    const bad = await logIn('jack', 'nope-nope');
    assert.equal(bad.response.status, 303);
    assert.match(bad.response.headers.get('location') ?? '', /^\/login\?error=1/);
    assert.ok(!bad.cookie.includes('igor_session'));
    for (const evil of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const r = await logIn('jack', 'jack-password', evil);
      assert.equal(r.response.headers.get('location'), '/', evil);
    }
  });

  it('refuses a log-in form posted without the CSRF cookie (from another site)', async () => {
    const r = await s.anonymous('/login', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'jack', password: 'jack-password', _csrf: 'x' }).toString(),
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers.getSetCookie().length, 0);
  });

  it('ignores a tampered session cookie and logs out', async () => {
    const { cookie, csrf } = await logIn('jill', 'jill-password');
    const tampered = cookie.replace(
      /igor_session=([^;.]+)/,
      (_, payload: string) =>
        `igor_session=${Buffer.from(Buffer.from(payload, 'base64url').toString().replace('jill', 'admin')).toString('base64url')}`,
    );
    assert.notEqual(tampered, cookie);
    assert.equal(await status('/data/plugindata', { headers: { cookie: tampered } }), 401);
    const out = await s.anonymous(`/logout?_csrf=${encodeURIComponent(csrf)}`, { method: 'POST', redirect: 'manual', headers: { cookie } });
    assert.equal(out.status, 303);
    assert.match(out.headers.getSetCookie().join(), /igor_session=;/);
  });
});

describe('access failures', () => {
  it('are recorded for the admin, once per who/what/where, and readable by nobody else', async () => {
    const path = '/data/devices/lamp/brightness';
    for (let i = 0; i < 5; i++)
      assert.equal(await status(path, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: `${i}`, auth: JILL }), 403);
    await s.request('/internal/flush');
    const r = await s.request('/data/services/igor/accessFailures/accessFailure?.VARIANT=multi', {
      headers: { accept: 'application/json' },
    });
    const list = (await r.json()) as {
      ref: string;
      accessFailure: { who: string; operation: string; path: string; requestPath: string };
    }[];
    const mine = list.filter((f) => f.accessFailure.who === 'jill' && f.accessFailure.path === path);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.accessFailure.operation, 'put', "Igor's lowercase operation");
    assert.equal(mine[0]!.accessFailure.requestPath, path);
    assert.equal(await status('/data/services/igor/accessFailures', { auth: JILL }), 403);
    assert.equal(await status('/data/services/igor/accessFailures'), 401);
    const igor = await (await s.anonymous('/data/services/igor', { headers: { accept: 'application/json' } })).text();
    assert.ok(!igor.includes('accessFailure'), igor);
  });

  it("name the action whose call was refused, as Igor's records do", async () => {
    // A plugin's action acts with the plugin's rights, which do not reach environment/.
    const action = '<action><name>overreach</name><url>/data/environment/overreached</url><method>PUT</method><data>1</data></action>';
    assert.equal(
      (
        await s.request("/data/plugindata/ghost/action[name='overreach']", {
          method: 'PUT',
          headers: { 'content-type': 'application/xml' },
          body: action,
        })
      ).status,
      200,
    );
    await s.request('/action/ghost/overreach');
    await s.request('/internal/flush');
    const r = await s.request('/data/services/igor/accessFailures/accessFailure?.VARIANT=multi', {
      headers: { accept: 'application/json' },
    });
    const list = (await r.json()) as { accessFailure: { who: string; operation: string; path: string; action?: string } }[];
    const refused = list.find((f) => f.accessFailure.path === '/data/environment/overreached');
    assert.ok(refused, JSON.stringify(list));
    assert.equal(refused.accessFailure.operation, 'put');
    assert.match(refused.accessFailure.action ?? '', /^overreach \(\/data\/plugindata\/ghost\/action/);
  });
});

describe('--no-auth', () => {
  it('lets anyone do anything, for development', async () => {
    const open = await startTestServer({ noAuth: 'true' });
    const r = await open.anonymous('/data/identities/admin/x', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '1' });
    assert.equal(r.status, 200);
    assert.equal((await open.anonymous('/internal/save')).status, 200);
  });
});
