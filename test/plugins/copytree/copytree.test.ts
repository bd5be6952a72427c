/** Igor's copytree over HTTP: within the tree, to and from other servers, with the caller's rights only. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../../src/auth/users.ts';
import { basic, startHttpServer, startTestServer, type TestServer } from '../../helpers.ts';

let s: TestServer;
const JACK = basic('jack', 'a good long phrase');
const received: { method: string; type: string; body: string }[] = [];
let remote = '';

before(async () => {
  s = await startTestServer();
  assert.equal((await s.request('/internal/plugins/copytree', { method: 'PUT' })).status, 200);
  await setPassword(s.db, 'jack', 'a good long phrase');
  await s.request('/data/sandbox/a', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '21.5' });
  await s.request('/data/sandbox/lamp', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{"lamp": {"on": true, "level": 3}}',
  });
  ({ url: remote } = await startHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method === 'GET') {
        res.writeHead(req.url === '/reading' ? 200 : 503, { 'content-type': 'text/plain' }).end(req.url === '/reading' ? '17.25' : 'down');
        return;
      }
      received.push({ method: req.method!, type: req.headers['content-type'] ?? '', body });
      res.writeHead(204).end();
    });
  }));
});

const copy = (query: Record<string, string>, auth?: string) =>
  (auth ? s.anonymous : s.request)(`/plugin/copytree?${new URLSearchParams(query)}`, {
    headers: { accept: 'text/plain', ...(auth ? { authorization: auth } : {}) },
  });
const text = async (path: string) => (await s.request(path, { headers: { accept: 'text/plain' } })).text();

describe('copytree', () => {
  it('copies a value, a whole element, and appends with method=POST, answering where the copy went', async () => {
    const r = await copy({ src: '/data/sandbox/a', dst: '/data/sandbox/b' });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '/data/sandbox/b\n');
    assert.equal(await text('/data/sandbox/b'), '21.5\n');

    assert.equal((await copy({ src: '/data/sandbox/lamp', dst: '/data/sandbox/lamp2', mimetype: 'application/json' })).status, 200);
    assert.deepEqual(await (await s.request('/data/sandbox/lamp2', { headers: { accept: 'application/json' } })).json(), {
      lamp2: { on: true, level: 3 },
    });
    const structured = await copy({ src: '/data/sandbox/lamp', dst: '/data/sandbox/x' });
    assert.equal(structured.status, 400, 'text/plain of an element with children');
    assert.match(await structured.text(), /mimetype=application\/json/);

    for (let i = 0; i < 2; i++)
      assert.equal((await copy({ src: '/data/sandbox/a', dst: '/data/sandbox/log/entry', method: 'POST' })).status, 200);
    assert.equal(
      await (
        await s.request(`/evaluate/${encodeURIComponent('count(/data/sandbox/log/entry)')}`, { headers: { accept: 'text/plain' } })
      ).text(),
      '2\n',
    );
  });

  it('reads from and writes to other servers', async () => {
    assert.equal((await copy({ src: `${remote}/reading`, dst: '/data/sandbox/remote' })).status, 200);
    assert.equal(await text('/data/sandbox/remote'), '17.25\n');
    const out = await copy({ src: '/data/sandbox/a', dst: `${remote}/sink`, method: 'POST' });
    assert.equal(await out.text(), `${remote}/sink\n`);
    assert.deepEqual(received.at(-1), { method: 'POST', type: 'text/plain', body: '21.5' });
    const down = await copy({ src: `${remote}/down`, dst: '/data/sandbox/never' });
    assert.equal(down.status, 502);
    assert.equal((await s.request('/data/sandbox/never')).status, 404, 'nothing written');
  });

  it("uses the caller's rights: nothing they may not read exists, and nothing is written where they may not", async () => {
    await s.request('/data/environment/secretish', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' });
    assert.equal((await copy({ src: '/data/identities/admin/encryptedPassword', dst: '/data/sandbox/stolen' }, JACK)).status, 404);
    assert.equal((await copy({ src: '/data/sandbox/a', dst: '/data/environment/overwritten' }, JACK)).status, 403);
    assert.equal((await s.request('/data/sandbox/stolen')).status, 404);
    assert.equal((await s.anonymous('/plugin/copytree?src=/data/sandbox/a&dst=/data/sandbox/c')).status, 401);
  });

  it('refuses what it cannot do with a 400 and changes nothing', async () => {
    for (const q of <Record<string, string>[]>[
      { src: '/data/sandbox/a' },
      { src: '/data/sandbox/a', dst: 'sandbox/z' },
      { src: '/data/sandbox/a', dst: '/data/sandbox/z', mimetype: 'image/png' },
      { src: '/data/sandbox/a', dst: '/data/sandbox/z', method: 'DELETE' },
      { src: 'file:///etc/passwd', dst: '/data/sandbox/z' },
    ]) {
      assert.equal((await copy(q)).status, 400, JSON.stringify(q));
    }
    assert.equal((await s.request('/data/sandbox/z')).status, 404);
  });
});

/** Each way copytree once acted for jack with more than jack's rights (issue 30), and what now holds. */
describe('copytree as a deputy', () => {
  const raw = async (path: string) => (await s.request(`${path}?.VARIANT=raw`, { headers: { accept: 'text/plain' } })).text();

  it('reads for jack only what jack may read: not his own OAuth refresh token, which only the plugin may', async () => {
    await s.request('/data/identities/jack/plugindata/_fitbit/token', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"token": {"refresh_token": "R3fr3sh-secret", "access_token": "acc"}}',
    });
    for (const src of [
      '/data/identities/jack/plugindata/_fitbit/token/refresh_token',
      '/data/identities/jack/plugindata/_fitbit/token',
      "/data/identities/jack/plugindata/_fitbit/token[starts-with(refresh_token, 'R')]",
    ]) {
      const r = await copy({ src, dst: '/data/sandbox/loot', mimetype: 'application/json' }, JACK);
      assert.equal(r.status, 404, `${src}: ${await r.text()}`);
    }
    assert.equal((await s.request('/data/sandbox/loot')).status, 404);
    assert.match(await raw('/data/identities/jack/plugindata/_fitbit/token/refresh_token'), /R3fr3sh-secret/, 'still there');
  });

  it("writes for jack only where jack may write: not the plugin's own places, nor sensors, devices or status", async () => {
    for (const dst of [
      '/data/sensors/x',
      '/data/sensors/copytree/x',
      '/data/devices/copytree/x',
      '/data/status/sensors/copytree/x',
      '/data/identities/admin/plugindata/copytree/x',
      '/data/plugindata/copytree/x',
    ]) {
      const r = await copy({ src: '/data/sandbox/a', dst }, JACK);
      assert.equal(r.status, 403, `${dst}: ${await r.text()}`);
      assert.equal((await s.request(dst)).status, 404, `${dst} untouched`);
    }
    assert.equal((await copy({ src: '/data/sandbox/a', dst: '/data/people/jack/a' }, JACK)).status, 200, 'his own: yes');
  });

  it('never lets jack place an action that would run as the plugin', async () => {
    await s.request('/data/sandbox/act', {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<act><action><name>evil</name><interval>1</interval><url>/data/environment/owned?.METHOD=PUT&amp;owned=1</url></action></act>',
    });
    const r = await copy({ src: '/data/sandbox/act/action', dst: '/data/plugindata/copytree/action', mimetype: 'application/json' }, JACK);
    assert.equal(r.status, 403, await r.text());
    assert.doesNotMatch(await (await s.request('/internal/dump')).text(), /evil/);
  });
});

