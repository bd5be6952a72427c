/** The plugin host over HTTP: discovery, install (twice), calls, access, isolation, errors, pages, uninstall. */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createToken } from '../../src/auth/tokens.ts';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, tempDir, type TestServer } from '../helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/plugins', import.meta.url));
const JACK = basic('jack', 'jack-password');
const JILL = basic('jill', 'jill-password');

let s: TestServer;

async function json(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const r = await s.request(path, { ...init, headers: { accept: 'application/json', ...init.headers } });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body };
}

/** The text of one value in the tree, or the status when there is none. */
async function value(path: string): Promise<string | number> {
  const r = await s.request(path, { headers: { accept: 'text/plain' } });
  return r.status === 200 ? (await r.text()).trim() : r.status;
}

async function as(auth: string | undefined, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth) headers.set('authorization', auth);
  return s.anonymous(path, { ...init, headers });
}

before(async () => {
  const dir = await tempDir();
  await cp(join(FIXTURES, 'tester'), join(dir, 'plugins', 'tester'), { recursive: true });
  s = await startTestServer({ pluginTimeoutMs: '300' }, dir);
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
});

describe('installing', () => {
  it("lists the available plugins: the package's and the database's own", async () => {
    const { status, body } = await json('/internal/plugins');
    assert.equal(status, 200);
    const sources = body.available.map((p: { source: string }) => p.source);
    assert.ok(sources.includes('hello') && sources.includes('tester'), sources.join());
    assert.deepEqual(body.installed, [{ name: 'user', source: 'user', running: true }], 'a new database has the user plugin');
  });

  it('installs one plugin twice under two names, each with its own data', async () => {
    assert.equal((await json('/internal/plugins/t1?source=tester', { method: 'PUT' })).status, 200);
    assert.equal((await json('/internal/pluginControl/installstd?pluginName=t2&stdName=tester')).status, 200);
    assert.equal(await (await s.anonymous('/plugin/t1')).text(), 'tester t1');
    assert.equal(await (await s.anonymous('/plugin/t2')).text(), 'tester t2');
    assert.equal(await value('/data/plugindata/t1/label'), 't1 settings');
    assert.equal(await value('/data/plugindata/t2/label'), 't2 settings');
    assert.equal(await value('/data/devices/t2/marked'), 'no');
    const owned = await (await s.request('/data/devices/t1?.VARIANT=raw')).text();
    assert.match(owned, /own:plugin="t1"/);
    const { body } = await json('/internal/plugins');
    assert.deepEqual(body.installed, [
      { name: 'user', source: 'user', running: true },
      { name: 't1', source: 'tester', running: true },
      { name: 't2', source: 'tester', running: true },
    ]);
  });

  it('refuses a second install under a taken name, an unknown source, a bad name, and non-admins', async () => {
    assert.equal((await json('/internal/plugins/t1?source=tester', { method: 'PUT' })).status, 409);
    const unknown = await json('/internal/plugins/nope', { method: 'PUT' });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /no plugin nope/);
    assert.equal((await json('/internal/plugins/1bad?source=tester', { method: 'PUT' })).status, 400);
    assert.equal((await json('/internal/plugins/x?source=..%2F..%2Fetc', { method: 'PUT' })).status, 400);
    assert.equal((await as(JACK, '/internal/plugins/t3?source=tester', { method: 'PUT' })).status, 403);
    assert.equal((await as(undefined, '/internal/plugins')).status, 401);
  });

  it("runs the plugin's own actions as the plugin", async () => {
    const r = await s.request('/action/t1/mark');
    assert.equal(r.status, 200);
    await s.request('/internal/flush');
    assert.equal(await value('/data/devices/t1/marked'), 'yes');
    assert.equal(await value('/data/status/devices/t1/alive'), 'true');
    assert.equal(await value('/data/devices/t2/marked'), 'no', 'the other copy is untouched');
  });
});

