/** Where a node is: Igor's references (`/data/a/b[2]`) and the names from the root down to it. */
import { childrenNamed, WIDE } from './children.ts';
import { ATTRIBUTE_NODE, ELEMENT_NODE, TEXT_NODE } from './dom.ts';

/**
 * Igor's reference for an element: `/data/a/b[2]/c`, with `[n]` (1-based among same-name siblings)
 * only where the element has same-name siblings. Attributes get `/@name`, text nodes `/text()`.
 */
export function refOf(node: Node): string {
  if (node.nodeType === ATTRIBUTE_NODE) {
    const attr = node as Attr;
    return `${refOf(attr.ownerElement!)}/@${attr.name}`;
  }
  if (node.nodeType === TEXT_NODE) return `${refOf(node.parentNode!)}/text()`;
  const parts: string[] = [];
  for (let n: Node | null = node; n && n.nodeType === ELEMENT_NODE; n = n.parentNode) {
    const { index, siblings } = positionAmongNamesakes(n);
    parts.push(siblings ? `${n.nodeName}[${index}]` : n.nodeName);
  }
  return '/' + parts.reverse().join('/');
}

/** 1-based position among same-name siblings, and whether there are any. */
function positionAmongNamesakes(n: Node): { index: number; siblings: boolean } {
  const parent = n.parentNode;
  if (parent && parent.childNodes.length >= WIDE) {
    // Searching from the end finds a just-appended reading of a long series at once.
    const named = childrenNamed(parent, n.nodeName);
    return { index: named.lastIndexOf(n as Element) + 1, siblings: named.length > 1 };
  }
  let index = 1;
  for (let s = n.previousSibling; s; s = s.previousSibling) {
    if (s.nodeType === ELEMENT_NODE && s.nodeName === n.nodeName) index++;
  }
  if (index > 1) return { index, siblings: true };
  for (let s = n.nextSibling; s; s = s.nextSibling) {
    if (s.nodeType === ELEMENT_NODE && s.nodeName === n.nodeName) return { index, siblings: true };
  }
  return { index, siblings: false };
}

/** Names of the elements from the root down to `node` (which may be detached; then `parent` says where it was). */
export function ancestry(node: Node, parent?: Node | null): string[] {
  if (node.nodeType === ATTRIBUTE_NODE) return ancestry((node as Attr).ownerElement!);
  const chain = [node.nodeName];
  for (let n = parent ?? node.parentNode; n && n.nodeType === ELEMENT_NODE; n = n.parentNode) chain.push(n.nodeName);
  return chain.reverse();
}
