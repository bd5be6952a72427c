/**
 * Nothing a client sends can break the database (issue #15): characters XML cannot hold are refused however
 * they are written, nesting is bounded on every way in, and keys and numbers come back as sent — each checked
 * across a restart, since a database that takes what it cannot load again is broken.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
const XML = { 'content-type': 'application/xml' };
const JSON_ = { 'content-type': 'application/json', accept: 'application/json' };

before(async () => {
  s = await startTestServer();
});

async function put(
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; code: string | null; body: string }> {
  const r = await s.request(path, { method: 'PUT', headers, body });
  return { status: r.status, code: r.headers.get('igor-error-code'), body: await r.text() };
}

const tree = async () => (await s.request('/data?.VARIANT=raw')).text();

/** The database as the next start will see it: closed and opened again. */
async function reopened(): Promise<TestServer> {
  await s.close();
  s = await startTestServer({}, s.dir);
  return s;
}

describe('characters XML cannot hold', () => {
  it('are refused after character references are decoded, with where they are, and change nothing', async () => {
    const before = await tree();
    const r = await put('/data/sandbox/cr', '<cr>a&#x1;b&#0;c&#xFFFE;</cr>', XML);
    assert.equal(r.status, 400);
    assert.match(r.body, /U\+0001.*line 1, column 5/);
    for (const [body, headers] of [
      ['<cr x="&#x1F;">a</cr>', XML],
      ['<cr><![CDATA[a\u0001]]></cr>', XML],
      ['{"cr": "a\\u0001b"}', JSON_],
      ['{"cr": {"\\u0000": 1}}', JSON_],
      ['a\u0000b', { 'content-type': 'text/plain' }],
      ['cr=a%01b', { 'content-type': 'application/x-www-form-urlencoded' }],
    ] as const) {
      const refused = await put('/data/sandbox/cr', body, headers);
      assert.equal(refused.status, 400, `${body}: ${refused.body}`);
    }
    assert.equal((await s.request('/data/sandbox/cr?.METHOD=PUT&cr=a%01b')).status, 400, 'nor through a query');
    assert.equal(await tree(), before);
    await reopened();
    assert.equal((await s.request('/internal/version')).status, 200, 'and the database opens again');
  });
});

describe('nesting', () => {
  const nested = (n: number, inner = 'x') => '<d>'.repeat(n) + inner + '</d>'.repeat(n);

  it('is bounded on every way in, also where a write extends what is already deep', async () => {
    const before = await tree();
    for (let i = 0; i < 3; i++) {
      const r = await put(`/data/sandbox/deep${i}`, `<deep${i}>${nested(3000)}</deep${i}>`, XML);
      assert.equal(r.status, 400, r.body);
      assert.equal(r.code, 'too_deep', r.body);
      assert.match(r.body, /the most is 256/);
    }
    // 100,000 levels are also 100,000 elements: refused before they are parsed (--max-body-elements).
    const huge = await put('/data/sandbox/deep', `<deep>${nested(100_000)}</deep>`, XML);
    assert.equal(huge.status, 413, 'not a 500');
    const json = await put('/data/sandbox/deep', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), JSON_);
    assert.equal(json.status, 413, json.body);
    const deepJson = await put('/data/sandbox/deep', '{"a":'.repeat(2000) + '1' + '}'.repeat(2000), JSON_);
    assert.equal(deepJson.status, 400, deepJson.body);
    assert.equal(deepJson.code, 'too_deep');
    assert.equal(await tree(), before);
    // 200 levels under sandbox/deep (itself at 3) fit; 60 more below them do not.
    assert.equal((await put('/data/sandbox/deep', `<deep>${nested(200)}</deep>`, XML)).status, 200);
    const bottom = `/data/sandbox/deep${'/d'.repeat(200)}`;
    const extended = await put(`${bottom}/more`, `<more>${nested(60)}</more>`, XML);
    assert.equal(extended.status, 400, extended.body);
    assert.equal(
      (await s.request(`${bottom}/more`, { method: 'PUT', headers: XML, body: `<more>${nested(40)}</more>` })).status,
      200,
      'up to the limit is fine',
    );
  });

  it('at the limit, is read, evaluated, saved and loaded like anything else', async () => {
    for (const accept of ['application/xml', 'application/json', 'text/plain']) {
      const r = await s.request('/data/sandbox/deep', { headers: { accept } });
      assert.equal(r.status, 200, accept);
      await r.text();
    }
    assert.equal((await s.anonymous('/data/sandbox')).status, 200, 'anonymous, through a view');
    assert.equal(
      (await (await s.anonymous(`/evaluate/${encodeURIComponent('count(//d)')}`, { headers: { accept: 'text/plain' } })).text()).trim(),
      '240',
    );
    assert.equal((await s.request('/internal/save')).status, 200);
    await reopened();
    assert.equal(
      (await (await s.request(`/evaluate/${encodeURIComponent('count(//d)')}`, { headers: { accept: 'text/plain' } })).text()).trim(),
      '240',
    );
  });
});

describe('keys and numbers', () => {
  it('come back as sent, prototype names included', async () => {
    const sent = { __proto__: { p: 1 }, constructor: 'c', toString: 't', hasOwnProperty: { valueOf: 2 } };
    const text = '{"__proto__":{"p":1},"constructor":"c","toString":"t","hasOwnProperty":{"valueOf":2}}';
    assert.equal((await put('/data/sandbox/keys', text, JSON_)).status, 200);
    const back = await (await s.request('/data/sandbox/keys?.VARIANT=content', { headers: { accept: 'application/json' } })).text();
    assert.equal(back.trim(), text);
    void sent;
    const form = await s.request('/data/sandbox/form', {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '__proto__=x&constructor=y',
    });
    assert.equal(form.status, 200);
    assert.equal(
      (await (await s.request('/data/sandbox/form?.VARIANT=content', { headers: { accept: 'application/json' } })).text()).trim(),
      '{"__proto__":"x","constructor":"y"}',
    );
    await reopened();
    assert.equal(
      (await (await s.request('/data/sandbox/keys?.VARIANT=content', { headers: { accept: 'application/json' } })).text()).trim(),
      text,
    );
  });

  it('are kept when a double holds them, refused when it would change them', async () => {
    for (const n of ['1e400', '-1e400', '1e-400', '12345678901234567891', '9007199254740993']) {
      const r = await put('/data/sandbox/n', `{"n": ${n}}`, JSON_);
      assert.equal(r.status, 400, `${n}: ${r.body}`);
      assert.match(r.body, /cannot be kept as sent.*send it as a string/);
    }
    for (const [n, back] of [
      ['1.5', 1.5],
      ['-2', -2],
      ['9007199254740992', 9007199254740992],
      ['1e21', 1e21],
      ['0.1', 0.1],
    ] as const) {
      assert.equal((await put('/data/sandbox/n', `{"n": ${n}}`, JSON_)).status, 200, n);
      assert.deepEqual(
        JSON.parse(await (await s.request('/data/sandbox/n', { headers: { accept: 'application/json' } })).text()),
        { n: back },
        n,
      );
    }
    assert.equal((await put('/data/sandbox/n', '{"n": "12345678901234567891"}', JSON_)).status, 200, 'as a string it is fine');
    assert.equal((await put('/data/sandbox/n', '{"n": "1e400 \\" 1e400"}', JSON_)).status, 200, 'numbers inside strings are not numbers');
  });
});
