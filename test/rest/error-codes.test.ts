/**
 * Every error answer carries a stable code beside its message (README's error table): in a JSON body
 * `{error, code, status}`, and in the Igor-Error-Code header whatever the format, so clients and tests match
 * codes, not wording.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer({ maxResultBytes: '20000' });
  await setPassword(s.db, 'jack', 'a good long phrase');
  await s.request('/data/sandbox/two/x', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '1' });
  await s.request('/data/sandbox/two/x', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '2' });
  await s.request('/data/sandbox/big', {
    method: 'PUT',
    headers: { 'content-type': 'application/xml' },
    body: `<big>${'<r>0123456789</r>'.repeat(3000)}</big>`,
  });
});

const JSON_ACCEPT = { accept: 'application/json' };

async function code(
  path: string,
  init: RequestInit & { who?: string } = {},
): Promise<{ status: number; code: string | null; body: { error: string; code: string; status: number } }> {
  const headers = { ...JSON_ACCEPT, ...(init.headers as Record<string, string>) };
  const r =
    init.who === undefined
      ? await s.request(path, { ...init, headers })
      : await s.anonymous(path, { ...init, headers: init.who ? { ...headers, authorization: init.who } : headers });
  return {
    status: r.status,
    code: r.headers.get('igor-error-code'),
    body: (await r.json()) as { error: string; code: string; status: number },
  };
}

const JACK = basic('jack', 'a good long phrase');
const put = (type: string, body: string): RequestInit => ({ method: 'PUT', headers: { ...JSON_ACCEPT, 'content-type': type }, body });

describe('error codes', () => {
  for (const [what, path, init, status, expected] of [
    ['a syntax error in an XPath', '/data/sandbox/x[[', {}, 400, 'xpath_syntax'],
    ['an unknown function', `/evaluate/${encodeURIComponent('nope(1)')}`, {}, 400, 'xpath_error'],
    ['nothing matches', '/data/sandbox/nothing', {}, 404, 'not_found'],
    ['several matches for one answer', '/data/sandbox/two/x', {}, 400, 'selects_many'],
    ['a secret, even for an admin', '/data/identities/jack/encryptedPassword', {}, 403, 'forbidden_secret'],
    ['an answer over the limit', '/data/sandbox/big', {}, 400, 'result_too_large'],
    ['malformed XML', '/data/sandbox/y', put('application/xml', '<y><z></y>'), 400, 'bad_xml'],
    ['malformed JSON', '/data/sandbox/y', put('application/json', '{"y": '), 400, 'bad_json'],
    ['a character XML cannot hold', '/data/sandbox/y', put('application/xml', '<y>&#x1;</y>'), 400, 'bad_character'],
    [
      'nesting past --max-depth',
      '/data/sandbox/y',
      put('application/xml', `<y>${'<d>'.repeat(300)}${'</d>'.repeat(300)}</y>`),
      400,
      'too_deep',
    ],
    ['an unsupported body type', '/data/sandbox/y', put('image/png', 'x'), 415, 'unsupported_media_type'],
    ['no credentials', '/data/identities', { who: '' }, 401, 'unauthorized'],
    ['a user where the rules refuse', '/data/environment/x', { ...put('text/plain', '1'), who: JACK }, 403, 'forbidden'],
    [
      'a weak password',
      '/internal/users',
      { method: 'POST', headers: { ...JSON_ACCEPT, 'content-type': 'application/json' }, body: '{"name": "kim", "password": "kim12345"}' },
      400,
      'weak_password',
    ],
    ['an unknown route', '/nowhere', {}, 404, 'not_found'],
    ['a failure on request', '/internal/fail', {}, 500, 'internal'],
  ] as const) {
    it(`${what}: ${status} ${expected}`, async () => {
      const r = await code(path, init as RequestInit & { who?: string });
      assert.equal(r.status, status, r.body.error);
      assert.deepEqual([r.body.code, r.code, r.body.status], [expected, expected, status], r.body.error);
      assert.ok(r.body.error.length > 0, 'and a message for people');
    });
  }

  it('reach plain-text clients in a header, with the message as the body', async () => {
    const r = await s.request('/data/sandbox/x[[', { headers: { accept: 'text/plain' } });
    assert.equal(r.headers.get('igor-error-code'), 'xpath_syntax');
    assert.match(await r.text(), /^XPath error: /);
  });
});
