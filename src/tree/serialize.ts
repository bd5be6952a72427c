/** Elements written as XML text, showing what a reader may see; any depth, without recursion. */
import { DOCUMENT_NODE, ELEMENT_NODE, type Show, SHOW_VISIBLE, TEXT_NODE } from './dom.ts';
import { textOf } from './text.ts';

/**
 * Text as XML content. Line ends other than "\n" are written as references: a parser turns a literal carriage
 * return (and CR LF) into a line feed, and xmldom, as XML 1.1 has it, also U+0085, U+2028 and U+2029, so such a
 * value would otherwise come back changed from the journal and snapshots.
 */
export function escapeText(s: string): string {
  return s.replace(/[&<>\r\u0085\u2028\u2029]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `&#${c.charCodeAt(0)};`,
  );
}

/** An attribute value in double quotes; whitespace other than spaces as references (a parser normalises it). */
export function escapeAttr(s: string): string {
  return s.replace(/[&<"\t\n\r\u0085\u2028\u2029]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '"' ? '&quot;' : `&#${c.charCodeAt(0)};`,
  );
}

export interface SerializeOptions {
  /** Which nodes to include (default SHOW_VISIBLE). */
  show?: Show;
  /** Indent elements that hold only elements (used for snapshots; leaf text is never touched). */
  indent?: string;
}

function onlyElementChildren(el: Element, show: Show): boolean {
  let any = false;
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === ELEMENT_NODE) {
      if (show(c)) any = true;
    } else if (c.nodeType === TEXT_NODE && c.nodeValue) return false;
  }
  return any;
}

/** An element being written: where in its children the writing is, and what it needs to close. */
interface Open {
  el: Element;
  depth: number;
  next: Node | null;
  /** Index in `out` of the '>' that ends its start tag (replaced by '/>' if nothing inside is shown). */
  start: number;
  pretty: boolean;
}

/** Writes `root` and everything shown inside it; iterative, so any depth can be written. */
function write(root: Element, opts: SerializeOptions, out: string[], declare: string): void {
  const show = opts.show ?? SHOW_VISIBLE;
  const indent = opts.indent;
  const stack: Open[] = [];
  const open = (el: Element, depth: number, declarations: string): void => {
    out.push('<', el.nodeName);
    if (declarations) out.push(declarations);
    const attrs = el.attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i]!;
      if (show(a)) out.push(' ', a.name, '="', escapeAttr(a.value), '"');
    }
    if (!el.firstChild) {
      out.push('/>');
      return;
    }
    stack.push({ el, depth, next: el.firstChild, start: out.length, pretty: indent !== undefined && onlyElementChildren(el, show) });
    out.push('>');
  };
  open(root, 0, declare);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const c = top.next;
    if (c) {
      top.next = c.nextSibling;
      if (c.nodeType === ELEMENT_NODE) {
        if (!show(c)) continue;
        if (top.pretty) out.push('\n', indent!.repeat(top.depth + 1));
        open(c as Element, top.depth + 1, '');
      } else if (c.nodeType === TEXT_NODE) out.push(escapeText(c.nodeValue ?? ''));
      continue;
    }
    stack.pop();
    if (out.length === top.start + 1) {
      out[top.start] = '/>'; // everything inside was hidden
      continue;
    }
    if (top.pretty) out.push('\n', indent!.repeat(top.depth));
    out.push('</', top.el.nodeName, '>');
  }
}

/** Namespace declarations a standalone fragment needs for the prefixes it shows. */
function neededDeclarations(el: Element, show: Show): string {
  const prefixes = new Map<string, string>();
  const note = (n: { prefix?: string | null; namespaceURI: string | null }) => {
    if (n.prefix && n.prefix !== 'xmlns' && n.namespaceURI) prefixes.set(n.prefix, n.namespaceURI);
  };
  const stack: Element[] = [el];
  while (stack.length) {
    const e = stack.pop()!;
    note(e);
    for (let i = 0; i < e.attributes.length; i++) if (show(e.attributes[i]!)) note(e.attributes[i]!);
    for (let c = e.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE && show(c)) stack.push(c as Element);
  }
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes[i]!;
    if (a.prefix === 'xmlns') prefixes.delete(a.localName);
  }
  return [...prefixes].map(([p, uri]) => ` xmlns:${p}="${escapeAttr(uri)}"`).join('');
}

export function serialize(node: Node, opts: SerializeOptions = {}): string {
  if (node.nodeType === DOCUMENT_NODE) node = (node as Document).documentElement!;
  if (node.nodeType === ELEMENT_NODE) {
    const out: string[] = [];
    const el = node as Element;
    const show = opts.show ?? SHOW_VISIBLE;
    write(el, opts, out, show !== SHOW_VISIBLE && el.parentNode?.nodeType !== DOCUMENT_NODE ? neededDeclarations(el, show) : '');
    return out.join('');
  }
  return escapeText(textOf(node, opts.show ?? SHOW_VISIBLE));
}
