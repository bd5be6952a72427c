/**
 * Per-parent knowledge of an element's children that stays cheap for very wide parents (a sensor series
 * with 10,000 readings under one element):
 * - a token that changes whenever the parent's children change, so caches keyed on it (sibling positions
 *   for document order, this module's index of children by name) are rebuilt only for parents that changed;
 * - appending at the end, by far the most common change, updates those caches in place instead.
 * The DOM's own mutation methods are wrapped, so no change can slip past the caches.
 */
import { Document as DomDocument, Node as DomNode } from '@xmldom/xmldom';

const ELEMENT_NODE = 1;
/** Parents with at least this many children are worth looking up by name through the index. */
export const WIDE = 32;
const DOCUMENT_FRAGMENT_NODE = 11;
const TOKEN = Symbol('igor.childrenToken');
const NAMES = Symbol('igor.childrenByName');

interface NameIndex {
  token: object;
  byName: Map<string, Element[]>;
}

interface Tracked {
  [TOKEN]?: object;
  [NAMES]?: NameIndex;
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

onAppend((parent, child, token) => {
  const index = (parent as Node & Tracked)[NAMES];
  if (index?.token !== token || child.nodeType !== ELEMENT_NODE) return;
  const list = index.byName.get(child.nodeName);
  if (list) list.push(child as Element);
  else index.byName.set(child.nodeName, [child as Element]);
});

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
              if (before == null && token && (child as Node).nodeType !== DOCUMENT_FRAGMENT_NODE) {
                for (const hook of appendHooks) hook(this, child as Node, token);
              } else this[TOKEN] = {};
              return result;
            }
          : function (this: Node & Tracked, ...args: unknown[]) {
              const result = original.apply(this, args);
              this[TOKEN] = {};
              return result;
            };
    }
  }
}

installChildTracking();
