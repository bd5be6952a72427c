import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SHOW_ALL } from '../../src/tree/dom.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { serialize } from '../../src/tree/serialize.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { Tree, combine } from '../../src/tree/tree.ts';

const NS = 'xmlns:au="http://jackjansen.nl/igor/authentication" xmlns:own="http://jackjansen.nl/igor/owner"';
const fresh = () =>
  new Tree(parseXml(`<data ${NS}><sandbox/><sensors><x own:plugin="p"><v>1</v><au:capability>c</au:capability></x></sensors></data>`));
const el = (t: Tree, tag: string, v: unknown) => elementFromJson(t.doc, tag, v as never);
const xml = (t: Tree, path = '/data/sandbox') => serialize(t.select(path)[0]!);

describe('PUT', () => {
  it('creates the element and any missing parents, as one journal operation', () => {
    const t = fresh();
    const m = t.put('/data/sandbox/a/b[2]/c', el(t, 'c', 5));
    assert.equal(m.ref, '/data/sandbox/a/b/c');
    assert.deepEqual(m.ops, [{ op: 'append', parent: '/data/sandbox', xml: '<a><b><c>5</c></b></a>' }]);
    assert.equal(m.events.length, 1);
    assert.equal(m.events[0]!.kind, 'add');
  });

  it('replaces one match, keeps its hidden data, and changes nothing when the content is the same', () => {
    const t = fresh();
    const m = t.put('/data/sensors/x', el(t, 'x', { v: 2 }));
    assert.equal(m.ref, '/data/sensors/x');
    assert.equal(
      serialize(t.select('/data/sensors/x')[0]!, { show: SHOW_ALL }),
      '<x xmlns:own="http://jackjansen.nl/igor/owner" xmlns:au="http://jackjansen.nl/igor/authentication" own:plugin="p"><v>2</v><au:capability>c</au:capability></x>',
      'raw fragments declare the namespaces they use',
    );
    const again = t.put('/data/sensors/x', el(t, 'x', { v: 2 }));
    assert.deepEqual(again.ops, []);
    assert.deepEqual(again.events, []);
    assert.equal(again.ref, '/data/sensors/x', 'the reference of the element that is there, not of a detached copy');
  });

  it('refuses several matches, a root, and paths that do not end in a tag', () => {
    const t = fresh();
    t.post('/data/sandbox/i', el(t, 'i', 1));
    t.post('/data/sandbox/i', el(t, 'i', 2));
    assert.throws(() => t.put('/data/sandbox/i', el(t, 'i', 3)), /selects 2 elements/);
    assert.throws(() => t.put('/data', el(t, 'data', 3)), /root/);
    assert.throws(() => t.put('/data/sandbox/@x', el(t, 'x', 3)), /must end with an element tag/);
    assert.throws(() => t.put('/data/sandbox/text()', el(t, 'x', 3)), /must end with an element tag/);
    assert.throws(() => t.put('/other/x', el(t, 'x', 3)), /one root/);
  });
});

describe('what enters the tree', () => {
  it('has names the loader reads back, however the element was made', () => {
    const t = fresh();
    const before = serialize(t.root, { show: SHOW_ALL });
    // Elements built in code (a plugin, an action) rather than parsed: xmldom takes any name.
    for (const name of ['µ', 'a²', '\u{10000}', 'a b']) {
      const bad = t.doc.createElement('x');
      bad.appendChild(t.doc.createElement(name));
      assert.throws(
        () => t.put('/data/sandbox/x', bad),
        (err: Error & { code?: string }) => err.code === 'bad_name',
        name,
      );
      const attr = t.doc.createElement('x');
      attr.setAttribute(name, '1');
      assert.throws(
        () => t.post('/data/sandbox/x', attr),
        (err: Error & { code?: string }) => err.code === 'bad_name',
        `@${name}`,
      );
    }
    assert.equal(serialize(t.root, { show: SHOW_ALL }), before, 'each refusal left the tree as it was');
    const good = t.doc.createElement('x');
    good.appendChild(t.doc.createElement('température'));
    good.setAttribute('ΔT', '1');
    t.put('/data/sandbox/x', good);
    assert.equal(xml(t), '<sandbox><x ΔT="1"><température/></x></sandbox>');
  });
});

