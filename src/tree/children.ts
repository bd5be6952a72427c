/**
 * Per-parent knowledge of an element's children that stays cheap for very wide parents (a sensor series
 * with 10,000 readings under one element):
 * - a token that changes whenever the parent's children change, so caches keyed on it (this module's index of
 *   children by name) are rebuilt only for parents that changed;
 * - appending at the end, by far the most common change, updates those caches in place instead;
 * - two counters per node for changes anywhere below it (deepVersion), and for those that are not appends to
 *   the node itself (deepOtherVersion), so caches of a whole subtree (xpath/indexes.ts) know whether they
 *   are still right, or only need what was appended.
 *
 * The DOM's own mutation methods (insertBefore, removeChild, replaceChild of @xmldom/xmldom, and Element's
 * attribute setters and removers) are wrapped, so no change can slip past the caches. This is the one place the project patches a dependency;
 * test/tree/children-contract.test.ts fails loudly if an upgrade of xmldom changes children another way.
 * (xmldom's own normalize() unlinks text nodes directly; the tree never calls it. Text is never changed in
 * place either: a changed value is a new element.)
 */
import { Document as DomDocument, Element as DomElement, Node as DomNode } from '@xmldom/xmldom';

const ELEMENT_NODE = 1;
const DOCUMENT_NODE = 9;
/** Parents with at least this many children are worth looking up by name through the index. */
export const WIDE = 32;
const DOCUMENT_FRAGMENT_NODE = 11;
const TOKEN = Symbol('igor.childrenToken');
const NAMES = Symbol('igor.childrenByName');
const DEEP = Symbol('igor.deepVersion');
const DEEP_OTHER = Symbol('igor.deepOtherVersion');

interface NameIndex {
  token: object;
  byName: Map<string, Element[]>;
}

interface Tracked {
  [TOKEN]?: object;
  [NAMES]?: NameIndex;
  [DEEP]?: number;
  [DEEP_OTHER]?: number;
}

/** Changes anywhere below `node` so far. */
export function deepVersion(node: Node): number {
  return (node as Node & Tracked)[DEEP] ?? 0;
}

/** Changes below `node` so far that are not appends of children to `node` itself. */
export function deepOtherVersion(node: Node): number {
  return (node as Node & Tracked)[DEEP_OTHER] ?? 0;
}

/** Documents whose nodes count changes below them: the tree's, not the documents request bodies are parsed into. */
const trackedDocuments = new WeakSet<object>();

/**
 * Makes every change in `doc` count in deepVersion/deepOtherVersion of the nodes above it (what the Tree does
 * for its document). Counting walks up to the root, so documents that are only parsed and read, such as a
 * request's body, are left out: parsing one 100,000 levels deep would otherwise cost the square of that.
 */
export function trackDeepChanges(doc: Document): void {
  trackedDocuments.add(doc);
}

/** Whether changes below `node` are counted, so that caches of its subtree may trust deepVersion. */
export function tracksDeepChanges(node: Node): boolean {
  return trackedDocuments.has(node.nodeType === DOCUMENT_NODE ? node : (node.ownerDocument as object));
}

function changedBelow(parent: Node & Tracked, append: boolean): void {
  if (!tracksDeepChanges(parent)) return;
  parent[DEEP] = (parent[DEEP] ?? 0) + 1;
  if (!append) parent[DEEP_OTHER] = (parent[DEEP_OTHER] ?? 0) + 1;
  for (let a = parent.parentNode as (Node & Tracked) | null; a; a = a.parentNode as (Node & Tracked) | null) {
    a[DEEP] = (a[DEEP] ?? 0) + 1;
    a[DEEP_OTHER] = (a[DEEP_OTHER] ?? 0) + 1;
  }
}

type AppendHook = (parent: Node, child: Node, token: object) => void;
const appendHooks: AppendHook[] = [];

/** An object that stays the same while `parent`'s children stay the same (appends aside, see onAppend). */
export function childrenToken(parent: Node): object {
  return ((parent as Node & Tracked)[TOKEN] ??= {});
}

/** Lets a cache keyed on childrenToken take in a child appended at the end, keeping the token. */
export function onAppend(hook: AppendHook): void {
  appendHooks.push(hook);
}

const NONE: Element[] = [];

