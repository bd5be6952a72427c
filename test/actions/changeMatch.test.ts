/**
 * Matching tree changes to trigger patterns on its own, as anything that reacts to changes can use it (the
 * action manager, a plugin's host.onChange): real changes of a real Tree, asked which owners they concern and where.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { viewOf, visibilityFor } from '../../src/auth/visibility.ts';
import { TriggerPattern } from '../../src/actions/pattern.ts';
import { ChangeMatcher, type Watch } from '../../src/actions/changeMatch.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { Tree } from '../../src/tree/tree.ts';
import type { View } from '../../src/tree/xpath.ts';

const OWN = 'xmlns:own="http://jackjansen.nl/igor/owner"';
const fresh = () =>
  new Tree(
    parseXml(
      `<data ${OWN}><sensors><hall><temperature>20</temperature></hall><door>closed</door></sensors><status><sensors><door><alive>true</alive></door></sensors></status><identities><jack><secret own:plugin="other">s</secret></jack></identities></data>`,
    ),
  );
const el = (t: Tree, tag: string, v: unknown) => elementFromJson(t.doc, tag, v as never);

function watch(owner: string, xpath: string, extra: Partial<Watch<string>> = {}): Watch<string> {
  return { owner, pattern: new TriggerPattern(xpath), view: () => undefined, viewKey: '', ...extra };
}

/** The owners a change concerns, each with the names of the nodes it matched at. */
function matched(matcher: ChangeMatcher<string>, t: Tree, events: Parameters<ChangeMatcher<string>['match']>[0]) {
  return Object.fromEntries([...matcher.match(events, t)].map(([owner, nodes]) => [owner, nodes.map((n) => n.nodeName)]));
}

describe('matching changes to trigger patterns', () => {
  it('answers which owners a change concerns, at the nodes their patterns select', () => {
    const t = fresh();
    const matcher = new ChangeMatcher([
      watch('temperatures', '/data/sensors//temperature'),
      watch('doors', '/data/sensors/door'),
      watch('anything in the hall', '/data/sensors/hall/*'),
    ]);
    const { events } = t.put('/data/sensors/hall/temperature', el(t, 'temperature', 21));
    assert.deepEqual(matched(matcher, t, events), {
      temperatures: ['temperature'],
      'anything in the hall': ['temperature'],
    });
  });

  it('applies predicates, on the tree as it is after the change', () => {
    const t = fresh();
    const matcher = new ChangeMatcher([watch('warm', '/data/sensors/hall/temperature[. > 25]')]);
    assert.deepEqual(matched(matcher, t, t.put('/data/sensors/hall/temperature', el(t, 'temperature', 22)).events), {});
    assert.deepEqual(matched(matcher, t, t.put('/data/sensors/hall/temperature', el(t, 'temperature', 30)).events), {
      warm: ['temperature'],
    });
  });

  it('sees every element an added subtree brings, and the parent whose children changed', () => {
    const t = fresh();
    const matcher = new ChangeMatcher([watch('new rooms', '/data/sensors/*/temperature'), watch('the sensors', '/data/sensors')]);
    const { events } = t.put('/data/sensors/kitchen', el(t, 'kitchen', { temperature: 19, humidity: 50 }));
    assert.deepEqual(matched(matcher, t, events), { 'new rooms': ['temperature'], 'the sensors': ['sensors'] });
  });

  it('judges a deleted node from where it was, predicates included', () => {
    const t = fresh();
    const matcher = new ChangeMatcher([
      watch('closed doors', '/data/sensors/door[. = "closed"]'),
      watch('open doors', '/data/sensors/door[. = "open"]'),
    ]);
    assert.deepEqual(matched(matcher, t, t.delete('/data/sensors/door').events), { 'closed doors': ['door'] });
  });

  it('passes over changes under what an owner ignores (its own status)', () => {
    const t = fresh();
    const matcher = new ChangeMatcher([
      watch('door watcher', '/data/status//alive', { ignores: (chain) => chain.slice(0, 4).join('/') === 'data/status/sensors/door' }),
      watch('status watcher', '/data/status//alive'),
    ]);
    const { events } = t.put('/data/status/sensors/door/alive', el(t, 'alive', false));
    assert.deepEqual(matched(matcher, t, events), { 'status watcher': ['alive'] });
  });

  it("evaluates a pattern in its owner's view: a plugin is not told of what it may not see", () => {
    const t = fresh();
    const pluginView: View | undefined = viewOf(visibilityFor({ kind: 'plugin', name: 'p' }, 'plugin'));
    const matcher = new ChangeMatcher([
      watch('server', '/data/identities/jack/secret'),
      watch('plugin p', '/data/identities/jack/secret', { view: () => pluginView, viewKey: 'p' }),
    ]);
    const { events } = t.put('/data/identities/jack/secret', el(t, 'secret', 't'));
    assert.deepEqual(Object.keys(matched(matcher, t, events)), ['server']);
  });

  it('is empty without triggers, and then matches nothing', () => {
    const t = fresh();
    const matcher = new ChangeMatcher<string>([]);
    assert.equal(matcher.empty, true);
    assert.equal(matcher.match(t.put('/data/sensors/door', el(t, 'door', 'open')).events, t).size, 0);
    assert.equal(new ChangeMatcher([watch('x', '/data/x')]).empty, false);
  });
});
