/**
 * XML in and out of the tree: parsing with useful errors, serialising (optionally hiding Igor's
 * namespaced "hidden" data), string values, references (`/data/a/b[2]`), names.
 */
import { DOMParser, DOMImplementation } from '@xmldom/xmldom';
import type { XMLValidator } from 'fast-xml-parser';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BadRequestError } from '../errors.ts';
import { childrenNamed, WIDE } from './children.ts';

/**
 * fast-xml-parser's validator, alone. The package's index loads its parser and builder too (8 MB resident and
 * 70 ms at every start, issue #21) and exports no path to the validator by itself, so its file is loaded by
 * where it lies in the package (src/validator.js beside lib/, in fast-xml-parser 5).
 */
const validatorFile = join(dirname(createRequire(import.meta.url).resolve('fast-xml-parser')), '..', 'src', 'validator.js');
const { validate: validateXml } = (await import(pathToFileURL(validatorFile).href)) as { validate: typeof XMLValidator.validate };

export const ELEMENT_NODE = 1;
export const ATTRIBUTE_NODE = 2;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const DOCUMENT_NODE = 9;

/**
 * A name as the loader reads it back: XML 1.0's Name characters (fifth edition, section 2.3), within the Basic
 * Multilingual Plane, because the loader's validator (fast-xml-parser) refuses any beyond it. Anything the
 * tree holds is read back at the next start, so a name outside this rule must never enter it: `µ` and `a²`
 * are letters and digits to Unicode but not to XML, and written once they made the database unloadable.
 */
const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
/** A name without a namespace prefix (XML's NCName). */
const NCNAME = `[${NAME_START}][${NAME_CHAR}]*`;
/** A plain element tag as Igor allows in paths and JSON keys (no namespace prefix). */
const TAG = new RegExp(`^${NCNAME}$`);
/** An element or attribute name as XML with namespaces has it: an NCName, perhaps with a prefix. */
const QNAME = new RegExp(`^${NCNAME}(?::${NCNAME})?$`);
/** A path step's name test that a tree's element can match: `*` or an XML name (simple paths, action triggers). */
export const NAME_TEST = new RegExp(`^(?:\\*|${NCNAME}(?::${NCNAME})?)$`);

/** Whether the loader reads `name` back as an element or attribute name. */
export function isXmlName(name: string): boolean {
  return QNAME.test(name);
}

/** Characters XML 1.0 cannot hold at all. */
const ILLEGAL_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function isTagName(s: string): boolean {
  return TAG.test(s) && !/^xml/i.test(s);
}

export function checkXmlText(s: string, what: string): string {
  const bad = ILLEGAL_XML_CHAR.exec(s);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new BadRequestError(`${what} contains U+${code}, a character XML cannot hold`, 'bad_character');
  }
  return s;
}

export function newDocument(rootTag = 'data'): Document {
  return new DOMImplementation().createDocument(null, rootTag, null) as unknown as Document;
}