describe('calling', () => {
  it('answers 404 for an unknown plugin or method', async () => {
    assert.equal((await s.anonymous('/plugin/nothere')).status, 404);
    const r = await s.anonymous('/plugin/t1/nomethod');
    assert.equal(r.status, 404);
    assert.match(await r.text(), /no method nomethod/);
  });

  it('turns a throwing plugin into a 502 with its message, a hanging one into a 504, and goes on', async () => {
    const boom = await s.anonymous('/plugin/t1/boom');
    assert.equal(boom.status, 502);
    assert.match(await boom.text(), /plugin t1\/boom failed: kaboom/);
    const hang = await s.anonymous('/plugin/t1/hang');
    assert.equal(hang.status, 504);
    assert.match(await hang.text(), /did not answer within 0.3 s/);
    assert.equal((await s.anonymous('/plugin/t1')).status, 200);
  });

  it("passes a plugin's own error status and full replies through", async () => {
    const conflict = await s.anonymous('/plugin/t1/conflict');
    assert.equal(conflict.status, 409);
    assert.match(await conflict.text(), /that conflicts/);
    const created = await s.anonymous('/plugin/t1/created');
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('x-tester'), 'yes');
    assert.deepEqual(await created.json(), { made: true });
  });

  it('hands over query, form and JSON parameters, and the caller', async () => {
    let r = await as(JACK, '/plugin/t1/echo?a=1&b=two');
    let body = await r.json();
    assert.deepEqual(body.params, { a: '1', b: 'two' });
    assert.deepEqual(body.caller, { user: 'jack', admin: false, anonymous: false });
    r = await as(JACK, '/plugin/t1/echo?q=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 5, nested: { y: 1 } }),
    });
    body = await r.json();
    assert.deepEqual(body.params, { q: '1', x: '5' });
    assert.deepEqual(body.json, { x: 5, nested: { y: 1 } });
    r = await as(JACK, '/plugin/t1/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'f=a+b&g=%3C',
    });
    assert.deepEqual((await r.json()).params, { f: 'a b', g: '<' });
    r = await as(JACK, '/plugin/t1/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /JSON body is not valid/);
  });

  it("gives user=U and U's data only to U, an admin or the plugin itself", async () => {
    await s.request('/data/identities/jack/plugindata/t1', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"methods":"a,b","token":{"access_token":"tok"}}',
    });
    let r = await as(JACK, '/plugin/t1/echo?user=jack');
    let body = await r.json();
    assert.equal(body.user, 'jack');
    assert.deepEqual(body.userData, { methods: 'a,b', token: { access_token: 'tok' } });
    r = await as(JILL, '/plugin/t1/echo?user=jack');
    assert.equal(r.status, 403);
    assert.match(await r.text(), /jill may not act for jack/);
    body = await (await s.request('/plugin/t1/echo?user=jack')).json();
    assert.equal(body.user, 'jack');
    assert.equal((await as(JACK, '/plugin/t1/echo?user=..%2Fx')).status, 400);
  });

  it('keeps methods to who they are for: public, logged-in users, admins', async () => {
    assert.equal((await s.anonymous('/plugin/t1/echo')).status, 401);
    assert.equal((await as(JACK, '/plugin/t1/selfwrite?path=/data/devices/t1/x&value=1')).status, 403);
    assert.equal((await as(basic('jack', 'wrong-password'), '/plugin/t1')).status, 401);
  });
});

