/**
 * The contract between Tree and the caches its readers trust (src/tree/children.ts: children by name, whether
 * a list of namesakes has one in a namespace, counts of changes below each node; src/tree/xpath/indexes.ts,
 * built on those counts): every way the tree changes is seen. Random sequences of Tree's operations (PUT,
 * POST, DELETE of elements and attributes, a mutation undone as the store undoes one it could not make
 * durable, mutations refused and undone by Tree itself, journal replay into a second tree, a journal record
 * refused half-way) are made on trees whose caches are all in use, and after each one every cached answer is
 * compared with a fresh walk of the tree, and the queries' answers with the plain `xpath` engine's on a fresh
 * parse. A change made past children.ts's functions shows here as a stale answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import xpath from 'xpath';
import { allWithoutNamespace, childrenNamed, deepOtherVersion, deepVersion } from '../../src/tree/children.ts';
import { SHOW_ALL } from '../../src/tree/dom.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { refOf } from '../../src/tree/refs.ts';
import { serialize } from '../../src/tree/serialize.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { parseSimplePath, walkSimplePath } from '../../src/tree/simplePath.ts';
import { Tree, type JournalOp, type Mutation } from '../../src/tree/tree.ts';
import type { View } from '../../src/tree/xpath/evaluate.ts';

const S = '/data/s';
const OWN = 'http://jackjansen.nl/igor/owner';

/** A wide series (children by name) with enough below it for the evaluator to keep its lists (indexes.ts). */
function initial(n: number): string {
  const readings = Array.from({ length: n }, (_, i) => (i % 5 === 4 ? `<q>${i}</q>` : `<r p="${i % 3}"><v>${i % 10}</v></r>`)).join('');
  return `<data xmlns:own="${OWN}"><s>${readings}</s><t hide="1" own:plugin="p"><a><v>7</v></a></t></data>`;
}

/** What a view that goes by an attribute sees: an element with @hide, and all below it, is not there. */
const withoutHidden: View = { admits: (n) => n.nodeType !== 1 || !(n as Element).hasAttribute('hide') };

const QUERIES = [
  `${S}/r`,
  `${S}/r[3]`,
  `${S}/r[last()]`,
  `${S}/*[7]`,
  `${S}/q`,
  `count(${S}/r)`,
  '//v',
  '//v[. > 5]',
  `${S}/r[v = 4]`,
  `${S}/r[position() > last() - 3]`,
  '/data/t//v',
];

type Kind =
  | 'append'
  | 'appendOther'
  | 'replace'
  | 'replaceNamespaced'
  | 'replaceBelow'
  | 'create'
  | 'createNested'
  | 'delete'
  | 'deleteAll'
  | 'deleteAttribute'
  | 'hide'
  | 'refusedName'
  | 'refusedDepth'
  | 'refusedRecord';

interface Step {
  kind: Kind;
  at: number;
  value: number;
  /** The mutation is undone afterwards, as the store does when it cannot make one durable. */
  undo: boolean;
}

const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<Kind>(
    'append',
    'append',
    'appendOther',
    'replace',
    'replaceNamespaced',
    'replaceBelow',
    'create',
    'createNested',
    'delete',
    'deleteAll',
    'deleteAttribute',
    'hide',
    'refusedName',
    'refusedDepth',
    'refusedRecord',
  ),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 9 }),
  undo: fc.boolean(),
});

