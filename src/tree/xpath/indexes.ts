/**
 * Indexes for the queries years of readings make slow: walking 10,000 readings touches tens of thousands of
 * scattered objects, about 100 ns each on a small machine, however little is done with each. So what such a
 * walk finds is kept, and found again while the subtree it came from is unchanged (children.ts counts the
 * changes below every node); when the only changes are readings appended at the end — what sensor data does
 * — only the new ones are read.
 *
 * - Descendants by name (`//value`): per node and view, the descendants with that name, in document order.
 * - Columns (`reading[value > 79.8]`, `value[. = 75]`): per list of same-named elements, the string each one's
 *   child of a name (or the element itself) has, side by side, so a comparison scans an array.
 *
 * Each is per view: what exists for one principal is not what exists for another. Entries live in WeakMaps
 * keyed by the nodes and lists they describe, so they go when those do.
 */
import { deepOtherVersion, deepVersion, tracksChanges } from '../children.ts';
import type { View } from './evaluate.ts';

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;

/** A subtree smaller than this is walked again rather than cached: the cache would cost more than it saves. */
const WORTH_CACHING = 256;

const NO_VIEW = {};

interface Found {
  deep: number;
  other: number;
  /** The node's last child when the list was made: appended children come after it. */
  last: Node | null;
  list: Element[];
}

const found = new WeakMap<Node, Map<string, WeakMap<object, Found>>>();

function admitted(view: View | undefined, n: Node): boolean {
  return !view || view.admits(n);
}

/** Where a list holds a copy of a subtree's own cached list, so a column of it can copy that list's column. */
interface Segment {
  at: number;
  from: readonly Element[];
  length: number;
}

const segmentsOf = new WeakMap<readonly Element[], Segment[]>();

interface Walk {
  /** Elements looked at: whether the list is worth keeping. */
  visited: number;
  segments: Segment[];
}

/** Descendants of `n` named `name` (no namespace), in document order, within the view. */
function collect(n: Node, name: string, view: View | undefined, out: Element[], budget: Walk): void {
  for (let c = n.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== ELEMENT || !admitted(view, c)) continue;
    budget.visited++;
    if (c.nodeName === name && !(c as Element).namespaceURI) out.push(c as Element);
    if (c.firstChild) {
      // A big subtree below answers from its own cache, or makes one.
      const cached = c.childNodes.length >= 8 ? descendantsNamed(c, name, view) : undefined;
      if (cached) {
        if (cached.length) budget.segments.push({ at: out.length, from: cached, length: cached.length });
        for (const el of cached) out.push(el);
        budget.visited += cached.length; // copying them is work a cache of this list saves too
      } else collect(c, name, view, out, budget);
    }
  }
}

/** The descendant elements of `root` named `name` (no namespace), in document order, within the view. */
export function descendantsNamed(root: Node, name: string, view: View | undefined): readonly Element[] {
  const key = view ?? NO_VIEW;
  const entry = found.get(root)?.get(name)?.get(key);
  const deep = deepVersion(root);
  if (entry && entry.deep === deep) return entry.list;
  if (entry && entry.other === deepOtherVersion(root)) {
    // Only children appended to root since: read just those.
    const budget: Walk = { visited: 0, segments: [] };
    for (let c = entry.last ? entry.last.nextSibling : root.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== ELEMENT || !admitted(view, c)) continue;
      if (c.nodeName === name && !(c as Element).namespaceURI) entry.list.push(c as Element);
      collect(c, name, view, entry.list, budget);
    }
    entry.deep = deep;
    entry.last = root.lastChild;
    return entry.list;
  }
  const list: Element[] = [];
  const budget: Walk = { visited: 0, segments: [] };
  collect(root, name, view, list, budget);
  if (budget.segments.length) segmentsOf.set(list, budget.segments);
  // Kept only where changes are counted (the tree's document): elsewhere nothing would say it went stale.
  if (budget.visited >= WORTH_CACHING && tracksChanges(root)) {
    let byName = found.get(root);
    if (!byName) found.set(root, (byName = new Map()));
    let byView = byName.get(name);
    if (!byView) byName.set(name, (byView = new WeakMap()));
    byView.set(key, { deep, other: deepOtherVersion(root), last: root.lastChild, list });
  }
  return list;
}

/** The string value of an element whose value cannot depend on a view: one with no element children. */
function leafString(el: Node): string | null {
  let s = '';
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === TEXT || c.nodeType === CDATA) s += c.nodeValue ?? '';
    else if (c.nodeType === ELEMENT) return null;
  }
  return s;
}

export interface Column {
  /** Per element of the list, the string compared; null where it cannot be had so (ask the element). */
  strings: (string | null)[];
  /** The same as numbers, made when first asked (a plain array: it grows with the list). */
  numbers?: number[];
}

interface ColumnEntry extends Column {
  version: number;
}

const columns = new WeakMap<readonly Element[], Map<string, WeakMap<object, ColumnEntry>>>();

/**
 * For each element of `list`: the string value of its only child named `child` (within the view), or its own
 * (child undefined) — null where there is not exactly one such child, or where the value could depend on what
 * is below it. Kept while `version` — what says the elements of the list are unchanged, appends aside — stays
 * the same; extended when the list grew at its end.
 */
export function columnOf(
  list: readonly Element[],
  child: string | undefined,
  view: View | undefined,
  version: number,
  toNumber: (s: string) => number,
  numeric: boolean,
): Column {
  const key = view ?? NO_VIEW;
  let byChild = columns.get(list);
  if (!byChild) columns.set(list, (byChild = new Map()));
  let byView = byChild.get(child ?? '.');
  if (!byView) byChild.set(child ?? '.', (byView = new WeakMap()));
  let entry = byView.get(key);
  if (!entry || entry.version !== version || entry.strings.length > list.length) {
    entry = { strings: [], version };
    byView.set(key, entry);
  }
  // Parts copied from a subtree's list (a series inside the document) take that list's column, so a change
  // elsewhere in the document does not make every reading of a long series be read again.
  const segments = segmentsOf.get(list);
  const strings = entry.strings;
  fill(
    strings,
    list.length,
    segments,
    (i) => valueOf(list[i]!, child, view),
    (part) => columnOf(part, child, view, 0, toNumber, false).strings,
  );
  if (numeric) {
    const number = (i: number) => {
      const s = strings[i]!;
      return s === null ? NaN : toNumber(s);
    };
    fill((entry.numbers ??= []), list.length, segments, number, (part) => columnOf(part, child, view, 0, toNumber, true).numbers!);
  }
  return entry;
}

/**
 * Extends `column` to `length` entries, each from `own(i)`; a new column takes the copied segments from the
 * columns of the lists they were copied from instead.
 */
function fill<T>(
  column: T[],
  length: number,
  segments: Segment[] | undefined,
  own: (i: number) => T,
  partOf: (from: readonly Element[]) => T[],
): void {
  if (column.length === 0) {
    for (const segment of segments ?? []) {
      while (column.length < segment.at) column.push(own(column.length));
      const part = partOf(segment.from);
      for (let i = 0; i < segment.length; i++) column.push(part[i]!);
    }
  }
  while (column.length < length) column.push(own(column.length));
}

function valueOf(el: Element, child: string | undefined, view: View | undefined): string | null {
  if (child === undefined) return leafString(el);
  let only: Node | undefined;
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== ELEMENT || c.nodeName !== child || (c as Element).namespaceURI) continue;
    if (only) return null; // several: ask the element
    only = c;
  }
  if (!only) return null;
  if (view && !view.admits(only)) return null;
  return leafString(only);
}
