/**
 * The evaluator keeps what it walked (src/tree/xpath/indexes.ts: descendants by name, columns of values;
 * children.ts: children by name) and trusts it while the subtree it came from is unchanged, extending it
 * when readings were only appended. This test changes a tree the ways the server does (POST, PUT, DELETE,
 * at the end of a series, inside it, elsewhere) between queries, and checks every answer against the plain
 * `xpath` engine (the reference of xpath-differential.test.ts, which keeps nothing) on a fresh copy of the
 * tree — without what the view hides, when the query is asked in one: a cache that misses a change shows here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import xpath from 'xpath';
import { insertBefore } from '../../src/tree/children.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { refOf } from '../../src/tree/refs.ts';
import { serialize } from '../../src/tree/serialize.ts';
import type { View } from '../../src/tree/xpath/evaluate.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { Tree } from '../../src/tree/tree.ts';

const S = '/data/sensors/s';

/** A series long enough for every index to be kept (children.ts WIDE, indexes.ts WORTH_CACHING). */
function initial(n: number): string {
  const readings = Array.from({ length: n }, (_, i) => `<r><t>${i}</t><value>${i % 10}</value></r>`).join('');
  return `<data><sensors><s>${readings}</s><other><value>5</value><r><value>5</value></r></other></sensors><secret><value>5</value></secret></data>`;
}

const QUERIES = [
  `${S}/r[value > 6]`,
  `${S}/r[value = 5]`,
  `${S}/r[5 = value]`,
  `${S}/r[value != '3']`,
  '//value[. = 5]',
  '//value[. >= 8]',
  '//r[value < 2]',
  `(${S}/r)[last()]`,
  `${S}/r[last()]`,
  `${S}/r[3]`,
  `${S}/r[position() > last() - 3]`,
  `${S}/r[position() <= 2]`,
  `count(${S}/r)`,
  `sum(${S}/r/value)`,
  'count(//value)',
  `${S}/r[value > 6][last()]`,
];

/** Hides elements named `secret` wherever they are: by name, as the server's views go. */
const hideSecret: View = { admits: (n) => n.nodeName !== 'secret' };

type Change = { kind: 'append' | 'put' | 'delete' | 'insert' | 'deep' | 'elsewhere'; at: number; value: number };

const change: fc.Arbitrary<Change> = fc.record({
  kind: fc.constantFrom('append', 'append', 'append', 'put', 'delete', 'insert', 'deep', 'elsewhere'),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 9 }),
});

function apply(tree: Tree, c: Change): void {
  const count = tree.select(`${S}/r`).length;
  const i = (c.at % Math.max(count, 1)) + 1;
  const reading = () => elementFromJson(tree.doc, 'r', { t: 'new', value: c.value });
  switch (c.kind) {
    case 'append':
      tree.post(`${S}/r`, reading());
      break;
    case 'put':
      if (count) tree.put(`${S}/r[${i}]/value[1]`, elementFromJson(tree.doc, 'value', c.value));
      break;
    case 'delete':
      if (count) tree.delete(`${S}/r[${i}]`);
      break;
    case 'insert': {
      // Not at the end: what no index may take for an append. Tree has no such operation, so it is made as Tree
      // makes its changes, through children.ts.
      const before = tree.select(`${S}/r[${i}]`)[0];
      if (before) insertBefore(before.parentNode!, tree.adopt(reading()), before);
      break;
    }
    case 'deep':
      // A second value inside a reading: a change below the series that is not an append to it.
      if (count) tree.post(`${S}/r[${i}]/value`, elementFromJson(tree.doc, 'value', c.value));
      break;
    case 'elsewhere':
      tree.post('/data/sensors/other/r', reading());
      break;
  }
}

function shown(v: unknown): unknown {
  return Array.isArray(v) ? v.map((n: Node) => `${refOf(n)}=${serialize(n)}`) : v;
}

function ours(tree: Tree, query: string, view: View | undefined): unknown {
  return shown(tree.evaluate(query, tree.doc, { view }));
}

/** The reference: a fresh parse of the tree (minus what the view hides), through the plain engine. */
function reference(tree: Tree, query: string, view: View | undefined): unknown {
  const doc = parseXml(serialize(tree.doc.documentElement!));
  if (view) for (const hidden of xpath.select('//secret', doc as never) as Node[]) hidden.parentNode!.removeChild(hidden);
  return shown(xpath.select(query, doc as never));
}

describe('indexes the evaluator keeps', () => {
  it('answer as a fresh tree does, through appends, replacements, deletions and inserts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 40, max: 300 }),
        fc.array(fc.tuple(change, fc.constantFrom(...QUERIES), fc.boolean()), { minLength: 1, maxLength: 25 }),
        (n, steps) => {
          const tree = new Tree(parseXml(initial(n)));
          for (const q of QUERIES) ours(tree, q, undefined); // index everything first
          for (const [c, query, viewed] of steps) {
            apply(tree, c);
            const view = viewed ? hideSecret : undefined;
            assert.deepEqual(
              ours(tree, query, view),
              reference(tree, query, view),
              `${query} after ${c.kind}${viewed ? ', in a view' : ''}`,
            );
          }
        },
      ),
      { numRuns: Number(process.env.INDEX_RUNS ?? 100), seed: process.env.INDEX_SEED ? Number(process.env.INDEX_SEED) : undefined },
    );
  });

  it('hand out lists nobody can change: a caller changing an answer does not change the next one', () => {
    const tree = new Tree(parseXml(initial(100)));
    for (const q of [`${S}/r`, '//value', `(${S}/r)`]) {
      const first = tree.select(q);
      const length = first.length;
      first.length = 0;
      assert.equal(tree.select(q).length, length, q);
    }
  });
});
