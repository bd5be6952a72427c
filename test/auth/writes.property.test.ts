/**
 * Secrets stay secret on the write side too. A write selects its target among what the writer may read; what it
 * may overwrite but not read (a password in the sandbox, a user's own OAuth refresh token) it reaches by name
 * only. So no write's answer — status, body, nor what it changed — depends on a secret it may not read: the
 * same generated write, sent against two trees that differ only in that secret, answers and changes alike.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
const JACK = basic('jack', 'jack-password');

before(async () => {
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
});

/** Who writes, and where a secret it may overwrite but not read lives. */
const WRITERS = [
  { label: 'anonymous', auth: undefined, base: '/data/sandbox/v', secret: 'password' },
  { label: 'jack', auth: JACK, base: '/data/identities/jack/plugindata/_fitbit/token', secret: 'refresh_token' },
] as const;

/** XPath tests of a secret's value, each a way a predicate could tell something about it. */
const TESTS = [
  (n: string, c: string) => `starts-with(${n}, '${c}')`,
  (n: string, c: string) => `contains(${n}, '${c}')`,
  (n: string, c: string) => `substring(${n}, 1, 1) = '${c}'`,
  (n: string, c: string) => `${n} < '${c}'`,
  (n: string) => `string-length(${n}) > 4`,
  (n: string) => `count(${n}) = 1`,
  (n: string) => `boolean(${n})`,
  (n: string, c: string) => `translate(${n}, '${c}', '') != ${n}`,
];

/** Ways to let a predicate's truth show: an error evaluated only when it holds, or nothing at all. */
const TELLS = ['', ' and count(1)', ' and igor_error("x")', ' or 1 = 0'];

const METHODS = ['DELETE', 'PUT', 'POST', 'GET .METHOD=PUT', 'GET .METHOD=DELETE'] as const;

/** The writer's place afresh, holding `value` as its secret (earlier writes may have made more of it). */
async function setSecret(base: string, name: string, value: string): Promise<void> {
  await s.request(base, { method: 'DELETE' });
  const r = await s.request(base, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ [name]: value, x: 'keep' }),
  });
  assert.equal(r.status, 200, await r.text());
}

async function write(auth: string | undefined, method: (typeof METHODS)[number], path: string): Promise<string> {
  const [verb, query] = method.split(' ');
  const url = `${path.split('/').map(encodeURIComponent).join('/')}${query ? `?${query}&x=new` : ''}`;
  const r = await s.anonymous(url, {
    method: verb,
    headers: { ...(auth ? { authorization: auth } : {}), ...(verb !== 'GET' && verb !== 'DELETE' ? { 'content-type': 'text/plain' } : {}) },
    ...(verb === 'PUT' || verb === 'POST' ? { body: 'new' } : {}),
  });
  return `${r.status} ${r.headers.get('igor-error-code') ?? ''} ${await r.text()}`;
}

/** The writer's part of the tree as the admin sees it raw, but the secret itself. */
async function after(base: string, name: string): Promise<string> {
  const parent = base.slice(0, base.lastIndexOf('/'));
  const raw = await (await s.request(`${parent}?.VARIANT=raw`)).text();
  return raw.replace(new RegExp(`<${name}>[^<]*</${name}>`, 'g'), `<${name}>…</${name}>`);
}

describe('a write never tells a secret its writer may not read', () => {
  it('answers and changes the same whatever the secret, for generated writes whose paths test it', async () => {
    const secrets = fc.tuple(fc.stringMatching(/^[A-Za-z0-9]{1,8}$/), fc.stringMatching(/^[A-Za-z0-9]{1,8}$/));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITERS),
        fc.constantFrom(...TESTS),
        fc.constantFrom(...TELLS),
        fc.constantFrom(...METHODS),
        secrets,
        async (writer, test, tell, method, [one, other]) => {
          const probe = test(writer.secret, one[0]!);
          const path = `${writer.base}[${probe}${tell}]/x`;
          const outcomes: string[] = [];
          for (const secret of [one, other]) {
            await setSecret(writer.base, writer.secret, secret);
            const answer = await write(writer.auth, method, path);
            outcomes.push(`${answer}\n${await after(writer.base, writer.secret)}`);
          }
          assert.equal(outcomes[1], outcomes[0], `${writer.label} ${method} ${path} told ${one} from ${other}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('still reaches by name what its writer may overwrite but not read, and keeps it when replacing the rest', async () => {
    await setSecret('/data/sandbox/v', 'password', 'hunter22');
    const put = await s.anonymous('/data/sandbox/v/password', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: 'new-one',
    });
    assert.equal(put.status, 200);
    assert.match(await (await s.request('/data/sandbox/v?.VARIANT=raw')).text(), /<password>new-one<\/password>/);
    const whole = await s.anonymous('/data/sandbox/v', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"x":"y"}',
    });
    assert.equal(whole.status, 200);
    assert.match(await (await s.request('/data/sandbox/v?.VARIANT=raw')).text(), /<password>new-one<\/password>/, 'kept');
    assert.equal((await s.anonymous('/data/sandbox/v/password', { method: 'DELETE' })).status, 200);
    assert.doesNotMatch(await (await s.request('/data/sandbox/v?.VARIANT=raw')).text(), /password/, 'deleted by name');
  });
});
