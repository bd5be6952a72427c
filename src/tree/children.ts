/**
 * Per-parent knowledge of the tree's children that stays cheap for very wide parents (a sensor series
 * with 10,000 readings under one element):
 * - an index of each parent's element children by name, made when first asked, dropped when its children
 *   change, and kept in place by the two commonest changes (an append at the end; an element replaced by a
 *   namesake, a new value for a sensor);
 * - two counters per node for changes anywhere below it (deepVersion), and for those that are not appends to
 *   the node itself (deepOtherVersion), so caches of a whole subtree (xpath/indexes.ts) know whether they
 *   are still right, or only need what was appended.
 *
 * Only a document that makes all its changes through this module's functions is known here (trackChanges):
 * the tree's, which Tree (tree.ts) changes only through them, in every operation, journal replay and undo.
 * Nothing of a dependency is patched, so any other document (a request body, a plugin's own XML) is read as
 * it is, without caches: nothing done to it costs bookkeeping, and nothing done to it can leave a cache
 * stale. test/tree/change-tracking.test.ts compares the caches with fresh walks after random sequences of
 * Tree's operations.
 */

const ELEMENT_NODE = 1;
const DOCUMENT_NODE = 9;
const DOCUMENT_FRAGMENT_NODE = 11;
/** Parents with at least this many children are worth looking up by name through the index. */
export const WIDE = 32;
const NAMES = Symbol('igor.childrenByName');
const DEEP = Symbol('igor.deepVersion');
const DEEP_OTHER = Symbol('igor.deepOtherVersion');

interface Tracked {
  /** The index of children by name; only ever made for a tracked document's nodes, and there while it is right. */
  [NAMES]?: Map<string, Element[]>;
  [DEEP]?: number;
  [DEEP_OTHER]?: number;
}

/** Documents whose changes all go through this module: the tree's, not the documents request bodies are parsed into. */
const trackedDocuments = new WeakSet<object>();

/**
 * Declares that every change to `doc` from now on is made through this module's functions (as Tree does
 * with its document), so that its nodes may keep caches. Counting changes walks up to the root, so documents
 * that are only parsed and read, such as a request's body, are left out.
 */
export function trackChanges(doc: Document): void {
  trackedDocuments.add(doc);
}

/** Whether `node`'s document is tracked, so that caches of it (and its deepVersion) may be trusted. */
export function tracksChanges(node: Node): boolean {
  return trackedDocuments.has(node.nodeType === DOCUMENT_NODE ? node : (node.ownerDocument as object));
}

/** Changes anywhere below `node` so far. */
export function deepVersion(node: Node): number {
  return (node as Node & Tracked)[DEEP] ?? 0;
}

/** Changes below `node` so far that are not appends of children to `node` itself. */
export function deepOtherVersion(node: Node): number {
  return (node as Node & Tracked)[DEEP_OTHER] ?? 0;
}

const NONE: Element[] = [];

/** The element children of `parent` named `name`, in order: from the index kept per parent in the tree. */
export function childrenNamed(parent: Node, name: string): Element[] {
  const holder = parent as Node & Tracked;
  let index = holder[NAMES];
  if (!index) {
    if (!tracksChanges(parent)) return namedAmong(parent, name);
    index = new Map<string, Element[]>();
    for (let c = parent.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== ELEMENT_NODE) continue;
      const list = index.get(c.nodeName);
      if (list) list.push(c as Element);
      else index.set(c.nodeName, [c as Element]);
    }
    holder[NAMES] = index;
  }
  return index.get(name) ?? NONE;
}

/** Outside the tree: found by walking the children, each time, since nothing would say a kept list went stale. */
function namedAmong(parent: Node, name: string): Element[] {
  const out: Element[] = [];
  for (let c = parent.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE && c.nodeName === name) out.push(c as Element);
  return out;
}

/** On a list of namesakes: how much of it is known to be in no namespace (-1: some of it is in one). */
const PLAIN = Symbol('igor.plainUpTo');
type Checked = readonly Element[] & { [PLAIN]?: number };

