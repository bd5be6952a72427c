/**
 * The submit plugin: the original test_serve.py flow end to end (register, follow the callback redirect,
 * submit JSON and a file), every error case with its exact body, path traversal, expiry, the loopback rule.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { isLoopback } from '../../../plugins/submit/register.ts';
import { startHttpServer, startTestServer, type TestServer } from '../../helpers.ts';

let dev: TestServer;
let registrationToken: string;
let callbackUrl: string;
const callbacks: URL[] = [];

/** Two ReproSchema ResponseActivity objects, as test_serve.py sends: opaque to the server. */
const RESPONSES = [1, 2].map((n) => ({
  '@context': 'https://raw.githubusercontent.com/ReproNim/reproschema/master/contexts/generic',
  '@type': 'reproterms:ResponseActivity',
  '@id': `uuid:0000000${n}-aaaa-bbbb-cccc-dddddddddddd`,
  'prov:used': ['https://example.org/activity', 'https://example.org/item', 'https://example.org/protocol'],
  lang: 'en',
  'prov:startedAtTime': '2020-06-07T15:31:00Z',
  'prov:endedAtTime': '2020-06-07T15:31:20Z',
  'prov:wasAssociatedWith': 'https://example.org/app',
  'prov:generated': `uuid:response-${n}`,
}));

async function get(server: TestServer, path: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await server.anonymous(path, { redirect: 'manual', ...init });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: r.status, body, headers: r.headers };
}

