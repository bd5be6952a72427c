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
