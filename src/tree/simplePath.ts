/**
 * The fast path for the XPaths that REST clients and Igor's own references use most:
 * absolute child-axis paths such as `/data/sensors/fitbit/jack/body-weight[last()]` or `/data/a/b[2]/c`.
 * These are resolved by walking the tree directly, touching only the children of the parents on the path,
 * and never sorting. Everything else goes to the XPath engine. The result is the same node-set the engine
 * would give (test/tree/xpath.test.ts checks this on random trees).
 */

export interface SimpleStep {
  /** Element name to match, or '*' for any element (see NameMatching). Qualified names (`au:x`) only in references. */
  name: string;
  /** 1-based position, or 'last', among the matching children of each parent; undefined = all. */
  position?: number | 'last';
}

const STEP = /^([^[\]]+)(?:\[(\d+|last\(\))\])?$/;

/** Parsed paths (the same few are asked again and again), and expressions known not to be simple paths. */
const parsed = new Map<string, SimpleStep[] | null>();
const PARSED_LIMIT = 2000;

/** Parses an absolute simple path, or returns undefined if the expression is anything more. */
export function parseSimplePath(expression: string, allowQualifiedNames = false): SimpleStep[] | undefined {
  if (allowQualifiedNames) return parseUncached(expression, true);
  let steps = parsed.get(expression);
  if (steps === undefined) {
    if (parsed.size >= PARSED_LIMIT) parsed.delete(parsed.keys().next().value!);
    parsed.set(expression, (steps = parseUncached(expression, false) ?? null));
  }
  return steps ?? undefined;
}

function parseUncached(expression: string, allowQualifiedNames: boolean): SimpleStep[] | undefined {
  if (expression.length < 2 || expression[0] !== '/' || expression[1] === '/') return undefined;
  const steps: SimpleStep[] = [];
  for (const raw of expression.slice(1).split('/')) {
    const m = STEP.exec(raw);
    if (!m) return undefined;
    const name = m[1]!;
    // Every name the tree can hold (xmlNames.ts's rule), or the journal could not replay a change to it.
    if (!NAME_TEST.test(name) || (!allowQualifiedNames && name.includes(':'))) return undefined;
    const pred = m[2];
    let position: SimpleStep['position'];
    if (pred === 'last()') position = 'last';
    else if (pred !== undefined) {
      position = Number(pred);
      if (position < 1 || !Number.isSafeInteger(position)) return undefined;
    }
    steps.push({ name, position });
  }
  return steps;
}

import { allWithoutNamespace, childrenNamed, WIDE } from './children.ts';
import { NAME_TEST } from './xmlNames.ts';
import type { View } from './xpath/evaluate.ts';

const ELEMENT_NODE = 1;

/**
 * How a step's name selects: as XPath does ('xpath': a name without a prefix selects only elements in no
 * namespace, `*` any element), or as refOf writes references ('reference': by the element's nodeName, so that
 * the journal can name any element, `<x xmlns="…">` and `au:x` included).
 */
export type NameMatching = 'xpath' | 'reference';

function matches(n: Node, name: string, by: NameMatching): boolean {
  if (n.nodeType !== ELEMENT_NODE) return false;
  if (name === '*') return true;
  return n.nodeName === name && (by === 'reference' || !(n as Element).namespaceURI);
}

function admitted(c: Node, name: string, view: View | undefined, by: NameMatching): boolean {
  return matches(c, name, by) && (!view || view.admits(c));
}

/** The children of a wide parent that `name` selects, from the per-parent index. */
function namesakes(parent: Node, name: string, by: NameMatching): readonly Element[] {
  const named = childrenNamed(parent, name);
  if (by === 'reference' || allWithoutNamespace(named)) return named;
  return named.filter((el) => !el.namespaceURI);
}

function selectChildren(parent: Node, step: SimpleStep, out: Node[], view: View | undefined, by: NameMatching): void {
  const { name, position } = step;
  // [last()] walks back from the end: O(1) for the newest reading of a series, even right after an append.
  if (name !== '*' && position !== 'last' && parent.childNodes.length >= WIDE) {
    const named = namesakes(parent, name, by);
    // A view admits all same-named children of a parent or none (View's contract), so one stands for all.
    if (named.length === 0 || (view && !view.admits(named[0]!))) return;
    if (position === undefined) for (const el of named) out.push(el);
    else if (position <= named.length) out.push(named[position - 1]!);
    return;
  }
  if (position === 'last') {
    for (let c = parent.lastChild; c; c = c.previousSibling) {
      if (admitted(c, name, view, by)) {
        out.push(c);
        return;
      }
    }
    return;
  }
  let seen = 0;
  for (let c = parent.firstChild; c; c = c.nextSibling) {
    if (!admitted(c, name, view, by)) continue;
    seen++;
    if (position === undefined) out.push(c);
    else if (seen === position) {
      out.push(c);
      return;
    }
  }
}

/**
 * Walks `steps` from the document node, within the view if given; returns the matches in document order.
 * Names select as XPath's do unless `by` is 'reference' (a reference refOf made, such as the journal's).
 */
export function walkSimplePath(document: Node, steps: readonly SimpleStep[], view?: View, by: NameMatching = 'xpath'): Node[] {
  let current: Node[] = [document];
  for (const step of steps) {
    const next: Node[] = [];
    for (const parent of current) selectChildren(parent, step, next, view, by);
    if (next.length === 0) return next;
    current = next;
  }
  return current;
}

/** The element names of a plain path, up to its first wildcard; undefined for anything more than a plain path. */
export function plainNames(path: string): string[] | undefined {
  const steps = parseSimplePath(path, true);
  if (!steps) return undefined;
  const names = steps.map((s) => s.name);
  const star = names.indexOf('*');
  return star < 0 ? names : names.slice(0, star);
}