/**
 * No element of a list of namesakes (childrenNamed's) is in a namespace: then an XPath name test without a
 * prefix selects all of them. Checked once, and again only for what was appended since; kept on the list
 * itself, since the simple-path fast path asks it on every lookup among a wide parent's children.
 */
export function allWithoutNamespace(list: readonly Element[]): boolean {
  const checked = list as Checked;
  const upTo = checked[PLAIN] ?? 0;
  if (upTo === list.length) return true;
  if (upTo < 0) return false;
  for (let i = upTo; i < list.length; i++) {
    if (list[i]!.namespaceURI) {
      checked[PLAIN] = -1;
      return false;
    }
  }
  checked[PLAIN] = list.length;
  return true;
}

/** Counts a change below `parent` in it and its ancestors; an append to `parent` itself is told apart. */
function changedBelow(parent: Node & Tracked, append: boolean): void {
  if (!tracksChanges(parent)) return;
  parent[DEEP] = (parent[DEEP] ?? 0) + 1;
  if (!append) parent[DEEP_OTHER] = (parent[DEEP_OTHER] ?? 0) + 1;
  for (let a = parent.parentNode as (Node & Tracked) | null; a; a = a.parentNode as (Node & Tracked) | null) {
    a[DEEP] = (a[DEEP] ?? 0) + 1;
    a[DEEP_OTHER] = (a[DEEP_OTHER] ?? 0) + 1;
  }
}

/** `parent`'s children changed other than by an append: its index goes, to be made again when asked. */
function reordered(parent: Node & Tracked): void {
  parent[NAMES] = undefined;
  changedBelow(parent, false);
}

/** Takes `child` out of where it is now (a move is a removal there first). */
function detach(child: Node): void {
  if (child.parentNode) removeChild(child.parentNode, child);
}

/** Appends `child` to `parent`'s children. */
export function appendChild(parent: Node, child: Node): void {
  insertBefore(parent, child, null);
}

/** Inserts `child` before `next` among `parent`'s children (at the end when `next` is null). */
export function insertBefore(parent: Node, child: Node, next: Node | null): void {
  detach(child);
  parent.insertBefore(child, next);
  const holder = parent as Node & Tracked;
  if (next !== null || child.nodeType === DOCUMENT_FRAGMENT_NODE) return reordered(holder);
  // An append at the end, by far the commonest change: the index takes the new child in.
  const index = holder[NAMES];
  if (index && child.nodeType === ELEMENT_NODE) {
    const list = index.get(child.nodeName);
    if (list) list.push(child as Element);
    else index.set(child.nodeName, [child as Element]);
  }
  changedBelow(holder, true);
}

export function removeChild(parent: Node, child: Node): void {
  parent.removeChild(child);
  reordered(parent as Node & Tracked);
}

/** Puts `fresh` where `old` is among `parent`'s children. */
export function replaceChild(parent: Node, fresh: Node, old: Node): void {
  detach(fresh);
  const holder = parent as Node & Tracked;
  // An element replaced by one of the same name (a new value for a sensor, the commonest write after
  // appends) keeps the index of children by name, with the new element in the old one's place.
  const list =
    fresh.nodeType === ELEMENT_NODE && old.nodeType === ELEMENT_NODE && fresh.nodeName === old.nodeName
      ? holder[NAMES]?.get(old.nodeName)
      : undefined;
  const at = list ? list.lastIndexOf(old as Element) : -1;
  parent.replaceChild(fresh, old);
  if (!list || at < 0) return reordered(holder);
  list[at] = fresh as Element;
  // A namesake in a namespace (`<x xmlns="…">` for `<x>`) is one a plain name test does not select.
  if ((fresh as Element).namespaceURI) (list as Checked)[PLAIN] = -1;
  changedBelow(holder, false);
}

// An element's attributes decide what of its subtree a view admits (own:plugin, hidden): a change to them is a
// change below it for the caches of whole subtrees.

export function setAttributeNode(owner: Element, attr: Attr): void {
  owner.setAttributeNode(attr);
  changedBelow(owner, false);
}

export function removeAttributeNode(owner: Element, attr: Attr): void {
  owner.removeAttributeNode(attr);
  changedBelow(owner, false);
}
