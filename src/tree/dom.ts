/**
 * The DOM as the tree uses it (@xmldom/xmldom): node types, new documents, Igor's hidden data and which nodes an
 * output shows. Parsing (parseXml.ts), writing (serialize.ts), string values (text.ts), references (refs.ts) and
 * names (xmlNames.ts) each have a module of their own.
 */
import { DOMImplementation } from '@xmldom/xmldom';

export const ELEMENT_NODE = 1;
export const ATTRIBUTE_NODE = 2;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const DOCUMENT_NODE = 9;

export function newDocument(rootTag = 'data'): Document {
  return new DOMImplementation().createDocument(null, rootTag, null) as unknown as Document;
}

/** Igor's hidden data: anything namespaced (au:capability, own:plugin="…") and namespace declarations. */
export function isHidden(node: Node): boolean {
  const name = node.nodeName;
  return name.includes(':') || name === 'xmlns';
}

/** The element holds hidden data anywhere (which only an admin, or the server, may write). */
export function containsHiddenData(root: Element): boolean {
  const stack: Element[] = [root];
  while (stack.length) {
    const el = stack.pop()!;
    for (let i = 0; i < el.attributes.length; i++) if (isHidden(el.attributes[i]!)) return true;
    for (let c = el.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== ELEMENT_NODE) continue;
      if (isHidden(c)) return true;
      stack.push(c as Element);
    }
  }
  return false;
}

/** Which nodes (elements, attributes) an output includes; a left-out element takes its subtree along. */
export type Show = (node: Node) => boolean;
/** Everything but Igor's hidden data: what clients see by default. */
export const SHOW_VISIBLE: Show = (node) => !isHidden(node);
/** Everything: for the journal, snapshots and `.VARIANT=raw` of an admin. */
export const SHOW_ALL: Show = () => true;

export function elementChildren(el: Node): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) out.push(c as Element);
  return out;
}
