/**
 * Igor's JSON ⇄ XML mapping (igor-reference §2.6), made to round-trip:
 *
 * XML → JSON, value of an element:
 * - no element children and no (visible) attributes → a scalar from its text: `true`/`false` → booleans,
 *   text that is a JSON number (`3`, `3.0`, `-2.5`, `1e+21`) → number, as Igor reads them (its numbers are
 *   floats written `3.0`), other text → string (`007`, `.5`, `1_000` stay strings, so they come back as
 *   written), no text at all → `{}`. An integer a double does not hold exactly stays a string (digits kept).
 *   JSON answers write a number as the tree holds it (`3.0`, not `3`: jsonText);
 * - otherwise an object: attributes as `"@name"`, child elements by tag (repeated tags → an array at the
 *   first one's place), text mixed in as `"#text"`. Igor's escape for keys that are not tags,
 *   `<_e _e="a key">…</_e>`, is transparent: it reads back as `"a key": …`.
 *
 * JSON → XML is the inverse; `null` and `""` become an empty element (read back as `{}`, as in Igor),
 * `false` is the text `false` (Igor stored it as empty), numbers are written as JSON writes them (`3.0` → `3`).
 * Arrays inside arrays cannot be represented and are refused instead of being flattened to text.
 *
 * Keys are kept as sent, `__proto__`, `constructor` and `toString` included: every key is an own property
 * (setOwn), looked up as one, so none can collide with what objects inherit.
 */
import { BadRequestError } from '../errors.ts';
import { ELEMENT_NODE, SHOW_VISIBLE, TEXT_NODE, type Show } from './dom.ts';
import { checkXmlText, isTagName } from './xmlNames.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sets an own property, also one named __proto__ (which plain assignment would take as the prototype). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** An own property's value, never an inherited one (constructor, toString…). */
export function getOwn<T>(obj: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

const ESCAPE = '_e';

function keyOf(el: Element): string {
  return el.nodeName === ESCAPE && el.hasAttribute(ESCAPE) ? el.getAttribute(ESCAPE)! : el.nodeName;
}

/** JSON's grammar for a number: what Python's float() (Igor's reader) also takes, without its extras. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The number the text is, when it is one as JSON writes numbers (and one a double holds); else undefined. */
export function numberOf(text: string): number | undefined {
  if (text.length === 0 || text.length >= 40 || !JSON_NUMBER.test(text)) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) return undefined;
  // An integer a double does not hold exactly (an identifier beyond 2^53) would come back with other digits: it
  // stays text, as such a number sent in JSON is refused (payload.ts checkJsonNumbers).
  if (!Number.isSafeInteger(n) && /^-?\d+$/.test(text) && BigInt(text) !== BigInt(n)) return undefined;
  return n;
}

export function scalarOf(text: string): Json {
  if (text === 'true') return true;
  if (text === 'false') return false;
  return numberOf(text) ?? text;
}

/**
 * A number whose text JSON would write otherwise (`3.0`, `1E3`): a JSON answer shows it as the tree holds it,
 * as Igor's do. Made only for answers (writtenJsonOf); anywhere else it turns into its plain number.
 */
class WrittenNumber {
  constructor(readonly text: string) {}
  toJSON(): number | string {
    return writingVerbatim ? `${VERBATIM}${this.text}${VERBATIM}` : Number(this.text);
  }
}

/** A JSON value from the tree for an answer: its numbers may be WrittenNumbers. */
export type WrittenJson = Json | WrittenNumber | WrittenJson[] | { [key: string]: WrittenJson };

/** A scalar for a JSON answer: a number keeps its text (`3.0`). */
export function writtenScalarOf(text: string): WrittenJson {
  const value = scalarOf(text);
  return typeof value === 'number' && String(value) !== text ? new WrittenNumber(text) : value;
}

/**
 * Numbers are put in the text as written by way of a marker string around them, taken out again: a marker
 * cannot be confused with a value, since it starts with U+0000, which no XML text (so no value or key from the
 * tree) can hold, and a string starting with it is written `"\u0000` (with one backslash) by JSON.stringify
 * only for that character. Doing it this way keeps JSON.stringify's speed (a writer of our own took ten times
 * as long on a large series).
 */
const VERBATIM = '\u0000';
const MARKED = /"\\u0000(-?[0-9][0-9.eE+-]*)\\u0000"/g;
let writingVerbatim = false;

/** JSON text of an answer's value, numbers as the tree holds them. */
export function jsonText(value: WrittenJson): string {
  writingVerbatim = true;
  let text: string;
  try {
    text = JSON.stringify(value);
  } finally {
    writingVerbatim = false;
  }
  return text.includes('"\\u0000') ? text.replace(MARKED, '$1') : text;
}

