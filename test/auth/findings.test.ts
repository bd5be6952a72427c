/**
 * The findings of issue #14, each tried as a hostile client did, each failing before the fix: reading a secret
 * one character at a time through predicates, selecting hidden data directly, refusals that name what the
 * caller may not read, and a plugin recording status outside its own part of the tree.
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createToken } from '../../src/auth/tokens.ts';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, tempDir, type TestServer } from '../helpers.ts';

const JACK = basic('jack', 'jack-password');
let s: TestServer;
let sandboxToken: string;

before(async () => {
  const dir = await tempDir();
  await cp(fileURLToPath(new URL('../fixtures/plugins/tester', import.meta.url)), join(dir, 'plugins', 'tester'), { recursive: true });
  s = await startTestServer({}, dir);
  await setPassword(s.db, 'jack', 'jack-password');
  sandboxToken = (await createToken(s.db, { user: 'jack', path: '/data/sandbox', rights: ['get'] })).token;
  const xml = { 'content-type': 'application/xml' };
  for (const [path, body] of [
    ['identities/jack/plugindata/_fitbit', '<_fitbit><token><access_token>tok-jack-123</access_token></token></_fitbit>'],
    ['plugindata/submit', '<submit><token_id>reg-token-456</token_id></submit>'],
    // Hidden data first in an element anyone may read, and namespaced attributes on another.
    [
      'environment/guarded',
      '<guarded xmlns:au="http://jackjansen.nl/igor/authentication"><au:capability><secret>cap-789</secret></au:capability><open>yes</open></guarded>',
    ],
    ['environment/owned', '<owned xmlns:own="http://jackjansen.nl/igor/owner" own:plugin="fitbit" plain="p">v</owned>'],
    ['people/jack/owned', '<owned xmlns:own="http://jackjansen.nl/igor/owner" own:plugin="fitbit">v</owned>'],
    // Issue 30: the same namespace declared as the default one, so no prefix tells.
    [
      'environment/plain',
      '<plain><capability xmlns="http://jackjansen.nl/igor/authentication"><cap>cap-default-ns</cap></capability><open>yes</open></plain>',
    ],
  ]) {
    assert.equal((await s.request(`/data/${path}`, { method: 'PUT', headers: xml, body })).status, 200, path);
  }
  assert.equal((await s.request('/internal/plugins/tester', { method: 'PUT' })).status, 200);
});

async function get(path: string, auth?: string, accept = 'application/json'): Promise<{ status: number; body: string }> {
  const r = await s.anonymous(path, { headers: { accept, ...(auth ? { authorization: auth } : {}) } });
  return { status: r.status, body: await r.text() };
}

const enc = (xpath: string) => xpath.split('/').map(encodeURIComponent).join('/');

describe('what a reader may not see does not exist for its query', () => {
  for (const [who, auth] of [
    ['anonymous', undefined],
    ['a user', JACK],
    ['a token for /data/sandbox', `Bearer placeholder`],
  ] as const) {
    it(`so ${who} cannot read a secret one character at a time through a predicate`, async () => {
      const credentials = auth === 'Bearer placeholder' ? `Bearer ${sandboxToken}` : auth;
      for (const [secret, prefix] of [
        ['/data/identities/admin/encryptedPassword', '$scrypt'],
        ['/data/identities/jack/plugindata/_fitbit/token/access_token', 'tok-'],
        ['/data/plugindata/submit/token_id', 'reg-'],
      ] as const) {
        for (const route of ['/data/environment', '/data/sandbox']) {
          const ask = async (guess: string) => {
            const r = await get(`${route}[starts-with(${enc(secret)},'${guess}')]?.VARIANT=ref`, credentials);
            return { status: r.status, body: r.body.replaceAll(guess, 'GUESS') };
          };
          assert.deepEqual(
            await ask(prefix),
            await ask('xyz'),
            `${who}: ${route}[starts-with(${secret}, …)] answers alike for a right and a wrong guess`,
          );
        }
        const evaluated = await get(`/evaluate/${encodeURIComponent(`starts-with(${secret},'${prefix}')`)}`, credentials, 'text/plain');
        assert.equal(evaluated.body.trim(), 'false', `${who}: /evaluate sees no ${secret}`);
      }
    });
  }

  it('so hidden data is not there when selected directly, raw or not', async () => {
    for (const [path, auth] of [
      ['/data/environment/guarded/*[1]', undefined],
      ['/data/environment/guarded/*[1]?.VARIANT=raw', undefined],
      ['/data/environment/owned/@*?.VARIANT=multi', undefined],
      ['/data/environment/owned/@*?.VARIANT=multiraw', undefined],
      ['/data/people/jack/owned/@*?.VARIANT=multiraw', JACK],
      ['/data/people/jack/owned?.VARIANT=raw', JACK],
    ] as const) {
      const r = await get(path, auth);
      assert.doesNotMatch(r.body, /cap-789|capability|fitbit|own:/, `${path}: ${r.body}`);
    }
    assert.match((await get('/data/environment/guarded/*[1]')).body, /"open":"yes"/, 'the first child anyone may see is the visible one');
    for (const path of [
      '/data/environment/plain',
      '/data/environment/plain/capability',
      '/data/environment/plain//cap',
      '/data/environment/plain/*[1]',
    ]) {
      const r = await get(path, JACK);
      assert.doesNotMatch(r.body, /cap-default-ns|"capability"|"cap"/, `${path}: ${r.body}`);
    }
    assert.equal((await get('/evaluate/count(/data/environment/plain/*)', JACK, 'text/plain')).body, '1\n');
    assert.match(
      await (await s.request('/data/environment/plain?.VARIANT=raw')).text(),
      /cap-default-ns/,
      'there, for an admin asking raw',
    );
    assert.match((await get('/data/environment/owned/@*?.VARIANT=multi')).body, /"@plain":"p"/);
  });

  it('so a refusal names nothing the caller may not read', async () => {
    for (const path of ['/data/identities/*[1]', '/data/identities/*[1]/*', '/data/*[7]', '/data/identities/*[last()]/encryptedPassword']) {
      const r = await get(path, undefined, 'text/plain');
      assert.ok(r.status === 401 || r.status === 404, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /admin|jack|identities\/[a-z]/, `${path}: ${r.body}`);
    }
  });
});

describe("a plugin's status", () => {
  it('is recorded only where the plugin may write', async () => {
    const outside = await s.request('/plugin/tester/status?representing=igor/start');
    assert.equal(outside.status, 403, await outside.text());
    const own = await s.request('/plugin/tester/status?representing=sensors/tester');
    assert.equal(own.status, 200, await own.text());
    assert.equal((await get('/data/status/sensors/tester/errorMessage', undefined, 'text/plain')).body.trim(), 'tester says so');
    assert.doesNotMatch((await get('/data/status/igor/start', undefined, 'text/plain')).body, /tester says so/);
  });
});