/** Makes `s` on the tree; answers the mutation made, or undefined when the tree refused it (and undid it). */
function make(tree: Tree, s: Step): Mutation | undefined {
  const count = tree.select(`${S}/r`).length;
  const i = (s.at % Math.max(count, 1)) + 1;
  const reading = () => elementFromJson(tree.doc, 'r', { '@p': String(s.value % 3), v: s.value });
  switch (s.kind) {
    case 'append':
      return tree.post(`${S}/r`, reading());
    case 'appendOther':
      return tree.post(`${S}/q`, elementFromJson(tree.doc, 'q', s.value));
    case 'replace':
      return count ? tree.put(`${S}/r[${i}]`, reading()) : undefined;
    case 'replaceNamespaced':
      // A namesake in a namespace, which `r` without a prefix no longer selects.
      return count ? tree.put(`${S}/r[${i}]`, parseXml(`<r xmlns="urn:d"><v>${s.value}</v></r>`).documentElement!) : undefined;
    case 'replaceBelow':
      return count ? tree.put(`${S}/r[${i}]/v`, elementFromJson(tree.doc, 'v', s.value)) : undefined;
    case 'create':
      return tree.put(`${S}/n${s.value}`, elementFromJson(tree.doc, `n${s.value}`, s.value));
    case 'createNested':
      return tree.put(`/data/t/a/b${s.value}/v`, elementFromJson(tree.doc, 'v', s.value));
    case 'delete':
      return tree.delete(s.value < 5 ? `${S}/r[${i}]` : `${S}/*[${i}]`);
    case 'deleteAll':
      return tree.delete(s.value < 5 ? `${S}/q` : `${S}/r[${i}]/@p`);
    case 'deleteAttribute':
      return tree.delete(s.value < 5 ? '/data/t/@hide' : '/data/t/@own:plugin');
    case 'hide':
      // Back under the view's rule; own:plugin, which the writer does not give, is carried over (unseen).
      return tree.put('/data/t', parseXml(`<t hide="${s.value}"><a><v>${s.value}</v></a></t>`).documentElement!);
    case 'refusedName':
    case 'refusedDepth': {
      const el = reading();
      if (s.kind === 'refusedName') el.appendChild(tree.doc.createElement('µ'));
      else for (let e = el, d = 0; d < 8; d++) e = e.appendChild(tree.doc.createElement('deep')) as Element;
      assert.throws(() => tree.post(`${S}/r`, el), /cannot be an element's name|levels deep/);
      return undefined;
    }
    case 'refusedRecord': {
      const record: JournalOp[] = [
        { op: 'append', parent: S, xml: `<r><v>${s.value}</v></r>` },
        { op: 'delete', path: `${S}/r[${i}]` },
        { op: 'delete', path: '/data/nothing' },
      ];
      assert.throws(() => tree.applyAll(record), /not in the tree/);
      return undefined;
    }
  }
}

/** What a node looked like: to tell, after a change, whether anything below it changed, and whether only by appends. */
interface Before {
  xml: string;
  attributes: string;
  children: Node[];
  childXml: string[];
  deep: number;
  other: number;
}

function nodesOf(tree: Tree): Node[] {
  return [tree.doc, ...tree.select('//*')];
}

function attributesOf(n: Node): string {
  const el = n as Element;
  if (n.nodeType !== 1) return '';
  return Array.from({ length: el.attributes.length }, (_, k) => `${el.attributes[k]!.name}=${el.attributes[k]!.value}`).join(' ');
}

function record(tree: Tree): Map<Node, Before> {
  const seen = new Map<Node, Before>();
  for (const n of nodesOf(tree)) {
    const children = Array.from({ length: n.childNodes.length }, (_, k) => n.childNodes[k]!);
    seen.set(n, {
      xml: serialize(n, { show: SHOW_ALL }),
      attributes: attributesOf(n),
      children,
      childXml: children.map((c) => serialize(c, { show: SHOW_ALL })),
      deep: deepVersion(n),
      other: deepOtherVersion(n),
    });
  }
  return seen;
}

/** Every cached answer against a fresh walk; `before` (record's) says what changed since. */
function check(tree: Tree, before: Map<Node, Before>, when: string): void {
  for (const n of nodesOf(tree)) {
    const names = new Set(['zz']);
    for (let c = n.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) names.add(c.nodeName);
    for (const name of names) {
      const fresh: Node[] = [];
      for (let c = n.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && c.nodeName === name) fresh.push(c);
      const cached = childrenNamed(n, name);
      // By identity: the same nodes, in the same order.
      const same = cached.length === fresh.length && cached.every((c, k) => c === fresh[k]);
      assert.ok(same, `children of ${refOf(n)} named ${name}: ${cached.map(refOf)} where there are ${fresh.map(refOf)}, ${when}`);
      // It may say no when it cannot be sure (then the readers filter the list), never yes wrongly.
      if (allWithoutNamespace(cached))
        assert.ok(!cached.some((e) => e.namespaceURI), `none in a namespace among ${refOf(n)}/${name}, ${when}`);
    }
    if (n.nodeType === 1) {
      const ref = refOf(n);
      const found = walkSimplePath(tree.doc, parseSimplePath(ref, true)!, undefined, 'reference');
      assert.ok(found.length === 1 && found[0] === n, `${ref} found again, ${when}`);
    }
    const was = before.get(n);
    if (!was || was.xml === serialize(n, { show: SHOW_ALL })) continue;
    assert.ok(deepVersion(n) > was.deep, `${refOf(n)} changed below, and its count says so, ${when}`);
    const appendedOnly =
      was.attributes === attributesOf(n) &&
      was.children.every((c, k) => n.childNodes[k] === c && serialize(c, { show: SHOW_ALL }) === was.childXml[k]);
    if (!appendedOnly)
      assert.ok(deepOtherVersion(n) > was.other, `${refOf(n)} changed other than by appends, and its count says so, ${when}`);
  }
  for (const view of [undefined, withoutHidden]) {
    const copy = freshCopy(tree, view);
    for (const query of QUERIES) {
      const what = `${query}${view ? ' in a view' : ''}, ${when}`;
      assert.deepEqual(shown(tree.evaluate(query, tree.doc, { view })), shown(xpath.select(query, copy as never)), what);
    }
  }
}

function shown(v: unknown): unknown {
  return Array.isArray(v) ? v.map((n: Node) => `${refOf(n)}=${serialize(n, { show: SHOW_ALL })}`) : v;
}

/** What the reference, the plain engine, is asked on: a fresh parse of the tree, minus what the view hides. */
function freshCopy(tree: Tree, view: View | undefined): Document {
  const doc = parseXml(serialize(tree.doc, { show: SHOW_ALL }));
  if (view) for (const hidden of xpath.select('//*[@hide]', doc as never) as Node[]) hidden.parentNode!.removeChild(hidden);
  return doc;
}

/** An element as XML with its attributes in order of name (an undone DELETE of one puts it back last). */
function canonical(el: Element): string {
  const attributes = attributesOf(el).split(' ').sort().join(' ');
  let inner = '';
  for (let c = el.firstChild; c; c = c.nextSibling) inner += c.nodeType === 1 ? canonical(c as Element) : serialize(c);
  return `<${el.nodeName} ${attributes}>${inner}</${el.nodeName}>`;
}

describe("Tree's changes and the caches of its readers", () => {
  it('every operation, undo, refusal and journal replay is seen by every cache', () => {
    fc.assert(
      fc.property(fc.integer({ min: 33, max: 130 }), fc.array(step, { minLength: 1, maxLength: 14 }), (n, steps) => {
        const tree = new Tree(parseXml(initial(n)));
        tree.maxDepth = 8;
        // The same changes replayed from the journal, as at start-up, into a tree whose caches are in use too.
        const replica = new Tree(parseXml(initial(n)));
        let before = record(tree);
        let replicaBefore = record(replica);
        check(tree, before, 'at first');
        check(replica, replicaBefore, 'at first');
        for (const [k, s] of steps.entries()) {
          const when = `after step ${k}: ${s.kind}${s.undo ? ', undone' : ''}`;
          before = record(tree);
          const m = make(tree, s);
          if (m && s.undo) {
            // Seen both ways: the change, then its undo.
            check(tree, before, `after step ${k}: ${s.kind}`);
            before = record(tree);
            m.undo();
          }
          check(tree, before, when);
          replicaBefore = record(replica);
          if (m && !s.undo) replica.applyAll(m.ops);
          check(replica, replicaBefore, `${when}, replayed`);
          assert.equal(canonical(replica.root), canonical(tree.root), `the replica is the tree, ${when}`);
        }
      }),
      {
        numRuns: Number(process.env.TRACKING_RUNS ?? 40),
        seed: process.env.TRACKING_SEED ? Number(process.env.TRACKING_SEED) : undefined,
      },
    );
  });

  it('a change past children.ts (the DOM called directly) is what this test would catch', () => {
    const tree = new Tree(parseXml(initial(40)));
    const before = record(tree);
    check(tree, before, 'at first');
    const s = tree.select(S)[0]!;
    s.insertBefore(tree.doc.createElement('r'), s.firstChild);
    assert.throws(() => check(tree, before, 'after a change Tree did not make'), assert.AssertionError);
  });
});

describe('documents that are not the tree', () => {
  it('keep no caches and carry none of its bookkeeping, however they are changed', () => {
    const doc = parseXml(`<body>${'<r>1</r><q/>'.repeat(40)}</body>`);
    const body = doc.documentElement!;
    assert.equal(childrenNamed(body, 'r').length, 40);
    assert.equal(refOf(body.lastChild!.previousSibling!), '/body/r[40]');
    body.insertBefore(doc.createElement('r'), body.firstChild);
    body.removeChild(body.lastChild!.previousSibling!);
    assert.equal(childrenNamed(body, 'r').length, 40, 'changed through the DOM, and answered as it is now');
    assert.equal(refOf(body.firstChild!), '/body/r[1]');
    assert.equal(deepVersion(body), 0, 'no changes counted');
    for (let c: Node | null = body; c; c = c.firstChild)
      assert.deepEqual(Object.getOwnPropertySymbols(c), [], `nothing kept on <${c.nodeName}>`);
  });

  it('are parsed in linear time however deep (no count walks up to the root)', () => {
    const doc = parseXml(`<d>${'<d>'.repeat(20_000)}${'</d>'.repeat(20_000)}</d>`);
    assert.equal(deepVersion(doc.documentElement!), 0);
  });
});