/** The element's value for a JSON answer: numbers keep how the tree writes them (see jsonText). */
export function writtenJsonOf(el: Element, show: Show = SHOW_VISIBLE): WrittenJson {
  return valueOf(el, show, writtenScalarOf);
}

/** The element's value as JSON (numbers as numbers): what plugins, pages and events read. */
export function jsonOf(el: Element, show: Show = SHOW_VISIBLE): Json {
  // scalarOf makes no WrittenNumber, so the value is plain JSON.
  return valueOf(el, show, scalarOf) as Json;
}

function valueOf(el: Element, show: Show, scalar: (text: string) => WrittenJson): WrittenJson {
  const attrs: [string, string][] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes[i]!;
    if (!show(a)) continue;
    if (a.name === ESCAPE && el.nodeName === ESCAPE) continue;
    attrs.push([a.name, a.value]);
  }
  let text = '';
  let textParts = 0;
  const children: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === ELEMENT_NODE) {
      if (show(c)) children.push(c as Element);
    } else if (c.nodeType === TEXT_NODE && c.nodeValue) {
      text += c.nodeValue;
      textParts++;
    }
  }
  if (attrs.length === 0 && children.length === 0) return text === '' ? {} : scalar(text);
  const obj: { [key: string]: WrittenJson } = {};
  for (const [name, value] of attrs) setOwn(obj, `@${name}`, value);
  for (const child of children) {
    const key = keyOf(child);
    const value = valueOf(child, show, scalar);
    const existing = getOwn(obj, key);
    if (existing === undefined || key.startsWith('@')) setOwn(obj, key, value);
    // An element's own value is never an array, so an array here was made from repeated tags.
    else if (Array.isArray(existing)) (existing as WrittenJson[]).push(value);
    else setOwn(obj, key, [existing, value]);
  }
  if (textParts > 0 && text.trim() !== '') setOwn(obj, '#text', text);
  return obj;
}

function appendValue(doc: Document, parent: Element, value: Json, where: string): void {
  if (value === null) return;
  if (typeof value === 'boolean' || typeof value === 'number') {
    parent.appendChild(doc.createTextNode(String(value)));
    return;
  }
  if (typeof value === 'string') {
    if (value !== '') parent.appendChild(doc.createTextNode(checkXmlText(value, `the value of ${where}`)));
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === '#text') {
      if (v !== null && typeof v === 'object') throw new BadRequestError(`${where}: "#text" must be a string`);
      appendValue(doc, parent, v, where);
    } else if (key.startsWith('@')) {
      const name = key.slice(1);
      if (!isTagName(name)) throw new BadRequestError(`${where}: "${key}" is not a valid attribute name`);
      if (v !== null && typeof v === 'object') throw new BadRequestError(`${where}: attribute "${key}" must be a scalar`);
      parent.setAttribute(name, checkXmlText(v === null ? '' : String(v), `attribute ${key}`));
    } else if (Array.isArray(v)) {
      for (const item of v) {
        if (Array.isArray(item)) throw new BadRequestError(`${where}/${key}: an array inside an array cannot be stored in XML`);
        parent.appendChild(elementFromJson(doc, key, item, `${where}/${key}`));
      }
    } else parent.appendChild(elementFromJson(doc, key, v, `${where}/${key}`));
  }
}

/**
 * Deepest JSON value turned into elements: far beyond any sensible document, and well within what building
 * elements one level per call can do without running out of stack. The tree's own limit (--max-depth) is
 * checked where the element is put in it.
 */
export const MAX_JSON_DEPTH = 1024;

/** How deeply `value` nests objects and arrays, counted without recursion; stops counting past `limit`. */
export function jsonDepth(value: Json, limit = Infinity): number {
  let deepest = 0;
  const stack: [Json, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    if (v !== null && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Builds `<tag>` holding `value`. Keys that are not valid tags become `<_e _e="key">`. */
export function elementFromJson(doc: Document, tag: string, value: Json, where = tag): Element {
  if (where === tag && jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new BadRequestError(`${where}: the JSON is nested more than ${MAX_JSON_DEPTH} levels deep`, 'too_deep');
  }
  checkXmlText(tag, `the key "${tag}"`);
  let el: Element;
  if (isTagName(tag) && tag !== ESCAPE) el = doc.createElement(tag);
  else {
    el = doc.createElement(ESCAPE);
    el.setAttribute(ESCAPE, tag);
  }
  if (Array.isArray(value)) throw new BadRequestError(`${where}: an array cannot be stored as one element`);
  appendValue(doc, el, value, where);
  return el;
}
