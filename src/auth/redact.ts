/**
 * A copy of the tree with only what one principal may see, for evaluating XPath expressions whose value
 * is not a node (string(…), concat(…), count(…)): on the real tree those would read around the access rules,
 * a hole Igor documented. Copies are kept per principal until the tree changes.
 */
import { ELEMENT_NODE, newDocument, TEXT_NODE, type Show } from '../tree/dom.ts';
import type { Tree } from '../tree/tree.ts';

function copyInto(doc: Document, from: Element, to: Element, show: Show): void {
  for (let i = 0; i < from.attributes.length; i++) {
    const a = from.attributes[i]!;
    if (show(a)) to.setAttribute(a.name, a.value);
  }
  for (let c = from.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === TEXT_NODE) to.appendChild(doc.createTextNode(c.nodeValue ?? ''));
    else if (c.nodeType === ELEMENT_NODE && show(c)) {
      const el = doc.createElement(c.nodeName);
      to.appendChild(el);
      copyInto(doc, c as Element, el, show);
    }
  }
}

const cache = new Map<string, { version: number; doc: Document }>();

export function redactedCopy(tree: Tree, version: number, key: string, show: Show): Document {
  const hit = cache.get(key);
  if (hit && hit.version === version) return hit.doc;
  const doc = newDocument('data');
  copyInto(doc, tree.root, doc.documentElement!, show);
  if (cache.size > 50) cache.clear();
  cache.set(key, { version, doc });
  return doc;
}