/** The element children of `parent` named `name`, in order, from an index kept per parent. */
export function childrenNamed(parent: Node, name: string): Element[] {
  const holder = parent as Node & Tracked;
  const token = childrenToken(parent);
  let index = holder[NAMES];
  if (index?.token !== token) {
    const byName = new Map<string, Element[]>();
    for (let c = parent.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== ELEMENT_NODE) continue;
      const list = byName.get(c.nodeName);
      if (list) list.push(c as Element);
      else byName.set(c.nodeName, [c as Element]);
    }
    index = holder[NAMES] = { token, byName };
  }
  return index.byName.get(name) ?? NONE;
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

onAppend((parent, child, token) => {
  const index = (parent as Node & Tracked)[NAMES];
  if (index?.token !== token || child.nodeType !== ELEMENT_NODE) return;
  const list = index.byName.get(child.nodeName);
  if (list) list.push(child as Element);
  else index.byName.set(child.nodeName, [child as Element]);
});

/** Where `oldChild` is in the parent's current index of children by name, if `newChild` can take its place there. */
function sameNameReplacement(
  parent: Node & Tracked,
  newChild: Node,
  oldChild: Node,
): { byName: Map<string, Element[]>; list: Element[]; at: number } | undefined {
  const index = parent[NAMES];
  if (!index || index.token !== parent[TOKEN]) return undefined;
  if (newChild.nodeType !== ELEMENT_NODE || oldChild.nodeType !== ELEMENT_NODE || newChild.nodeName !== oldChild.nodeName) return undefined;
  if (newChild.parentNode === parent) return undefined; // a move within the parent reorders it
  const list = index.byName.get(oldChild.nodeName);
  const at = list ? list.lastIndexOf(oldChild as Element) : -1;
  return list && at >= 0 ? { byName: index.byName, list, at } : undefined;
}

let installed = false;

export function installChildTracking(): void {
  if (installed) return;
  installed = true;
  for (const proto of [DomNode.prototype, DomDocument.prototype] as unknown as Record<string, (...args: unknown[]) => unknown>[]) {
    for (const method of ['insertBefore', 'removeChild', 'replaceChild']) {
      if (!Object.prototype.hasOwnProperty.call(proto, method)) continue;
      const original = proto[method]!;
      proto[method] =
        method === 'insertBefore'
          ? function (this: Node & Tracked, child: unknown, before: unknown) {
              const result = original.call(this, child, before);
              // Moving a node out of this parent first went through removeChild, which changed the token.
              const token = this[TOKEN];
              const append = before == null && (child as Node).nodeType !== DOCUMENT_FRAGMENT_NODE;
              if (append && token) {
                for (const hook of appendHooks) hook(this, child as Node, token);
              } else if (!append) this[TOKEN] = {};
              changedBelow(this, append);
              return result;
            }
          : method === 'replaceChild'
            ? function (this: Node & Tracked, newChild: unknown, oldChild: unknown) {
                // An element replaced by one of the same name (a new value for a sensor, the commonest write
                // after appends) keeps the index of children by name, with the new element in the old one's place.
                const carried = sameNameReplacement(this, newChild as Node, oldChild as Node);
                const result = original.call(this, newChild, oldChild);
                this[TOKEN] = {};
                if (carried) {
                  carried.list[carried.at] = newChild as Element;
                  // A namesake in a namespace (`<x xmlns="…">` for `<x>`) is one a plain name test does not select.
                  if ((newChild as Element).namespaceURI) (carried.list as Checked)[PLAIN] = -1;
                  this[NAMES] = { token: this[TOKEN], byName: carried.byName };
                }
                changedBelow(this, false);
                return result;
              }
            : function (this: Node & Tracked, ...args: unknown[]) {
                const result = original.apply(this, args);
                this[TOKEN] = {};
                changedBelow(this, false);
                return result;
              };
    }
  }
  // An element's attributes decide what of its subtree a view admits (own:plugin, hidden): a change to them is a
  // change below it for the caches of whole subtrees.
  const element = DomElement.prototype as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ATTRIBUTE_METHODS) {
    const original = element[method]!;
    element[method] = function (this: Node & Tracked, ...args: unknown[]) {
      const result = original.apply(this, args);
      changedBelow(this, false);
      return result;
    };
  }
}

/** The methods of xmldom's Element that change its attributes (the contract test checks they exist). */
export const ATTRIBUTE_METHODS = [
  'setAttribute',
  'setAttributeNS',
  'setAttributeNode',
  'setAttributeNodeNS',
  'removeAttribute',
  'removeAttributeNS',
  'removeAttributeNode',
];

installChildTracking();