describe('isolation', () => {
  const write = (auth: string | undefined, path: string) => as(auth, `/plugin/t1/write?path=${encodeURIComponent(path)}&value=v`);

  it('lets a plugin write for a caller where both the caller and the plugin may, and nowhere else', async () => {
    assert.equal((await write(JACK, '/data/identities/jack/plugindata/t1/x')).status, 200);
    assert.equal((await write(JILL, '/data/identities/jill/plugindata/t1/x')).status, 200);
    assert.equal((await write(JACK, '/data/identities/jill/plugindata/t1/x')).status, 403, "not jill's, for jack");
    assert.equal((await write(JACK, '/data/sensors/t1/jack/x')).status, 403, "the plugin's sensors are not jack's to write");
    assert.equal((await write(JACK, '/data/people/jack/fromplugin')).status, 403, 'people/ is beyond the plugin');
    assert.equal((await write(undefined, '/data/sandbox/x')).status, 401, 'anonymous may not call it at all');
    assert.equal((await s.request(`/plugin/t1/write?path=${encodeURIComponent('/data/sensors/t1/admin/x')}&value=v`)).status, 200);
  });

  it('lets a plugin write the subtrees its definition declares, and no hidden data', async () => {
    assert.equal((await write(JACK, '/data/sensors/shared/x')).status, 403, 'jack may not write sensors, so his deputy may not');
    assert.equal((await write(undefined, '/data/sensors/shared/x')).status, 401);
    assert.equal((await s.request('/plugin/t1/selfwrite?path=/data/sensors/shared/y&value=1')).status, 200);
    const hidden = await as(JACK, `/plugin/t1/write?path=${encodeURIComponent('/data/sensors/t1/h')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ '@own:plugin': 'other', v: 1 }),
    });
    assert.ok([400, 403].includes(hidden.status), `${hidden.status}: ${await hidden.text()}`);
    assert.equal(await value('/data/sensors/t1/h'), 404);
  });

  it('refuses writes outside them, with 403, and changes nothing', async () => {
    for (const path of [
      '/data/sensors/t2/x',
      '/data/plugindata/t2/x',
      '/data/identities/jill/x',
      '/data/actions/newaction',
      '/data/environment/x',
    ]) {
      const r = await write(JACK, path);
      assert.equal(r.status, 403, path);
    }
    assert.equal(await value('/data/sensors/t2/x'), 404);
    assert.equal(await value('/data/environment/x'), 404);
    // With only its own rights, called by an admin: still not the admin's rights.
    assert.equal((await s.request('/plugin/t1/selfwrite?path=/data/environment/x&value=1')).status, 403);
    assert.equal((await s.request('/plugin/t1/selfwrite?path=/data/devices/t1/y&value=1')).status, 200);
  });

  it("holds a plugin to its caller's rights, a scoped API token's scope included", async () => {
    const { token } = await createToken(s.db, { user: 'jack', path: '/data/people/jack', rights: ['get', 'put'] });
    const path = encodeURIComponent('/data/identities/jack/plugindata/t1/fromtoken');
    assert.equal((await as(JACK, `/plugin/t1/publicwrite?path=${path}&value=1`)).status, 200);
    assert.equal((await as(`Bearer ${token}`, `/plugin/t1/publicwrite?path=${path}&value=2`)).status, 403, 'outside the scope');
    assert.equal((await as(undefined, `/plugin/t1/publicwrite?path=${path}&value=3`)).status, 403, 'anonymous may not write there');
    assert.equal((await as(`Bearer ${token}`, '/plugin/t1/echo')).status, 403, 'tokens are for /data');
  });

  it('lets a plugin read its own secrets, and only its own', async () => {
    await s.request('/data/plugindata/t1/client_secret', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'shh-t1' });
    await s.request('/data/plugindata/t2/client_secret', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'shh-t2' });
    assert.deepEqual(await (await s.anonymous('/plugin/t1/secret')).json(), { client_secret: 'shh-t1' });
    assert.deepEqual(await (await s.anonymous('/plugin/t2/secret')).json(), { client_secret: 'shh-t2' });
    const asJack = await (await as(JACK, '/data/plugindata/t1', { headers: { accept: 'application/json' } })).text();
    assert.ok(!asJack.includes('shh'));
  });
});

describe('pages', () => {
  it("serves a plugin's pages with a strict content security policy, and renders its readme", async () => {
    const installed = await s.request('/internal/plugins/hello', { method: 'PUT' });
    assert.equal(installed.status, 200, await installed.text());
    const page = await s.anonymous('/plugin/hello/page/setup.html');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await page.text(), /igor-page\.js/);
    const readme = await s.anonymous('/plugin/hello/page/readme.md');
    assert.equal(readme.status, 200);
    assert.match(await readme.text(), /<h1>hello<\/h1>/);
    assert.equal((await s.anonymous('/static/igor-page.js')).status, 200);
  });

  it("serves nothing outside the plugin's folder, nor its code", async () => {
    for (const page of ['..%2Fplugin.ts', 'plugin.ts', '.hidden.html', '..%2F..%2Fpackage.json', 'nothere.html']) {
      assert.equal((await s.anonymous(`/plugin/hello/page/${page}`)).status, 404, page);
    }
  });
});

describe('the hello example', () => {
  it('greets anyone, lets an admin change the greeting, and counts per user', async () => {
    assert.equal(await (await s.anonymous('/plugin/hello')).text(), 'Hello from hello!\n');
    assert.equal(
      (
        await as(JACK, '/plugin/hello/settings', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"greeting":"Hi"}',
        })
      ).status,
      403,
    );
    const set = await s.request('/plugin/hello/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"greeting":"Hi"}',
    });
    assert.equal((await set.json()).greeting, 'Hi');
    assert.equal(await (await s.anonymous('/plugin/hello')).text(), 'Hi from hello!\n');
    for (let i = 1; i <= 2; i++)
      assert.deepEqual(await (await as(JACK, '/plugin/hello/count?user=jack', { method: 'POST' })).json(), { user: 'jack', count: i });
    assert.equal(await value('/data/sensors/hello/jack/count'), '2');
  });
});

describe('uninstalling and restarting', () => {
  it('brings installed plugins back after a restart', async () => {
    const dir = await tempDir();
    const first = await startTestServer({}, dir);
    await first.request('/internal/plugins/hi?source=hello', { method: 'PUT' });
    await first.close();
    const second = await startTestServer({}, dir);
    assert.equal(await (await second.anonymous('/plugin/hi')).text(), 'Hello from hi!\n');
  });

  it('removes what the plugin brought, and leaves the other copy alone', async () => {
    const r = await s.request('/internal/plugins/t1', { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.equal((await s.anonymous('/plugin/t1')).status, 404);
    assert.equal(await value('/data/plugindata/t1'), 404);
    assert.equal(await value('/data/devices/t1'), 404);
    assert.equal((await s.request('/action/t1/mark')).status, 404);
    assert.equal(await (await s.anonymous('/plugin/t2')).text(), 'tester t2');
    assert.equal(await value('/data/plugindata/t2/label'), 't2 settings');
    assert.equal((await s.request('/internal/plugins/t1', { method: 'DELETE' })).status, 404);
    assert.equal((await json('/internal/pluginControl/uninstall?pluginName=t2')).status, 200);
    assert.deepEqual(
      (await json('/internal/plugins')).body.installed.map((p: { name: string }) => p.name),
      ['user', 'hello'],
    );
  });
});