async function register(server: TestServer, token: string, callback: string): Promise<string> {
  const r = await get(server, `/plugin/submit/register?token=${token}&callback_url=${encodeURIComponent(callback)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.client_id;
}

async function authToken(clientId: string, query = ''): Promise<URL> {
  const r = await dev.anonymous(`/plugin/submit/token?client_id=${clientId}${query}`, { redirect: 'manual' });
  assert.equal(r.status, 302, await r.text());
  return new URL(r.headers.get('location')!);
}

before(async () => {
  const app = await startHttpServer((req, res) => {
    callbacks.push(new URL(req.url ?? '/', 'http://127.0.0.1'));
    res.writeHead(200, { 'content-type': 'text/plain' }).end('testback');
  });
  callbackUrl = `${app.url}/`;
  dev = await startTestServer({ dev: 'true' });
  assert.equal((await dev.request('/internal/plugins/submit', { method: 'PUT' })).status, 200);
  registrationToken = (await (await dev.request('/plugin/submit/command/token')).text()).trim();
  assert.match(registrationToken, /^[0-9a-f]{32}$/);
});

describe('the test_serve.py flow', () => {
  it('registers, follows the callback redirect, and submits JSON with a file and JSON alone', async () => {
    const clientId = await register(dev, registrationToken, callbackUrl);
    assert.match(clientId, /^c[0-9a-f]{32}$/);

    const location = await authToken(clientId, '&participant_id=foo&expiry_minutes=5');
    assert.equal(location.origin + location.pathname, callbackUrl);
    const token = location.searchParams.get('auth_token')!;
    assert.match(token, /^[0-9a-f]{32}$/);
    const expiry = new Date(location.searchParams.get('expiry')!);
    assert.ok(Math.abs(expiry.getTime() - (Date.now() + 5 * 60_000)) < 10_000, location.searchParams.get('expiry')!);
    assert.equal(location.searchParams.get('participant_id'), 'foo');
    await fetch(location); // the browser follows it to the app
    assert.equal(callbacks.at(-1)!.searchParams.get('auth_token'), token);

    const form = new FormData();
    form.set('auth_token', token);
    form.set('responses', JSON.stringify(RESPONSES));
    form.set('file', new Blob(['# README\n\nhello\n'], { type: 'text/markdown' }), 'README.md');
    const withFile = await get(dev, '/plugin/submit/submit', { method: 'POST', body: form });
    const formOnly = await get(dev, '/plugin/submit/submit', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ auth_token: token, responses: JSON.stringify(RESPONSES) }).toString(),
    });
    assert.deepEqual([withFile.body, formOnly.body], [{ status: 'accepted' }, { status: 'accepted' }]);

    const stored = (await (
      await dev.request(`/data/sensors/submit/${clientId}/submission?.VARIANT=multi`, { headers: { accept: 'application/json' } })
    ).json()) as { submission: any }[];
    assert.equal(stored.length, 2);
    const [first, second] = stored.map((s) => s.submission);
    assert.equal(first.participant_id, 'foo');
    assert.deepEqual(first.responses.response, RESPONSES, 'the JSON comes back as sent, @ and : keys included');
    assert.deepEqual(second.responses.response, RESPONSES);
    assert.equal(first.file.name, 'README.md');
    assert.equal(first.file.size, 16);
    assert.equal(first.file.contentType, 'text/markdown');
    assert.match(first.file.path, new RegExp(`^${clientId}/\\d{8}T\\d{9}Z-[0-9a-f]{6}-README\\.md$`));
    assert.equal(await readFile(join(dev.dir, 'files', 'submit', first.file.path), 'utf8'), '# README\n\nhello\n');
    assert.equal(second.file, undefined);
  });

  it("answers the token as JSON to a client that asks for JSON, and keeps the callback's own query", async () => {
    const clientId = await register(dev, registrationToken, `${callbackUrl}cb?app=1&x=a%20b`);
    const r = await get(dev, `/plugin/submit/token?client_id=${clientId}`, { headers: { accept: 'application/json' } });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['auth_token', 'expiry']);
    assert.ok(Math.abs(new Date(r.body.expiry).getTime() - (Date.now() + 90 * 60_000)) < 10_000, 'default: 90 minutes');
    const location = await authToken(clientId, '&participant_id=' + encodeURIComponent('p 1&x=2'));
    assert.equal(location.searchParams.get('app'), '1');
    assert.equal(location.searchParams.get('x'), 'a b');
    assert.equal(location.searchParams.get('participant_id'), 'p 1&x=2');
    assert.equal(location.search.split('?').length, 2);
  });

  it('takes a JSON body too, and lets a token be used until it expires', async () => {
    const clientId = await register(dev, registrationToken, callbackUrl);
    const token = (await get(dev, `/plugin/submit/token?client_id=${clientId}&format=json`)).body.auth_token;
    for (const body of [
      { auth_token: token, responses: { score: 3 } },
      { auth_token: token, mood: 'fine' },
    ]) {
      const r = await get(dev, '/plugin/submit/submit', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.deepEqual(r.body, { status: 'accepted' });
    }
    const stored = (await (
      await dev.request(`/data/sensors/submit/${clientId}/submission/responses?.VARIANT=multi`, { headers: { accept: 'application/json' } })
    ).json()) as { responses: unknown }[];
    assert.deepEqual(
      stored.map((s) => s.responses),
      [{ score: 3 }, { mood: 'fine' }],
    );
  });
});

describe('errors', () => {
  let clientId: string;
  let token: string;
  before(async () => {
    clientId = await register(dev, registrationToken, callbackUrl);
    token = (await get(dev, `/plugin/submit/token?client_id=${clientId}&format=json`)).body.auth_token;
  });

  it("has the original's 403 bodies for register and token", async () => {
    const cases: [string, number, unknown][] = [
      [`/plugin/submit/register?callback_url=${encodeURIComponent(callbackUrl)}`, 403, { status: 'not_authorized' }],
      [`/plugin/submit/register?token=&callback_url=${encodeURIComponent(callbackUrl)}`, 403, { status: 'not_authorized' }],
      [
        `/plugin/submit/register?token=${'0'.repeat(32)}&callback_url=${encodeURIComponent(callbackUrl)}`,
        403,
        { status: 'not_authorized_token' },
      ],
      ['/plugin/submit/token', 403, { status: 'not_authorized' }],
      ['/plugin/submit/token?client_id=cnothere', 403, { status: 'not_authorized' }],
      [`/plugin/submit/token?client_id=c${'0'.repeat(32)}`, 403, { status: 'not_authorized' }],
    ];
    for (const [path, status, body] of cases) {
      const r = await get(dev, path);
      assert.equal(r.status, status, path);
      assert.deepEqual(r.body, body, path);
    }
  });

  it('gives 400, not 500, for bad input, and registers nothing', async () => {
    const before = ((await (await dev.request('/plugin/submit/command/clients')).json()) as unknown[]).length;
    const cases: [string, string][] = [
      [`/plugin/submit/register?token=${registrationToken}`, 'missing_callback_url'],
      [`/plugin/submit/register?token=${registrationToken}&callback_url=not%20a%20url`, 'bad_callback_url'],
      [`/plugin/submit/register?token=${registrationToken}&callback_url=${encodeURIComponent('javascript:alert(1)')}`, 'bad_callback_url'],
      [`/plugin/submit/token?client_id=${clientId}&expiry_minutes=abc`, 'bad_expiry_minutes'],
      [`/plugin/submit/token?client_id=${clientId}&expiry_minutes=0`, 'bad_expiry_minutes'],
      [`/plugin/submit/token?client_id=${clientId}&expiry_minutes=-5`, 'bad_expiry_minutes'],
      [`/plugin/submit/token?client_id=${clientId}&expiry_minutes=1.5`, 'bad_expiry_minutes'],
    ];
    for (const [path, status] of cases) {
      const r = await get(dev, path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body.status, status, path);
      assert.ok(r.body.message, path);
    }
    assert.equal(((await (await dev.request('/plugin/submit/command/clients')).json()) as unknown[]).length, before);
  });

  it("has the original's 403 bodies for submit, and 400 for data that is not JSON", async () => {
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    const cases: [RequestInit, number, unknown][] = [
      [form({ responses: '{}' }), 403, { status: 'Unauthorized' }],
      [form({ auth_token: '' }), 403, { status: 'Unauthorized' }],
      [form({ auth_token: 'f'.repeat(32) }), 403, { status: 'Unauthorized token' }],
      [form({ auth_token: "x' or '1'='1" }), 403, { status: 'Unauthorized token' }],
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"responses":{}}' }, 403, { status: 'Unauthorized' }],
    ];
    for (const [init, status, body] of cases) {
      const r = await get(dev, '/plugin/submit/submit', init);
      assert.equal(r.status, status, String(init.body));
      assert.deepEqual(r.body, body, String(init.body));
    }
    const bad = await get(dev, '/plugin/submit/submit', form({ auth_token: token, responses: '{not json' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.status, 'bad_responses');
    assert.equal(
      (await get(dev, '/plugin/submit/submit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"auth_token":' }))
        .status,
      400,
    );
    assert.equal(
      (
        await get(dev, '/plugin/submit/submit', {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=x' },
          body: 'garbage',
        })
      ).status,
      400,
    );
    assert.equal((await get(dev, `/plugin/submit/submit?auth_token=${token}`)).status, 405);
    const none = await dev.request(`/data/sensors/submit/${clientId}`);
    assert.equal(none.status, 404, 'nothing was stored');
  });

  it("refuses an expired token with the original's body, and removes it", async () => {
    const expiring = (await get(dev, `/plugin/submit/token?client_id=${clientId}&format=json`)).body.auth_token;
    const tokens = `/data/plugindata/submit/tokens/token[client_id='${clientId}']`;
    const count = async () =>
      ((await (await dev.request(`${tokens}?.VARIANT=multiraw`, { headers: { accept: 'application/json' } })).json()) as unknown[]).length;
    assert.equal(await count(), 2);
    await dev.request(`/data/plugindata/submit/tokens/token[client_id='${clientId}'][last()]/expires?.VARIANT=raw`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: '1000',
    });
    const r = await get(dev, '/plugin/submit/submit', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth_token: expiring, responses: {} }),
    });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, { status: 'Token expired' });
    assert.equal(await count(), 1, 'the expired token is gone, the live one stays');
  });

  it("keeps uploaded files inside the client's folder whatever their names, within the size limit", async () => {
    for (const name of ['../../../etc/passwd', '..\\..\\boot.ini', '.htaccess', 'a\tb:c|d.txt', '']) {
      const form = new FormData();
      form.set('auth_token', token);
      form.set('file', new Blob(['x']), name);
      const r = await get(dev, '/plugin/submit/submit', { method: 'POST', body: form });
      assert.deepEqual(r.body, { status: 'accepted' }, name);
    }
    const files = (await (
      await dev.request(`/data/sensors/submit/${clientId}/submission/file/path?.VARIANT=multi`, { headers: { accept: 'application/json' } })
    ).json()) as { path: string }[];
    const names = files.map((f) => f.path.split('/'));
    assert.ok(
      names.every((parts) => parts.length === 2 && parts[0] === clientId),
      JSON.stringify(names),
    );
    assert.deepEqual(
      names.map((parts) => parts[1]!.replace(/^\d{8}T\d{9}Z-[0-9a-f]{6}-/, '')),
      ['passwd', 'boot.ini', 'htaccess', 'a_b_c_d.txt', 'upload'],
    );

    await dev.request('/data/plugindata/submit/maxUploadBytes', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '10' });
    const big = new FormData();
    big.set('auth_token', token);
    big.set('file', new Blob(['x'.repeat(11)]), 'big.bin');
    const r = await get(dev, '/plugin/submit/submit', { method: 'POST', body: big });
    assert.equal(r.status, 413);
    assert.equal(r.body.status, 'file_too_large');
    await dev.request('/data/plugindata/submit/maxUploadBytes', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: '10485760',
    });
  });
});

describe('production', () => {
  it('refuses loopback callback URLs in every spelling, and accepts others', async () => {
    const prod = await startTestServer();
    await prod.request('/internal/plugins/submit', { method: 'PUT' });
    const token = (await (await prod.request('/plugin/submit/command/token')).text()).trim();
    for (const url of [
      'http://127.0.0.1:3000/',
      'http://localhost:3000/',
      'http://LOCALHOST./',
      'http://app.localhost/',
      'http://[::1]:3000/',
      'http://0.0.0.0/',
      'http://127.5.6.7/',
      'http://0x7f.1/',
      'http://2130706433/',
      'http://[::ffff:127.0.0.1]/',
      'https://[0:0:0:0:0:0:0:1]/',
    ]) {
      const r = await get(prod, `/plugin/submit/register?token=${token}&callback_url=${encodeURIComponent(url)}`);
      assert.equal(r.status, 403, url);
      assert.deepEqual(r.body, { status: 'not_authorized_url' }, url);
    }
    await register(prod, token, 'https://app.example.org/callback');
    assert.equal(isLoopback(new URL('http://128.0.0.1/')), false);
    assert.equal(isLoopback(new URL('http://localhost.example.org/')), false);
  });
});

describe("submit's admin commands", () => {
  it('are its own: a name every object has is no command', async () => {
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      const r = await dev.request(`/plugin/submit/command/${name}`);
      assert.equal(r.status, 404, name);
      assert.match(await r.text(), new RegExp(`has no command ${name}; it has token, clients`));
    }
  });
});

describe('the registration token', () => {
  it('can be rotated by an admin only; the old one stops working, registered clients keep theirs', async () => {
    const clientId = await register(dev, registrationToken, callbackUrl);
    assert.equal((await dev.anonymous('/plugin/submit/command/token')).status, 401);
    const fresh = (await (await dev.request('/plugin/submit/command/token?rotate=1')).text()).trim();
    assert.notEqual(fresh, registrationToken);
    assert.deepEqual(
      (await get(dev, `/plugin/submit/register?token=${registrationToken}&callback_url=${encodeURIComponent(callbackUrl)}`)).body,
      { status: 'not_authorized_token' },
    );
    await register(dev, fresh, callbackUrl);
    assert.equal((await get(dev, `/plugin/submit/token?client_id=${clientId}&format=json`)).status, 200);
    registrationToken = fresh;
    const readable = await (await dev.request('/data/plugindata/submit')).text();
    assert.ok(!readable.includes(fresh), 'the token is a secret in ordinary reads');
  });
});

describe('CORS', () => {
  it('lets pages of any origin call it, with a preflight', async () => {
    const pre = await dev.anonymous('/plugin/submit/submit', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.org',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type');
    const r = await dev.anonymous('/plugin/submit', { headers: { origin: 'https://app.example.org' } });
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await r.json(), { hello: 'world' });
  });
});
