/**
 * Igor's user plugin, with createTestHost: it lends none of its own rights, so each method does for its caller
 * exactly what that caller may do with accounts (auth/accounts.ts), and says why when it refuses.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestHost, type TestHost } from 'igor-ts/testing';

const hosts: TestHost[] = [];
after(() => Promise.all(hosts.map((t) => t.close())));

const JACK_PASSWORD = 'a good long phrase';

async function userPlugin(): Promise<TestHost> {
  const t = await createTestHost(new URL('../../../plugins/user/', import.meta.url), { users: { jack: { password: JACK_PASSWORD } } });
  hosts.push(t);
  return t;
}

const exists = (t: TestHost, name: string) => t.data.refs(`identities/${name}`).length === 1;

describe('user plugin', () => {
  it('lets an admin add and delete users, and no one else', async () => {
    const t = await userPlugin();
    const added = await t.call('add', { params: { username: 'jill', password: 'another long phrase' } });
    assert.deepEqual([added.status, added.text], [200, 'user jill added\n']);
    assert.ok(exists(t, 'jill'));
    const byJack = await t.call('add', { as: { user: 'jack' }, params: { username: 'joe', password: 'another long phrase' } });
    assert.equal(byJack.status, 403);
    assert.equal((await t.call('add', { as: 'anonymous', params: { username: 'joe', password: 'another long phrase' } })).status, 401);
    assert.equal((await t.call('delete', { as: { user: 'jack' }, params: { username: 'jill' } })).status, 403);
    assert.ok(exists(t, 'jill') && !exists(t, 'joe'), 'the refusals changed nothing');
    assert.equal((await t.call('delete', { params: { username: 'jill' } })).text, 'user jill deleted\n');
    assert.ok(!exists(t, 'jill'));
  });

  it('says why it refuses a weak password or a taken name', async () => {
    const t = await userPlugin();
    const weak = await t.call('add', { params: { username: 'jill', password: 'short' } });
    assert.deepEqual([weak.status, weak.text], [400, 'a password needs at least 8 characters']);
    const taken = await t.call('add', { params: { username: 'jack', password: 'another long phrase' } });
    assert.deepEqual([taken.status, taken.code], [400, 'user_exists']);
    assert.equal((await t.call('add', { params: { username: 'jill' } })).text, 'password= is needed');
    assert.ok(!exists(t, 'jill'));
  });

  it('lets a user change their own password with the old one, and only their own', async () => {
    const t = await userPlugin();
    const jack = { user: 'jack' } as const;
    const change = (oldPassword: string, password: string, username = 'jack') =>
      t.call('password', { as: jack, params: { username, password, oldPassword } });
    assert.equal((await change('not the password', 'a new long phrase')).status, 403);
    assert.equal((await change(JACK_PASSWORD, 'a new long phrase')).status, 200);
    assert.equal((await change(JACK_PASSWORD, 'yet another phrase')).status, 403, 'the old password no longer works');
    assert.equal((await change('a new long phrase', 'yet another phrase')).status, 200);
    assert.equal((await change('a new long phrase', 'yet another phrase', 'admin')).status, 403, "not someone else's");
  });

  it('goes back to a page of this server after a form, never to another site', async () => {
    const t = await userPlugin();
    const back = await t.call('add', { params: { username: 'jill', password: 'another long phrase', returnTo: '/users.html' } });
    assert.deepEqual([back.status, back.headers['location']], [303, '/users.html']);
    const away = await t.call('delete', { params: { username: 'jill', returnTo: 'https://evil.example/' } });
    assert.deepEqual([away.status, away.text], [200, 'user jill deleted\n']);
  });
});
