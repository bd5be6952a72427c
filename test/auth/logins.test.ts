/**
 * Passwords checked without telling which users exist, and guessing throttled per user name and per client
 * address with a growing wait (src/auth/logins.ts), over HTTP Basic and the log-in form.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { FREE_FAILURES, LoginGuard } from '../../src/auth/logins.ts';
import { decoyHash, hashPassword, verifyPassword } from '../../src/auth/passwords.ts';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, type TestServer } from '../helpers.ts';

describe('checking a password', () => {
  it('costs one KDF for an unknown user as for a known one, against a decoy hash', async () => {
    const calls: string[] = [];
    const guard = new LoginGuard(undefined, undefined, (password, stored, user) => {
      calls.push(stored);
      return verifyPassword(password, stored, user);
    });
    const jack = { name: 'jack', admin: false, passwordHash: await hashPassword('jack-password') };
    await assert.rejects(guard.check('jack', jack, 'wrong', 'a1', 'test'), { status: 401 });
    await assert.rejects(guard.check('nobody', undefined, 'wrong', 'a2', 'test'), { status: 401 });
    await assert.rejects(guard.check('nopassword', { name: 'nopassword', admin: false, passwordHash: undefined }, '', 'a3', 'test'), {
      status: 401,
    });
    assert.deepEqual(calls, [jack.passwordHash, await decoyHash(), await decoyHash()]);
    assert.match(await decoyHash(), /^\$scrypt\$ln=15,r=8,p=1\$/, 'the decoy costs what a real hash costs');
  });

  it('makes a name, and an address, wait longer with each failure past the free ones; a success clears them', async (t) => {
    const jack = { name: 'jack', admin: false, passwordHash: await hashPassword('jack-password') };
    const jill = { name: 'jill', admin: false, passwordHash: await hashPassword('jill-password') };
    // The waits are on a fake clock (rate-limiter-flexible reads Date and expires keys with setTimeout): what a
    // busy machine does to the time a password check takes cannot change them.
    t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: new Date('2026-12-01T10:00:00Z') });
    const guard = new LoginGuard(undefined, undefined);
    for (let i = 0; i < FREE_FAILURES; i++)
      await assert.rejects(guard.check('jack', jack, `wrong${i}`, `10.0.0.${i}`, 'test'), { status: 401 });
    // The sixth failure, from yet another address, makes the name wait.
    await assert.rejects(guard.check('jack', jack, 'wrong', '10.0.1.1', 'test'), { status: 401 });
    const waiting = await guard
      .check('jack', jack, 'jack-password', '10.0.1.2', 'test')
      .catch((e: { status: number; headers: Record<string, string> }) => e);
    assert.equal((waiting as { status: number }).status, 429, 'even the right password waits, from any address');
    assert.equal((waiting as { headers: Record<string, string> }).headers['Retry-After'], '1');
    t.mock.timers.tick(1100);
    await assert.rejects(guard.check('jack', jack, 'wrong', '10.0.1.3', 'test'), { status: 401 });
    const longer = await guard
      .check('jack', jack, 'jack-password', '10.0.1.4', 'test')
      .catch((e: { headers: Record<string, string> }) => e);
    assert.equal((longer as { headers: Record<string, string> }).headers['Retry-After'], '2', 'twice as long');
    t.mock.timers.tick(1900);
    const almost = await guard.check('jack', jack, 'jack-password', '10.0.1.5', 'test').catch((e: { status: number }) => e);
    assert.equal((almost as { status: number }).status, 429, 'not before the two seconds are over');
    t.mock.timers.tick(200);
    await guard.check('jack', jack, 'jack-password', '10.0.1.5', 'test');
    await assert.rejects(guard.check('jack', jack, 'wrong', '10.0.1.6', 'test'), { status: 401 }, 'cleared: free failures again');

    // One address guessing many names waits too (jill's password was not used lately, so it is checked).
    for (let i = 0; i <= FREE_FAILURES; i++)
      await assert.rejects(guard.check(`user${i}`, undefined, 'x', '192.0.2.9', 'test'), { status: 401 });
    await assert.rejects(guard.check('jill', jill, 'jill-password', '192.0.2.9', 'test'), { status: 429 });
    await guard.check('jill', jill, 'jill-password', '192.0.2.10', 'test');
  });
});

describe('log-ins over HTTP', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
    await setPassword(s.db, 'jack', 'jack-password');
    await setPassword(s.db, 'jill', 'jill-password');
    // The admin's password is in use (and so not slowed down by the guessing below from the same address).
    assert.equal((await s.request('/internal/version')).status, 200);
  });

  it('are throttled after repeated failures, with Retry-After, while a password in use keeps working', async () => {
    assert.equal(
      (await s.anonymous('/data/people', { headers: { authorization: basic('jill', 'jill-password') } })).status,
      200,
      'jill logs in once',
    );
    for (let i = 0; i < FREE_FAILURES + 1; i++) {
      const r = await s.anonymous('/data/people', { headers: { authorization: basic('jack', `guess${i}`) } });
      assert.equal(r.status, 401);
    }
    const throttled = await s.anonymous('/data/people', { headers: { authorization: basic('jack', 'jack-password') } });
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
    assert.match(await throttled.text(), /try again in \d+ s/);
    const form = await s.anonymous('/login');
    const csrf = /igor_csrf=([^;]+)/.exec(form.headers.getSetCookie().join())![1]!;
    const viaForm = await s.anonymous('/login', {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `igor_csrf=${csrf}` },
      body: new URLSearchParams({ username: 'jack', password: 'jack-password', _csrf: csrf }).toString(),
    });
    assert.match(viaForm.headers.get('location') ?? '', /^\/login\?error=1&wait=\d+/, 'the form says how long to wait');
    assert.equal(
      (await s.anonymous('/data/people', { headers: { authorization: basic('jill', 'jill-password') } })).status,
      200,
      'jill, verified a moment ago, is not slowed down',
    );
  });

  it('record failures for the admin, with the name tried', async () => {
    await s.request('/internal/flush');
    const failures = await (await s.request('/data/services/igor/accessFailures', { headers: { accept: 'application/json' } })).text();
    assert.match(failures, /"operation":"login","path":"HTTP Basic as jack from /);
  });
});
