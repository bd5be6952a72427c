/** The string values of nodes, as XPath has them, within what a view shows. */
import { CDATA_SECTION_NODE, DOCUMENT_NODE, ELEMENT_NODE, type Show, SHOW_VISIBLE, TEXT_NODE } from './dom.ts';

/** The trimmed text of `el`'s first child element named `name`, or '' (a field of a definition in the tree). */
export function childField(el: Element, name: string): string {
  for (let c = el.firstChild; c; c = c.nextSibling)
    if (c.nodeType === ELEMENT_NODE && c.nodeName === name) return (c.textContent ?? '').trim();
  return '';
}

function isText(n: Node): boolean {
  return n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE;
}

/**
 * Texts that only nodes a view leaves out separate are one text node in that view, as they are in a copy of
 * the tree holding only what the view shows, where they stand side by side and merge (XPath's data model has
 * no two texts side by side): `<a>x<password>p</password>y</a>` holds one text, `xy`, for a reader. The first
 * text of such a run stands for all of it; the others are not there. `shown` is asked about siblings of the
 * text, whose parent is shown.
 */
export function continuesText(text: Node, shown: Show): boolean {
  for (let s = text.previousSibling; s; s = s.previousSibling) {
    if (isText(s)) return true;
    if (shown(s)) return false;
  }
  return false;
}

/** The value of the text node that `text` stands for in a view (continuesText): its own and the run's after it. */
export function runText(text: Node, shown: Show): string {
  let value = text.nodeValue ?? '';
  for (let s = text.nextSibling; s; s = s.nextSibling) {
    if (isText(s)) value += s.nodeValue ?? '';
    else if (shown(s)) break;
  }
  return value;
}

/** The XPath string-value of a node, of the parts `show` includes. */
export function textOf(node: Node, show: Show = SHOW_VISIBLE): string {
  if (node.nodeType === DOCUMENT_NODE) node = (node as Document).documentElement!;
  if (isText(node)) return runText(node, show);
  if (node.nodeType !== ELEMENT_NODE) return node.nodeValue ?? '';
  let s = '';
  const stack: Node[] = [];
  for (let c = node.lastChild; c; c = c.previousSibling) stack.push(c);
  while (stack.length) {
    const c = stack.pop()!;
    if (c.nodeType === TEXT_NODE) s += c.nodeValue ?? '';
    else if (c.nodeType === ELEMENT_NODE && show(c)) for (let g = c.lastChild; g; g = g.previousSibling) stack.push(g);
  }
  return s;
}
