import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, randomPassword, verifyPassword } from '../../src/auth/passwords.ts';
import { canSee, rightsAt } from '../../src/auth/policy.ts';
import { ANONYMOUS, SYSTEM, type Principal } from '../../src/auth/principal.ts';
import { visibilityFor } from '../../src/auth/visibility.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { serialize } from '../../src/tree/serialize.ts';

const jack: Principal = { kind: 'user', name: 'jack', admin: false, via: 'basic' };
const admin: Principal = { kind: 'user', name: 'admin', admin: true, via: 'basic' };
const fitbit: Principal = { kind: 'plugin', name: 'fitbit' };
const rights = (p: Principal, path: string) => [...rightsAt(p, path.split('/').filter(Boolean))].sort().join(',');

describe('the access rules', () => {
  it('give anonymous read access to public parts and the sandbox to play in', () => {
    assert.equal(rights(ANONYMOUS, '/data/environment/weather'), 'get');
    assert.equal(rights(ANONYMOUS, '/data/status/igor/start'), 'get');
    assert.equal(rights(ANONYMOUS, '/data/services/igor/url'), 'get');
    assert.equal(rights(ANONYMOUS, '/data/sandbox/x'), 'delete,get,post,put');
    for (const path of [
      '/data/sensors/x',
      '/data/identities/jack',
      '/data/plugindata/p',
      '/data/actions',
      '/data/services/other',
      '/data/people',
    ]) {
      assert.equal(rights(ANONYMOUS, path), '', path);
    }
    assert.equal(canSee(ANONYMOUS, ['data']), true, 'the root, as a container');
    assert.equal(canSee(ANONYMOUS, ['data', 'services']), true, 'on the way to services/igor');
    assert.equal(canSee(ANONYMOUS, ['data', 'identities']), false);
  });

  it("let a user own its identity and person, and read the home's sensors", () => {
    assert.equal(rights(jack, '/data/identities/jack/plugindata/x'), 'delete,get,post,put');
    assert.equal(rights(jack, '/data/people/jack'), 'delete,get,post,put');
    assert.equal(rights(jack, '/data/people/jill'), 'get');
    assert.equal(rights(jack, '/data/identities/jill'), '');
    assert.equal(rights(jack, '/data/sensors/fitbit/jack'), 'get');
    assert.equal(rights(jack, '/data/plugindata/fitbit'), '');
    assert.equal(rights(jack, '/data/actions/action'), 'get');
    assert.equal(rights(jack, '/data/environment/x'), 'get');
  });

  it('let a plugin own its data, sensors, devices, status and per-user data, and nothing else', () => {
    for (const path of [
      '/data/plugindata/fitbit/client_id',
      '/data/sensors/fitbit/jack',
      '/data/devices/fitbit',
      '/data/status/sensors/fitbit',
      '/data/identities/jack/plugindata/fitbit/token',
    ]) {
      assert.equal(rights(fitbit, path), 'delete,get,post,put', path);
    }
    for (const path of [
      '/data/plugindata/misfit',
      '/data/sensors/misfit',
      '/data/identities/jack/plugindata/misfit',
      '/data/identities/jack',
    ]) {
      assert.equal(rights(fitbit, path), '', path);
    }
  });

  it("give a plugin acting for a caller what both may do, never the union, within the plugin's reach", () => {
    const deputy: Principal = { kind: 'plugin', name: 'fitbit', caller: jack };
    assert.equal(rights(deputy, '/data/identities/jack/plugindata/fitbit/token'), 'delete,get,post,put', 'both may');
    assert.equal(rights(deputy, '/data/sensors/fitbit/jack'), 'get', 'jack only reads sensors');
    assert.equal(rights(deputy, '/data/people/jack/x'), '', 'the plugin may not reach people/');
    assert.equal(rights(deputy, '/data/identities/jill/plugindata/fitbit'), '', 'jack may not reach jill');
    assert.equal(rights(deputy, '/data/plugindata/fitbit/client_id'), '', "the plugin's own data is not jack's");
    const tool: Principal = { kind: 'plugin', name: 'copytree', forCallers: [[]], caller: jack };
    assert.equal(rights(tool, '/data/people/jack/x'), 'delete,get,post,put', 'a tool for callers: anywhere jack may');
    assert.equal(rights(tool, '/data/sensors/x'), 'get');
    assert.equal(rights(tool, '/data/plugindata/copytree/action'), '', 'never where jack may not');
    assert.equal(rights({ ...tool, caller: admin }, '/data/identities/jill/x'), 'delete,get,post,put', "an admin's deputy");
  });

  it('let admin and the server itself do everything', () => {
    assert.equal(rights(admin, '/data/identities/jill'), 'delete,get,post,put');
    assert.equal(rights(SYSTEM, '/data/plugindata/p'), 'delete,get,post,put');
  });

  it('narrow a token to its subtree and methods', () => {
    const token: Principal = { ...admin, via: 'token', scope: { path: ['sensors', 'weather'], rights: new Set(['get']) } };
    assert.equal(rights(token, '/data/sensors/weather/temp'), 'get');
    assert.equal(rights(token, '/data/sensors/other'), '');
    assert.equal(rights(token, '/data/sandbox'), '');
    assert.equal(canSee(token, ['data', 'sensors']), true, 'on the way to its subtree');
  });

  it("narrow a user's token to a subtree below what the user may read, and show the way to it", () => {
    // jack may read all of sensors/; his token only sensors/weather. The way there exists for it, nothing else.
    const token: Principal = { ...jack, via: 'token', scope: { path: ['sensors', 'weather'], rights: new Set(['get', 'put']) } };
    assert.equal(rights(token, '/data/sensors/weather'), 'get');
    assert.equal(rights(token, '/data/sensors/weather/temp'), 'get');
    assert.equal(canSee(token, ['data', 'sensors']), true, 'on the way to its subtree');
    assert.equal(canSee(token, ['data', 'sensors', 'other']), false);
    assert.equal(canSee(token, ['data', 'people']), false, 'jack may read people/, but not with this token');
    // A token for identities/jack/x: the grant identities/*/… of a plugin-like pattern is not needed; his own is.
    const own: Principal = { ...jack, via: 'token', scope: { path: ['identities', 'jack', 'x'], rights: new Set(['get']) } };
    assert.equal(canSee(own, ['data', 'identities']), true);
    assert.equal(canSee(own, ['data', 'identities', 'jack']), true);
    assert.equal(canSee(own, ['data', 'identities', 'jill']), false);
  });

  it('show secrets only to an admin asking raw, and prune what cannot be seen', () => {
    const doc = parseXml(
      '<data xmlns:own="urn:o"><identities><jack><encryptedPassword>h</encryptedPassword><name>Jack</name></jack><jill><name>Jill</name></jill></identities><environment own:plugin="p"><t>1</t></environment></data>',
    );
    const root = doc.documentElement!;
    assert.equal(
      serialize(root, { show: visibilityFor(jack, 'read').show }),
      '<data><identities><jack><name>Jack</name></jack></identities><environment><t>1</t></environment></data>',
    );
    assert.equal(
      serialize(root, { show: visibilityFor(jack, 'raw').show }),
      '<data><identities><jack><name>Jack</name></jack></identities><environment><t>1</t></environment></data>',
      'raw changes nothing for a user',
    );
    assert.equal(serialize(root, { show: visibilityFor(ANONYMOUS, 'read').show }), '<data><environment><t>1</t></environment></data>');
    assert.match(serialize(root, { show: visibilityFor(admin, 'read').show }), /<jack><name>Jack<\/name><\/jack>/);
    assert.match(serialize(root, { show: visibilityFor(admin, 'raw').show }), /<encryptedPassword>h<\/encryptedPassword>.*own:plugin="p"/);
  });
});

describe('passwords', () => {
  it('are hashed with scrypt and verified', async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, /^\$scrypt\$ln=15,r=8,p=1\$[\w-]+\$[\w-]+$/);
    assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
    assert.equal(await verifyPassword('correct horse', hash, 'jack'), true);
    assert.equal(await verifyPassword('correct horse', hash, 'jack'), true, 'and again, from the cache');
    assert.equal(await verifyPassword('wrong horse', hash, 'jack'), false);
    assert.equal(await verifyPassword('correct horse', 'plain-text', 'jack'), false);
    assert.equal(await verifyPassword('x', '$scrypt$ln=30,r=8,p=1$AAAA$AAAA', 'jack'), false, 'absurd costs are refused');
  });
  it('verify concurrent attempts with the same password once', async () => {
    const hash = await hashPassword('together');
    const results = await Promise.all(Array.from({ length: 20 }, () => verifyPassword('together', hash, 'u')));
    assert.ok(results.every(Boolean));
  });
  it('made at random are long and varied', () => {
    const a = randomPassword();
    assert.equal(a.length, 20);
    assert.notEqual(a, randomPassword());
  });
});
