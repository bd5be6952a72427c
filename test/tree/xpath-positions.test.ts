/**
 * Positional steps on every axis: `preceding-sibling::r[1]`, `following::x[2]`, `ancestor::*[last()]`,
 * `preceding::node()[position() < 3]`. The evaluator stops walking an axis once it has the positions the
 * first predicate asks for, and finds `[last()]` on the sibling, following and preceding axes from the far
 * end (src/tree/xpath/axes.ts). On generated trees, with and without a view, each such step must select what
 * the definition says: the nodes of the whole axis, in the axis's order (reverse axes nearest first), at
 * those positions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { newDocument } from '../../src/tree/dom.ts';
import { evaluate, selectNodes, type View } from '../../src/tree/xpath.ts';
import { XPATH_AXES } from './xpathAxes.ts';

interface Spec {
  name: string;
  attr: boolean;
  text: string;
  tail: string;
  children: Spec[];
}

function specOf(depth: number, width: number): fc.Arbitrary<Spec> {
  return fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    attr: fc.boolean(),
    text: fc.constantFrom('', 't'),
    tail: fc.constantFrom('', '', 'u'),
    children: depth === 0 ? fc.constant([]) : fc.array(specOf(depth - 1, 3), { maxLength: width }),
  });
}

function build(doc: Document, parent: Element, spec: Spec): void {
  const el = doc.createElement(spec.name);
  if (spec.attr) el.setAttribute('p', '1');
  if (spec.text) el.appendChild(doc.createTextNode(spec.text));
  for (const c of spec.children) build(doc, el, c);
  parent.appendChild(el);
  if (spec.tail) parent.appendChild(doc.createTextNode(spec.tail));
}

/** Where a node is, as the indices of it and its ancestors among their parents' children: short to compare and print. */
function where(n: Node): string {
  if (n.nodeType === 2) return `${where((n as Attr).ownerElement!)}/@${n.nodeName}`;
  const steps: number[] = [];
  for (let m: Node = n; m.parentNode; m = m.parentNode) steps.unshift(Array.prototype.indexOf.call(m.parentNode.childNodes, m) + 1);
  return `/${steps.join('/')}`;
}

/** A view without the elements named c: the same answer for all namesakes under one parent, as View asks. */
const withoutC: View = { admits: (n) => n.nodeType !== 1 || n.nodeName !== 'c' };

const REVERSE = new Set(['ancestor', 'ancestor-or-self', 'preceding', 'preceding-sibling']);
const PREDICATES: [string, (position: number, size: number) => boolean][] = [
  ['1', (p) => p === 1],
  ['2', (p) => p === 2],
  ['3', (p) => p === 3],
  ['last()', (p, n) => p === n],
  ['position() < 3', (p) => p < 3],
  ['position() <= 2', (p) => p <= 2],
  ['position() = 2', (p) => p === 2],
  ['2 >= position()', (p) => p <= 2],
  ['position() < 0 div 0', () => false],
  ['0', () => false],
  ['1.5', () => false],
];

describe('a positional step on any axis', () => {
  it('selects the nodes at those positions of the whole axis, in its order, with and without a view', () => {
    let nonEmpty = 0;
    fc.assert(
      fc.property(
        fc.array(specOf(3, 4), { minLength: 1, maxLength: 3 }),
        // Now and then a wide parent, which the evaluator reads through its index of children by name.
        fc.option(fc.array(specOf(0, 0), { minLength: 33, maxLength: 40 }), { freq: 4 }),
        fc.nat(),
        fc.constantFrom(...XPATH_AXES),
        fc.constantFrom('node()', '*', 'a', 'b', 'text()'),
        fc.constantFrom(...PREDICATES),
        fc.boolean(),
        (specs, wide, pick, axis, test, [pred, wanted], viewed) => {
          const doc = newDocument('data');
          for (const s of specs) build(doc, doc.documentElement!, s);
          if (wide) {
            const series = doc.createElement('s');
            for (const s of wide) build(doc, series, s);
            doc.documentElement!.appendChild(series);
          }
          const options = viewed ? { view: withoutC } : {};
          const nodes = selectNodes('/ | //node() | //@*', doc, options);
          const context = nodes[pick % nodes.length]!;
          const nodeTest = axis === 'attribute' && test !== 'node()' ? '*' : test;
          const inOrder = selectNodes(`${axis}::${nodeTest}`, context, options);
          const axisOrder = REVERSE.has(axis) ? [...inOrder].reverse() : inOrder;
          const expected = axisOrder.filter((_, i) => wanted(i + 1, axisOrder.length));
          if (REVERSE.has(axis)) expected.reverse();
          const expression = `${axis}::${nodeTest}[${pred}]`;
          assert.deepEqual(
            selectNodes(expression, context, options).map(where),
            expected.map(where),
            `${expression} from ${where(context)}`,
          );
          // Inside a predicate, as in preceding-sibling::r[1]/v = v.
          assert.equal(evaluate(`count(self::node()[${expression}])`, context, options), expected.length ? 1 : 0);
          if (expected.length) nonEmpty++;
        },
      ),
      { numRuns: 3000 },
    );
    assert.ok(nonEmpty > 600, `only ${nonEmpty} steps selected something`);
  });
});
