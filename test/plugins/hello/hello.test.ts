/**
 * The hello plugin, tested as its README tells a plugin author to test theirs: with createTestHost from
 * igor-ts/testing, no server. Each test makes its own host, so one fault gives one failure.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestHost, type TestHost, type TestHostOptions } from 'igor-ts/testing';

const hosts: TestHost[] = [];
after(() => Promise.all(hosts.map((t) => t.close())));

/** hello from its folder, as `igor plugin add hello` installs it (its database fragment included). */
async function hello(options: TestHostOptions = {}): Promise<TestHost> {
  const t = await createTestHost(new URL('../../../plugins/hello/', import.meta.url), options);
  hosts.push(t);
  return t;
}

describe('hello', () => {
  it('greets anyone with the greeting an admin sets, and refuses a change from anyone else', async () => {
    const t = await hello({ users: { jack: {} } });
    assert.equal((await t.call('index', { as: 'anonymous' })).text, 'Hello from hello!\n');
    const changed = await t.call('settings', { method: 'POST', params: { greeting: 'Hoi' } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json().greeting, 'Hoi');
    assert.equal((await t.call('index', { as: 'anonymous' })).text, 'Hoi from hello!\n');
    const byJack = await t.call('settings', { as: { user: 'jack' }, method: 'POST', params: { greeting: 'Hacked' } });
    assert.equal(byJack.status, 403);
    const tooLong = await t.call('settings', { method: 'POST', params: { greeting: 'x'.repeat(101) } });
    assert.deepEqual([tooLong.status, tooLong.text], [400, 'a greeting has at most 100 characters']);
    assert.equal(t.data.get('plugindata/hello/greeting'), 'Hoi', 'nothing changed by the refusals');
  });

  it('counts for a user, whom only that user or an admin may count for', async () => {
    const t = await hello({ users: { jack: {}, jill: {} } });
    const jack = { user: 'jack' } as const;
    assert.deepEqual((await t.call('count', { as: jack, params: { user: 'jack' } })).json(), { user: 'jack', count: 1 });
    assert.deepEqual((await t.call('count', { params: { user: 'jack' } })).json(), { user: 'jack', count: 2 }, 'an admin');
    assert.equal((await t.call('count', { as: jack, params: { user: 'jill' } })).status, 403);
    assert.equal((await t.call('count', { as: 'anonymous', params: { user: 'jack' } })).status, 401);
    assert.equal((await t.call('count', { as: jack })).status, 400);
    assert.equal(t.data.get('sensors/hello/jack/count'), 2);
    assert.equal(t.data.get('sensors/hello/jill'), undefined);
  });

  it("turns each day's counts into yesterday's at midnight", async () => {
    const t = await hello({ now: new Date(2030, 5, 1, 23, 59, 0) });
    for (const user of ['jack', 'jack', 'jill']) await t.call('count', { params: { user } });
    await t.clock.advance(59_000);
    assert.equal(t.data.get('sensors/hello/jack/count'), 2, 'not yet');
    await t.clock.advance(1_000);
    assert.deepEqual(t.data.get('sensors/hello/jack'), { yesterday: 2 });
    assert.deepEqual(t.data.get('sensors/hello/jill'), { yesterday: 1 });
    await t.call('count', { params: { user: 'jack' } });
    await t.clock.advance(86_400_000);
    assert.deepEqual(t.data.get('sensors/hello/jack'), { yesterday: 1 }, 'the next midnight too');
  });

  it('notes when the greeting changed and to what, however it was changed', async () => {
    const t = await hello({ now: '2030-06-01T12:00:00Z' });
    await t.call('settings', { method: 'POST', params: { greeting: 'Hoi' } });
    await t.settle();
    assert.deepEqual(t.data.get('sensors/hello/greetingChanged'), { at: '2030-06-01T12:00:00.000Z', greeting: 'Hoi' });
    await t.clock.advance(60_000);
    await t.data.delete('plugindata/hello/greeting'); // not through the plugin at all: the default greets again
    await t.settle();
    assert.deepEqual(t.data.get('sensors/hello/greetingChanged'), { at: '2030-06-01T12:01:00.000Z', greeting: 'Hello' });
  });
});