describe('POST', () => {
  it('appends after the matches and numbers the references like Igor', () => {
    const t = fresh();
    assert.equal(t.post('/data/sandbox/list/item', el(t, 'item', 'a')).ref, '/data/sandbox/list/item');
    assert.equal(t.post('/data/sandbox/list/item', el(t, 'item', 'b')).ref, '/data/sandbox/list/item[2]');
    assert.equal(t.post('/data/sandbox/list/item', el(t, 'item', 'c')).ref, '/data/sandbox/list/item[3]');
    assert.equal(xml(t, '/data/sandbox/list'), '<list><item>a</item><item>b</item><item>c</item></list>');
  });

  it('refuses matches under different parents, and a second top-level element', () => {
    const t = fresh();
    t.put('/data/sandbox/a/i', el(t, 'i', 1));
    t.put('/data/sandbox/b/i', el(t, 'i', 1));
    assert.throws(() => t.post('/data/sandbox/*/i', el(t, 'i', 2)), /different parents/);
    assert.throws(() => t.post('/data/sandbox', el(t, 'sandbox', 2)), /top-level elements are unique/);
    assert.throws(() => t.post('/data', el(t, 'data', 2)), /one root/);
  });
});

describe('DELETE', () => {
  it('removes every match, last first, with references valid at replay', () => {
    const t = fresh();
    for (const v of [1, 2, 3]) t.post('/data/sandbox/i', el(t, 'i', v));
    const m = t.delete('/data/sandbox/i[. > 1]');
    assert.deepEqual(m.ops, [
      { op: 'delete', path: '/data/sandbox/i[3]' },
      { op: 'delete', path: '/data/sandbox/i[2]' },
    ]);
    assert.equal(xml(t), '<sandbox><i>1</i></sandbox>');
  });

  it('removes attributes, and refuses the root and text nodes', () => {
    const t = fresh();
    t.put('/data/sandbox/a', parseXml('<a k="v">t</a>').documentElement!);
    t.delete('/data/sandbox/a/@k');
    assert.equal(xml(t), '<sandbox><a>t</a></sandbox>');
    assert.throws(() => t.delete('/data'), /root/);
    assert.throws(() => t.delete('/data/sandbox/a/text()'), /only elements and attributes/);
  });
});

describe('undo and replay', () => {
  it('undo restores exactly the tree before, for every kind of change', () => {
    const t = fresh();
    t.post('/data/sandbox/i', el(t, 'i', 1));
    t.post('/data/sandbox/i', el(t, 'i', 2));
    const before = serialize(t.root, { show: SHOW_ALL });
    const changes = combine([
      t.put('/data/sandbox/new/deep', el(t, 'deep', 1)),
      t.put('/data/sensors/x', el(t, 'x', { v: 9 })),
      t.delete('/data/sandbox/i'),
      t.post('/data/sandbox/new/deep', el(t, 'deep', 2)),
    ]);
    assert.notEqual(serialize(t.root, { show: SHOW_ALL }), before);
    changes.undo();
    assert.equal(serialize(t.root, { show: SHOW_ALL }), before);
  });

  it('replaying the journal operations on the old state gives the new state', () => {
    const t = fresh();
    const replica = fresh();
    const ops = [
      t.put('/data/sandbox/a/b', el(t, 'b', { c: [1, 2] })),
      t.post('/data/sandbox/a/b', el(t, 'b', 'second')),
      t.put('/data/sensors/x', el(t, 'x', { v: 3 })),
      t.delete('/data/sandbox/a/b[1]/c[1]'),
      t.delete('/data/sensors/x/@own:plugin'),
    ].flatMap((m) => m.ops);
    for (const op of ops) replica.apply(op);
    assert.equal(serialize(replica.root, { show: SHOW_ALL }), serialize(t.root, { show: SHOW_ALL }));
  });
});