describe("copytree's requests to other servers", () => {
  let hits = 0;
  let inside = '';

  before(async () => {
    ({ url: inside } = await startHttpServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('the admin page of a service on this machine');
    }));
  });

  it("go for a user to public addresses only: never this machine, the home network or a cloud's metadata", async () => {
    const port = new URL(inside).port;
    for (const src of [
      `${inside}/admin`,
      `http://localhost:${port}/admin`,
      `http://[::1]:${port}/admin`,
      `http://[::ffff:127.0.0.1]:${port}/admin`,
      `http://0x7f000001:${port}/admin`,
      `http://169.254.169.254/latest/meta-data/`,
      `http://10.0.0.1/`,
      `http://192.168.1.1/`,
    ]) {
      const r = await copy({ src, dst: '/data/sandbox/fetched' }, JACK);
      assert.equal(r.status, 403, `${src}: ${r.status}`);
      assert.equal(r.headers.get('igor-error-code'), 'forbidden_destination', src);
    }
    assert.equal((await copy({ src: '/data/sandbox/a', dst: `${inside}/sink` }, JACK)).status, 403, 'nor writes there');
    assert.equal(hits, 0, 'the service was never reached');
    assert.equal((await s.request('/data/sandbox/fetched')).status, 404);
  });

  it('go anywhere for an admin, and for a user where an admin allows the host', async () => {
    assert.equal((await copy({ src: `${inside}/admin`, dst: '/data/sandbox/fetched' })).status, 200, "an admin's copy");
    assert.equal(hits, 1);
    const allowed = await startTestServer({ allowHosts: '127.0.0.0/8' });
    await allowed.request('/internal/plugins/copytree', { method: 'PUT' });
    await setPassword(allowed.db, 'jack', 'a good long phrase');
    const r = await allowed.anonymous(`/plugin/copytree?${new URLSearchParams({ src: `${inside}/admin`, dst: '/data/sandbox/f' })}`, {
      headers: { authorization: JACK },
    });
    assert.equal(r.status, 200, await r.text());
    assert.equal(hits, 2);
  });

  it('never tell the log the password a URL carries', async () => {
    const logged = await startTestServer({ logLevel: 'warn' });
    await logged.request('/internal/plugins/copytree', { method: 'PUT' });
    const r = await logged.request(
      `/plugin/copytree?${new URLSearchParams({ src: 'http://me:pa55w0rd-in-url@127.0.0.1:9/x', dst: '/data/sandbox/f' })}`,
    );
    assert.equal(r.status, 502);
    assert.doesNotMatch(await r.text(), /pa55w0rd/);
    const log = await (await logged.request('/internal/log?lines=500')).text();
    assert.match(log, /\*\*\*@127\.0\.0\.1:9/, 'the failure is logged');
    assert.doesNotMatch(log, /pa55w0rd/);
  });
});
