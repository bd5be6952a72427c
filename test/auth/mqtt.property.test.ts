/**
 * MQTT is another read path (issue #20): what the embedded broker lets a principal receive, publish or
 * subscribe to must be what REST lets it read or write at the tree path of the same name. Generated
 * principals (users, admins, tokens narrowed to a subtree and some rights, plugins) and generated topics
 * (every part of the tree, secret names, names that are no element names) are checked against the REST
 * rules as README states them: a topic reaches a reader only if that reader could GET the element, no secret
 * reaches anyone but an unrestricted admin, and only what could be PUT may be published.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { mayPublish, mayReceive, maySubscribe } from '../../src/auth/mqtt.ts';
import { rightsAt } from '../../src/auth/policy.ts';
import type { Principal, Right } from '../../src/auth/principal.ts';
import { visibilityFor } from '../../src/auth/visibility.ts';
import { SECRETS } from './secretNames.ts';

const LEVELS = [
  'environment',
  'status',
  'sensors',
  'devices',
  'kitchen',
  'people',
  'identities',
  'jack',
  'jill',
  'admin',
  'plugindata',
  '_fitbit',
  'sandbox',
  'services',
  'igor',
  'mqtt',
  'actions',
  'password',
  'token',
  'client_secret',
  '0x00158d',
  'x',
];
const RIGHTS: Right[] = ['get', 'put', 'post', 'delete'];

const principal: fc.Arbitrary<Principal> = fc.oneof(
  fc.record({
    kind: fc.constant('user' as const),
    name: fc.constantFrom('jack', 'jill'),
    admin: fc.boolean(),
    via: fc.constant('basic' as const),
  }),
  fc.record({
    kind: fc.constant('user' as const),
    name: fc.constantFrom('jack', 'admin'),
    admin: fc.boolean(),
    via: fc.constant('token' as const),
    scope: fc.record({
      path: fc.array(fc.constantFrom(...LEVELS.slice(0, 14)), { maxLength: 3 }),
      rights: fc.subarray(RIGHTS).map((r) => new Set(r)),
    }),
  }),
  fc.record({ kind: fc.constant('plugin' as const), name: fc.constantFrom('_fitbit', 'misfit') }),
  fc.constant({ kind: 'anonymous' as const }),
);
const topic = fc.array(fc.constantFrom(...LEVELS), { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
const isTag = (s: string) => /^[A-Za-z_][\w.-]*$/.test(s);
const unrestricted = (p: Principal) => p.kind === 'system' || (p.kind === 'user' && p.admin && p.scope === undefined);

it('lets MQTT carry to and from a principal only what REST lets it read and write at that path', () => {
  fc.assert(
    fc.property(principal, topic, (p, t) => {
      const levels = t.split('/');
      const chain = ['data', ...levels];
      if (unrestricted(p)) return;
      const names = levels.every(isTag);
      const view = visibilityFor(p, 'read');
      if (mayReceive(p, t)) {
        assert.ok(names, `${t}: no element has that path`);
        assert.ok(!levels.some((l) => SECRETS.has(l)), `${t} is a secret`);
        assert.ok(rightsAt(p, chain).has('get'), `${JSON.stringify(p)} may not GET /data/${t}`);
        assert.ok(view.admitsChain(chain), `/data/${t} does not exist for ${JSON.stringify(p)} over REST`);
      }
      if (mayPublish(p, t)) assert.ok(names && rightsAt(p, chain).has('put'), `${JSON.stringify(p)} may not PUT /data/${t}`);
      const filter = `${t}/#`;
      if (maySubscribe(p, filter)) assert.ok(names && rightsAt(p, chain).has('get'), `${JSON.stringify(p)} subscribed to ${filter}`);
      assert.equal(maySubscribe(p, '#'), false, 'everything is for an unrestricted admin only');
    }),
    { numRuns: 20_000 },
  );
});
