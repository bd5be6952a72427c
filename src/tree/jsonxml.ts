/**
 * Igor's JSON ⇄ XML mapping (igor-reference §2.6), made to round-trip:
 *
 * XML → JSON, value of an element:
 * - no element children and no (visible) attributes → a scalar from its text: `true`/`false` → booleans,
 *   text that is a number as JSON would write it (`3`, `-2.5`, `1e+21`) → number, other text → string
 *   (`007` and `1.0` stay strings, so they come back as written), no text at all → `{}`;
 * - otherwise an object: attributes as `"@name"`, child elements by tag (repeated tags → an array at the
 *   first one's place), text mixed in as `"#text"`. Igor's escape for keys that are not tags,
 *   `<_e _e="a key">…</_e>`, is transparent: it reads back as `"a key": …`.
 *
 * JSON → XML is the inverse; `null` and `""` become an empty element (read back as `{}`, as in Igor),
 * `false` is the text `false` (Igor stored it as empty). Arrays inside arrays cannot be represented and are
 * refused instead of being flattened to text.
 *
 * Keys are kept as sent, `__proto__`, `constructor` and `toString` included: every key is an own property
 * (setOwn), looked up as one, so none can collide with what objects inherit.
 */
import { BadRequestError } from '../errors.ts';
import { ELEMENT_NODE, SHOW_VISIBLE, TEXT_NODE, checkXmlText, isTagName, type Show } from './dom.ts';

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

export function scalarOf(text: string): Json {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text !== '' && text.length < 40 && /^-?\d/.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n) && String(n) === text) return n;
  }
  return text;
}

export function jsonOf(el: Element, show: Show = SHOW_VISIBLE): Json {
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
  if (attrs.length === 0 && children.length === 0) return text === '' ? {} : scalarOf(text);
  const obj: { [key: string]: Json } = {};
  for (const [name, value] of attrs) setOwn(obj, `@${name}`, value);
  for (const child of children) {
    const key = keyOf(child);
    const value = jsonOf(child, show);
    const existing = getOwn(obj, key);
    if (existing === undefined || key.startsWith('@')) setOwn(obj, key, value);
    // An element's own value is never an array, so an array here was made from repeated tags.
    else if (Array.isArray(existing)) existing.push(value);
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
