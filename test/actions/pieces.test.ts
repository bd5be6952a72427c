import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAction } from '../../src/actions/definition.ts';
import { TriggerPattern } from '../../src/actions/pattern.ts';
import { ancestry } from '../../src/tree/refs.ts';
import { laneOf } from '../../src/actions/runner.ts';
import { expandTemplate } from '../../src/actions/template.ts';
import xpath from 'xpath';
import { parseXml } from '../../src/tree/parseXml.ts';

const action = (inner: string) =>
  parseAction(parseXml(`<data><actions><action>${inner}</action></actions></data>`).documentElement!.firstChild!.firstChild as Element);

describe('action definitions', () => {
  it('read every field, with defaults', () => {
    const a = action(
      '<name>n</name><xpath>sensors/x</xpath><xpath>/data/devices/y</xpath><multiple>true</multiple><aggregate>1</aggregate>' +
        '<interval>60</interval><cron>0 7 * * *</cron><minInterval>5</minInterval><condition>1 = 1</condition>' +
        '<url>/plugin/p?v={.}</url><method>put</method><data>{.}</data><mimetype>application/json</mimetype>' +
        '<representing>sensors/x</representing><creator>me</creator><comment>hi</comment>',
    );
    assert.deepEqual(
      { ...a, key: undefined },
      {
        ref: '/data/actions/action',
        key: undefined,
        plugin: undefined,
        name: 'n',
        xpaths: ['/data/sensors/x', '/data/devices/y'],
        multiple: true,
        aggregate: true,
        interval: 60,
        cron: '0 7 * * *',
        minInterval: 5,
        condition: '1 = 1',
        url: '/plugin/p?v={.}',
        method: 'PUT',
        data: '{.}',
        mimetype: 'application/json',
        representing: 'sensors/x',
      },
    );
    const d = action('<url>/x</url>');
    assert.equal(d.method, 'GET');
    assert.equal(d.mimetype, 'text/plain');
    assert.equal(d.multiple, false);
  });

  it('are refused with a message that says what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['<name>x</name>', /has no <url>/],
      ['<url>/x</url><interval>soon</interval>', /<interval> must be a number of seconds/],
      ['<url>/x</url><interval>0</interval>', /at least 1/],
      ['<url>/x</url><cron>every day</cron>', /<cron> "every day" is not a cron expression/],
      // Valid to node-cron, but the last weekday of a month is never a Sunday: scheduling it would throw.
      ['<url>/x</url><cron>0 0 LW * sun</cron>', /<cron> "0 0 LW \* sun" never comes/],
      ['<url>/x</url><xpath>/data/x[[</xpath>', /<xpath> XPath error: syntax error/],
      ['<url>/x?{/data/x[[}</url>', /<url> XPath error/],
      ['<url>/x</url><method>PATCH</method>', /<method> must be GET, PUT, POST or DELETE/],
      ['<url>/x</url><multiple>maybe</multiple>', /<multiple> must be true or false/],
      ['<url>/x</url><colour>red</colour>', /unknown field <colour>/],
      ['<url>/x</url><url>/y</url>', /<url> may appear only once/],
    ];
    for (const [inner, message] of cases) assert.throws(() => action(inner), message, inner);
  });
});

describe('templates', () => {
  const values: Record<string, string> = { '.': 'a b&c', 'count(x)': '3', '/data/n + 1': '4' };
  const valueOf = (e: string) => values[e] ?? `?${e}`;
  it('put values in, percent-encoded in URLs and raw in data', () => {
    assert.equal(expandTemplate('/plugin/p?v={.}&n={count(x)}', valueOf, true), '/plugin/p?v=a%20b%26c&n=3');
    assert.equal(expandTemplate('{"v": "{.}", "n": {/data/n + 1}}', valueOf, false), '{"v": "a b&c", "n": 4}');
  });
  it('take {{ and }} as literal braces, and a { that opens no expression as itself', () => {
    assert.equal(expandTemplate('{{not}} {.}', valueOf, false), '{not} a b&c');
    assert.equal(expandTemplate('{{"v": "{.}"}}', valueOf, false), '{"v": "a b&c"}');
    assert.equal(expandTemplate('{"a": {"b": {count(x)}}}', valueOf, false), '{"a": {"b": 3}}');
    assert.equal(expandTemplate('no braces', valueOf, true), 'no braces');
    assert.equal(expandTemplate('{}', valueOf, true), '{}');
  });
});

describe('trigger patterns', () => {
  it('know the names a match can have', () => {
    assert.deepEqual(new TriggerPattern('/data/sensors/x').lastNames, new Set(['x']));
    assert.deepEqual(new TriggerPattern('/data/a/b | /data//c[d=1]').lastNames, new Set(['b', 'c']));
    assert.equal(new TriggerPattern('/data/a/*').lastNames, undefined);
    assert.equal(new TriggerPattern('/data/a/b/text()').lastNames, undefined);
    assert.equal(new TriggerPattern('count(/data/a) > 1').lastNames, undefined);
  });
  it('rule out nodes whose ancestry does not fit', () => {
    const p = new TriggerPattern('/data/sensors/*/value | /data//devices//lamp[on = 1]');
    assert.equal(p.mayMatch(['data', 'sensors', 'x', 'value']), true);
    assert.equal(p.mayMatch(['data', 'sensors', 'value']), false);
    assert.equal(p.mayMatch(['data', 'a', 'devices', 'b', 'c', 'lamp']), true);
    assert.equal(p.mayMatch(['data', 'devices']), false);
    assert.equal(new TriggerPattern('/data/a/following-sibling::b').mayMatch(['x']), true, 'anything else may always match');
  });
  it('judge a deleted node by its own predicates and by where it was', () => {
    const doc = parseXml('<data><people><jack><home>true</home><x/></jack><jill><home>false</home><x/></jill></people></data>');
    const select = (e: string, context: Node = doc) =>
      (xpath.parse(e).evaluate({ node: context }) as unknown as { toArray(): Node[] }).toArray();
    const [jack, jill] = select('/data/people/*');
    const jackX = jack!.lastChild!;
    const jillX = jill!.lastChild!;
    jack!.removeChild(jackX);
    jill!.removeChild(jillX);
    const byParent = new TriggerPattern('/data/people/*[home = "true"]/x');
    assert.equal(byParent.matchedWhenDeleted(jackX, jack!, select), true);
    assert.equal(byParent.matchedWhenDeleted(jillX, jill!, select), false);
    const people = doc.documentElement!.firstChild!;
    people.removeChild(jill!);
    assert.equal(new TriggerPattern('/data/people/*[home = "false"]').matchedWhenDeleted(jill!, people, select), true);
    assert.equal(new TriggerPattern('/data/people/*[home = "true"]').matchedWhenDeleted(jill!, people, select), false);
    assert.equal(new TriggerPattern('/data//x').matchedWhenDeleted(jackX, jack!, select), true);
  });

  it('take the ancestry of a detached node from where it was', () => {
    const doc = parseXml('<data><a><b/></a></data>');
    const a = doc.documentElement!.firstChild!;
    const b = a.firstChild!;
    a.removeChild(b);
    assert.deepEqual(ancestry(b, a), ['data', 'a', 'b']);
  });
});

describe('lanes', () => {
  it('keep tree calls, plugin calls and external calls apart', () => {
    assert.equal(laneOf('/data/x'), 'data');
    assert.equal(laneOf('/internal/save'), 'data');
    assert.equal(laneOf('/action/x'), 'data');
    assert.equal(laneOf('/plugin/fitbit?user=jack'), 'plugin');
    assert.equal(laneOf('https://example.org/hook'), 'external');
  });
});
