/**
 * Users and API tokens at run time (auth/accounts.ts): over /internal/users and /internal/tokens, through
 * Igor's `user` plugin (installed in every new database), and with `igor user` / `igor token` against the
 * running server. Who may: an admin everyone; a user their own password (with the old one) and tokens.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { passwordWeakness } from '../../src/auth/accounts.ts';
import { EXIT, main } from '../../src/cli/main.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { basic, startTestServer, tempDir, type TestServer, tokenParts } from '../helpers.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json', accept: 'text/plain' }, body: JSON.stringify(body) });
const as = (auth: string, init: RequestInit = {}) => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), authorization: auth },
});

async function igor(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'igor', ...args], {
    out: (x) => void (out += x),
    err: (x) => void (err += x),
    stdin: async () => stdin,
  });
  return { code, out, err };
}

describe('passwords', () => {
  it('are refused when weak, saying why', () => {
    assert.match(passwordWeakness('short', 'ann')!, /at least 8 characters/);
    assert.match(passwordWeakness('ann-is-great', 'ann')!, /user name/);
    assert.match(passwordWeakness('aaaabbbb', 'ann')!, /5 different characters/);
    assert.match(passwordWeakness('Password1', 'ann')!, /guessed/);
    assert.equal(passwordWeakness('correct horse battery', 'ann'), undefined);
  });
});

describe('users from an Igor database', () => {
  it("log in with the passwords they had: Igor's passlib pbkdf2-sha256 hashes are read", async () => {
    // Made with Python's hashlib (pbkdf2_hmac, 29,000 rounds) and passlib's adapted base64, as Igor stores them.
    const igorHash = '$pbkdf2-sha256$29000$aWdvci1zYWx0LTE2Ynl0ZQ$yuRKhUz6egomKAge7DCUxzFjnZcv6xwI.GxdEm7lrQg';
    await s.db.write((t) => t.put('/data/identities/olga/encryptedPassword', elementFromJson(t.doc, 'encryptedPassword', igorHash)));
    assert.equal(
      (await s.anonymous('/internal/whoami', as(basic('olga', 'tulips in spring'), { headers: { accept: 'text/plain' } }))).status,
      200,
    );
    assert.equal((await s.anonymous('/internal/whoami', as(basic('olga', 'tulips in summer')))).status, 401);
  });
});

describe('/internal/users', () => {
  it('lets an admin add, list, promote and delete users, with no restart, and the new user log in at once', async () => {
    const add = await s.request('/internal/users', { method: 'POST', ...json({ name: 'ann', password: 'tulips in spring' }) });
    assert.equal(add.status, 200, await add.clone().text());
    assert.equal(await add.text(), 'user ann added\n');
    const ann = basic('ann', 'tulips in spring');
    assert.equal((await s.anonymous('/internal/whoami', as(ann, { headers: { accept: 'text/plain' } }))).status, 200);
    assert.equal((await s.request('/data/people/ann')).status, 200, 'people/ann made');
    assert.match(await (await s.request('/internal/users', { headers: { accept: 'text/plain' } })).text(), /^ann {2}0 token\(s\)$/m);

    assert.equal(
      (await s.request('/internal/users', { method: 'POST', ...json({ name: 'ann', password: 'another good one' }) })).status,
      400,
      'exists',
    );
    for (const [name, password, why] of [
      ['1ann', 'tulips in spring', /user name/],
      ['x', 'tulips in spring', /user name/],
      ['bob', 'bob12345', /user name/],
      ['bob', 'short', /8 characters/],
    ] as const) {
      const r = await s.request('/internal/users', { method: 'POST', ...json({ name, password }) });
      assert.equal(r.status, 400, `${name}/${password}`);
      assert.match(await r.text(), why);
    }
    assert.equal((await s.request('/data/identities/bob')).status, 404, 'a refused add leaves nothing');

    assert.equal(
      (await s.anonymous('/internal/users', { method: 'POST', ...as(ann, json({ name: 'eve', password: 'tulips in spring' })) })).status,
      403,
      'a user may not add users',
    );
    assert.equal((await s.request('/internal/users/ann/admin', { method: 'PUT', ...json({ admin: true }) })).status, 200);
    assert.equal((await s.anonymous('/internal/save', as(ann))).status, 200, 'ann is an admin now');
    // Even an admin keeps the server manageable: admin stays, and nobody removes or demotes themselves.
    for (const [what, init, path] of [
      ['delete admin', { method: 'DELETE' }, '/internal/users/admin'],
      ['demote admin', { method: 'PUT', ...json({ admin: false }) }, '/internal/users/admin/admin'],
      ['delete herself', { method: 'DELETE' }, '/internal/users/ann'],
      ['demote herself', { method: 'PUT', ...json({ admin: false }) }, '/internal/users/ann/admin'],
    ] as const) {
      assert.equal((await s.anonymous(path, { ...init, ...as(ann, init as RequestInit) })).status, 400, `ann may not ${what}`);
    }
    assert.equal((await s.request('/internal/users/ann/admin', { method: 'PUT', ...json({ admin: false }) })).status, 200);
    assert.equal((await s.anonymous('/internal/save', as(ann))).status, 403);
    // Not an admin any more: neither her own rights nor anyone's account are hers to change.
    assert.equal((await s.anonymous('/internal/users/ann/admin', { method: 'PUT', ...as(ann, json({ admin: true })) })).status, 403);
    assert.equal((await s.anonymous('/internal/users/ann', { method: 'DELETE', ...as(ann) })).status, 403);
    assert.equal((await s.request('/data/identities/ann')).status, 200, 'refused, and nothing changed');

    assert.equal((await s.request('/internal/users/admin', { method: 'DELETE' })).status, 400);
    assert.equal((await s.request('/internal/users/ann', { method: 'DELETE' })).status, 200);
    assert.equal((await s.anonymous('/internal/whoami', as(ann))).status, 401, 'gone at once');
    assert.equal((await s.request('/data/people/ann')).status, 404);
  });

  it('lets a user change their own password with the old one, and nobody else', async () => {
    await s.request('/internal/users', { method: 'POST', ...json({ name: 'cleo', password: 'first good phrase' }) });
    await s.request('/internal/users', { method: 'POST', ...json({ name: 'dan', password: 'a very own phrase' }) });
    const cleo = basic('cleo', 'first good phrase');
    const change = (auth: string, body: unknown, who = 'cleo') =>
      s.anonymous(`/internal/users/${who}/password`, { method: 'PUT', ...as(auth, json(body)) });
    assert.equal((await change(cleo, { password: 'second good phrase' })).status, 403, 'the old password is needed');
    assert.equal((await change(cleo, { password: 'second good phrase', oldPassword: 'wrong one!' })).status, 403);
    assert.equal((await change(cleo, { password: 'second good phrase' }, 'dan')).status, 403, "not someone else's");
    assert.equal((await change(cleo, { password: 'second good phrase', oldPassword: 'first good phrase' })).status, 200);
    assert.equal((await s.anonymous('/internal/whoami', as(basic('cleo', 'second good phrase')))).status, 200);
    assert.equal((await s.anonymous('/internal/whoami', as(cleo))).status, 401, 'the old one no longer works');
    assert.equal(
      (await s.request('/internal/users/dan/password', { method: 'PUT', ...json({ password: 'set by the admin' }) })).status,
      200,
      'an admin needs no old password',
    );
  });
});

describe('the admin account', () => {
  it('cannot be lost through /data: writes that would leave admin without a password are refused and change nothing', async () => {
    const tree = async () => (await s.request('/data/identities?.VARIANT=raw', { headers: { accept: 'application/xml' } })).text();
    const before = await tree();
    for (const path of ['/data/identities', '/data/identities/admin', '/data/*']) {
      const r = await s.request(path, { method: 'DELETE', headers: { accept: 'application/json' } });
      assert.equal(r.status, 400, path);
      assert.equal(((await r.json()) as { code: string }).code, 'admin_lockout', path);
    }
    assert.equal(await tree(), before, 'nothing changed, and admin still logs in');
    assert.equal(
      (await s.request('/data/sandbox/gone', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' })).status,
      200,
    );
    assert.equal((await s.request('/data/sandbox/gone', { method: 'DELETE' })).status, 200, 'other deletes go on');
  });
});

describe('/internal/tokens', () => {
  it("lets a user make, list and revoke their own tokens, an admin anyone's, and shows a token once", async () => {
    await s.request('/internal/users', { method: 'POST', ...json({ name: 'fay', password: 'the good phrase' }) });
    const fay = basic('fay', 'the good phrase');
    const made = await s.anonymous('/internal/tokens', {
      method: 'POST',
      ...as(fay, json({ path: '/data/people/fay', rights: 'get,put', comment: 'phone' })),
    });
    assert.equal(made.status, 200);
    assert.equal(made.headers.get('cache-control'), 'no-store');
    const token = (await made.text()).trim();
    assert.match(token, /^igor_[0-9a-f]{16}_[\w-]{32}$/);
    assert.equal((await s.anonymous('/data/people/fay', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal(
      (
        await s.anonymous('/internal/tokens', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ path: '/data/people/fay', rights: 'get' }),
        })
      ).status,
      403,
      'a token makes no tokens',
    );
    assert.equal(
      (await s.anonymous('/internal/tokens', { method: 'POST', ...as(fay, json({ user: 'admin', path: '/data', rights: 'get' })) })).status,
      403,
      'not for someone else',
    );
    const viaToken = await s.anonymous('/internal/users/fay/password', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'a new good phrase', oldPassword: 'the good phrase' }),
    });
    assert.equal(viaToken.status, 403, "a token does not stand for its user's account");

    const listed = await (await s.anonymous('/internal/tokens', as(fay, { headers: { accept: 'text/plain' } }))).text();
    const { id, secret } = tokenParts(token);
    assert.match(listed, new RegExp(`^${id} {2}fay {2}get,put {2}/data/people/fay {2}expires never {2}phone$`, 'm'));
    assert.ok(!listed.includes(secret), 'never the secret again');
    assert.equal(
      (await s.anonymous(`/internal/tokens/${id}`, { method: 'DELETE', headers: { authorization: basic('cleo', 'second good phrase') } }))
        .status,
      404,
      "not another user's",
    );
    assert.equal((await s.anonymous(`/internal/tokens/${id}`, { method: 'DELETE', ...as(fay) })).status, 200);
    assert.equal((await s.anonymous('/data/people/fay', { headers: { authorization: `Bearer ${token}` } })).status, 401);
    assert.equal((await s.anonymous('/internal/tokens')).status, 401);
  });
});

describe("Igor's user plugin", () => {
  it("is installed in a new database and adds, re-passwords and deletes users with the caller's rights", async () => {
    const add = await s.request('/plugin/user/add?username=gus&password=likes%20black%20tea&returnTo=/plugins.html', {
      redirect: 'manual',
    });
    assert.equal(add.status, 303);
    assert.equal(add.headers.get('location'), '/plugins.html');
    // Only back to a page of this server: browsers read /\\host as //host, another site.
    for (const elsewhere of ['//evil.example/', '/\\evil.example/', 'https://evil.example/']) {
      const r = await s.request(
        `/plugin/user/add?username=gus${elsewhere.length}&password=likes%20black%20tea&returnTo=${encodeURIComponent(elsewhere)}`,
        {
          redirect: 'manual',
        },
      );
      assert.equal(r.status, 200, elsewhere);
      assert.equal(r.headers.get('location'), null);
      assert.equal((await s.request(`/plugin/user/delete?username=gus${elsewhere.length}`)).status, 200);
    }
    const gus = basic('gus', 'likes black tea');
    assert.equal((await s.anonymous('/internal/whoami', as(gus))).status, 200);
    assert.equal(
      (await s.anonymous('/plugin/user/add?username=hal&password=hals%20own%20words', as(gus))).status,
      403,
      'the plugin lends no rights',
    );
    assert.equal((await s.request('/plugin/user/add?username=gus&password=likes%20black%20tea')).status, 400, 'already exists');
    assert.equal(
      await (
        await s.anonymous(
          '/plugin/user/password?password=drinks%20coffee%20now&oldPassword=likes%20black%20tea',
          as(gus, { headers: { accept: 'text/plain' } }),
        )
      ).text(),
      'password of gus changed\n',
    );
    assert.equal((await s.request('/plugin/user/delete?username=gus')).status, 200);
    assert.equal((await s.anonymous('/internal/whoami', as(basic('gus', 'drinks coffee now')))).status, 401);
  });
});

describe('igor user and igor token against a running server', () => {
  it('add, list, change and delete users and make and revoke tokens with admin credentials, no restart', async () => {
    const server = ['--url', `http://127.0.0.1:${s.port}`, '--credentials', `admin:${s.adminPassword}`];
    const add = await igor(['user', 'add', 'ivy', ...server], 'green leaves on walls\n');
    assert.equal(add.code, EXIT.ok, add.err);
    assert.equal((await s.anonymous('/internal/whoami', as(basic('ivy', 'green leaves on walls')))).status, 200);
    const weak = await igor(['user', 'passwd', 'ivy', ...server], 'ivy12345\n');
    assert.equal(weak.code, EXIT.failed);
    assert.match(weak.err, /400: a password may not contain the user name/);
    assert.equal((await igor(['user', 'passwd', 'ivy', ...server], 'walls of stone\n')).code, EXIT.ok);
    assert.match((await igor(['user', 'list', ...server])).out, /^ivy {2}0 token\(s\)$/m);

    const made = await igor(['token', 'create', '--user', 'ivy', '--path', '/data/people/ivy', '--rights', 'get', ...server]);
    assert.equal(made.code, EXIT.ok, made.err);
    const token = made.out.trim();
    assert.equal((await s.anonymous('/data/people/ivy', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.match((await igor(['token', 'list', ...server])).out, new RegExp(`^${tokenParts(token).id} {2}ivy {2}get`, 'm'));
    assert.equal((await igor(['token', 'revoke', tokenParts(token).id, ...server])).code, EXIT.ok);
    assert.equal((await s.anonymous('/data/people/ivy', { headers: { authorization: `Bearer ${token}` } })).status, 401);

    // As the user: their own password, with the old one first on standard input.
    const own = await igor(
      ['user', 'passwd', 'ivy', '--with-old', '--url', `http://127.0.0.1:${s.port}`, '--credentials', 'ivy:walls of stone'],
      'walls of stone\nivy-free phrase here\n',
    );
    assert.equal(own.code, EXIT.failed, 'contains the user name');
    assert.equal(
      (
        await igor(
          ['user', 'passwd', 'ivy', '--with-old', '--url', `http://127.0.0.1:${s.port}`, '--credentials', 'ivy:walls of stone'],
          'walls of stone\nquiet green garden\n',
        )
      ).code,
      EXIT.ok,
    );
    assert.equal((await igor(['user', 'delete', 'ivy', ...server])).code, EXIT.ok);
    assert.equal((await s.anonymous('/internal/whoami', as(basic('ivy', 'quiet green garden')))).status, 401);
  });
});

describe('igor user in a stopped database directory', () => {
  it('adds, lists, promotes and deletes users offline, with the same rules', async () => {
    const dir = await tempDir();
    const db = ['--database', dir];
    assert.equal((await igor(['user', 'add', 'bob', ...db], 'a fine long phrase\n')).code, EXIT.ok);
    assert.equal((await igor(['user', 'add', 'bob', ...db], 'a fine long phrase\n')).code, EXIT.usage, 'exists: 400');
    assert.equal((await igor(['user', 'add', 'kim', ...db], 'kim12345\n')).code, EXIT.usage, 'weak: 400');
    assert.equal((await igor(['user', 'admin', 'bob', ...db])).code, EXIT.ok);
    assert.match((await igor(['user', 'list', ...db])).out, /^bob {2}admin {2}0 token\(s\)$/m);
    assert.equal((await igor(['user', 'delete', 'bob', ...db])).code, EXIT.ok);
    assert.doesNotMatch((await igor(['user', 'list', ...db])).out, /^bob/m);
  });
});