/** The first character XML cannot hold in `s`, as U+XXXX, or undefined. */
function illegalCharacter(s: string): string | undefined {
  const bad = ILLEGAL_XML_CHAR.exec(s);
  return bad ? `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

interface Located {
  lineNumber?: number;
  columnNumber?: number;
}

function where(n: Node): string {
  const { lineNumber, columnNumber } = n as Node & Located;
  return lineNumber !== undefined ? ` at line ${lineNumber}, column ${columnNumber}` : '';
}

/**
 * Parses an XML document. Errors say what is wrong and where (line and column). DOCTYPEs are refused:
 * the tree has no use for them and they are the door to entity-expansion attacks. What the parser decoded
 * (character references such as &#x1;) is checked as the characters it became: XML cannot hold U+0000,
 * most control characters, U+FFFE or U+FFFF, however they were written.
 */
export function parseXml(text: string, what = 'XML'): Document {
  checkXmlText(text, what);
  if (/<!DOCTYPE/i.test(text)) throw new BadRequestError(`${what} is not accepted: DOCTYPE declarations are not allowed`, 'bad_xml');
  const verdict = validateXml(text);
  if (verdict !== true) {
    const { code, msg, line, col } = verdict.err;
    // The validator reports elements left open as a JSON list of their names; say it in words.
    const open = code === 'InvalidXml' ? /^Invalid '(\[.*\])' found/s.exec(msg)?.[1] : undefined;
    const reason = open ? `<${(JSON.parse(open) as string[]).join('>, <')}> never closed` : msg;
    throw new BadRequestError(`${what} is not well-formed: ${reason} (line ${line}, column ${col})`, 'bad_xml');
  }
  let problem: string | undefined;
  const doc = new DOMParser({
    onError: (level: string, message: string) => {
      if (level !== 'warning') problem ??= message;
    },
  }).parseFromString(text, 'text/xml') as unknown as Document;
  if (problem !== undefined || !doc.documentElement) {
    throw new BadRequestError(`${what} is not well-formed: ${problem ?? 'no root element'}`, 'bad_xml');
  }
  checkDecoded(doc.documentElement, what);
  normalize(doc.documentElement);
  return doc;
}

/** Every attribute value and text under `root`, as decoded, holds only characters XML can hold. */
function checkDecoded(root: Element, what: string): void {
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.nodeType === ELEMENT_NODE) {
      const el = n as Element;
      for (let i = 0; i < el.attributes.length; i++) {
        const a = el.attributes[i]!;
        const bad = illegalCharacter(a.value);
        if (bad)
          throw new BadRequestError(
            `${what} holds ${bad}, a character XML cannot hold, in the attribute ${a.name} of <${el.nodeName}>${where(el)}`,
            'bad_character',
          );
      }
      for (let c = el.lastChild; c; c = c.previousSibling) stack.push(c);
    } else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
      const bad = illegalCharacter(n.nodeValue ?? '');
      if (bad)
        throw new BadRequestError(
          `${what} holds ${bad}, a character XML cannot hold, in the text of <${n.parentNode?.nodeName}>${where(n)}`,
          'bad_character',
        );
    }
  }
}

/**
 * Brings parsed XML to the tree's form: CDATA becomes text, comments and processing instructions go,
 * adjacent texts become one, and whitespace-only text between elements (indentation) is dropped. Leaf text is
 * kept exactly. Iterative: a document of any depth is brought to form without running out of stack.
 */
export function normalize(root: Element): void {
  const stack: Element[] = [root];
  while (stack.length) {
    const el = stack.pop()!;
    let hasElementChild = false;
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) hasElementChild = true;
    for (let c = el.firstChild; c; ) {
      let next = c.nextSibling;
      if (c.nodeType === ELEMENT_NODE) stack.push(c as Element);
      else if (c.nodeType === CDATA_SECTION_NODE || c.nodeType === TEXT_NODE) {
        let text = c.nodeValue ?? '';
        // Gather the texts and CDATA that follow into one text node.
        while (
          next &&
          (next.nodeType === TEXT_NODE || next.nodeType === CDATA_SECTION_NODE || (next.nodeType !== ELEMENT_NODE && !next.firstChild))
        ) {
          if (next.nodeType === TEXT_NODE || next.nodeType === CDATA_SECTION_NODE) text += next.nodeValue ?? '';
          const gone = next;
          next = next.nextSibling;
          el.removeChild(gone);
        }
        if (hasElementChild && /^\s*$/.test(text)) el.removeChild(c);
        else if (c.nodeType === CDATA_SECTION_NODE || text !== c.nodeValue) el.replaceChild(el.ownerDocument.createTextNode(text), c);
      } else el.removeChild(c);
      c = next;
    }
  }
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

/** Which nodes (elements, attributes) an output includes; a left-out element takes its subtree along. */
export type Show = (node: Node) => boolean;
/** Everything but Igor's hidden data: what clients see by default. */
export const SHOW_VISIBLE: Show = (node) => !isHidden(node);
/** Everything: for the journal, snapshots and `.VARIANT=raw` of an admin. */
export const SHOW_ALL: Show = () => true;

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

export function elementChildren(el: Node): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) out.push(c as Element);
  return out;
}
