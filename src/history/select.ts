/**
 * Which series a reader gets for an XPath, and the latest values for /metrics. A reader gets the history of
 * what it may read now: each series goes through the visibility rule (src/auth/visibility.ts) by its names,
 * as the element would (`visibilityFor(p, 'read').admitsChain`), whether or not it is still in the tree.
 *
 * A plain path (`/data/sensors/*\/temperature`) is matched against the series' names, so the history of a
 * sensor no longer in the tree can still be asked for; any other XPath is evaluated in the tree, in the
 * reader's view, and each element it selects stands for the series at and below it (positions are not part
 * of a series' name: `thermo[2]` stands for every `thermo`).
 */
import type { Visibility } from '../auth/visibility.ts';
import { ATTRIBUTE_NODE, ELEMENT_NODE } from '../tree/dom.ts';
import { ancestry } from '../tree/refs.ts';
import { parseSimplePath } from '../tree/simplePath.ts';
import type { Series } from './store.ts';

/** The names of a series from the root, as the visibility rule takes them. */
export function chainOf(series: Series): string[] {
  return ['data', ...series.path.split('/')];
}

/** A plain path's names (positions dropped; '*' for any name), or undefined for anything else. */
export function plainNames(path: string): string[] | undefined {
  return parseSimplePath(path, true)?.map((s) => s.name);
}

/** The names from the root of each element `nodes` holds (an attribute or text stands for its element). */
export function namesOfNodes(nodes: readonly Node[]): string[][] {
  const out: string[][] = [];
  for (const n of nodes) {
    const el = n.nodeType === ATTRIBUTE_NODE ? (n as Attr).ownerElement : n.nodeType === ELEMENT_NODE ? n : n.parentNode;
    if (el && el.nodeType === ELEMENT_NODE) out.push(ancestry(el));
  }
  return out;
}

function under(pattern: readonly string[], chain: readonly string[]): boolean {
  if (pattern.length > chain.length) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] !== '*' && pattern[i] !== chain[i]) return false;
  return true;
}

/** The series at or below any of `patterns` that the reader may read, in the order of their paths. */
export function seriesUnder(patterns: readonly string[][], all: Iterable<Series>, visibility: Visibility): Series[] {
  const out: Series[] = [];
  for (const s of all) {
    const chain = chainOf(s);
    if (patterns.some((p) => under(p, chain)) && visibility.admitsChain(chain)) out.push(s);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Whether an element with these names (below /data, at any positions) is in the tree now. */
export function inTree(root: Element, names: readonly string[], from = 0): boolean {
  if (from === names.length) return true;
  for (let c = root.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === ELEMENT_NODE && c.nodeName === names[from] && inTree(c as Element, names, from + 1)) return true;
  }
  return false;
}
