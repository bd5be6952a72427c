/**
 * What a payload becomes: the element to store from a write's body (XML, JSON, plain text or a form), from
 * a simple client's query parameters, or from an MQTT message; or the JSON object a route takes its fields from.
 * Everything is checked, and a payload too large refused, before an element is made or the tree is touched.
 */
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
import { elementFromJson, getOwn, setOwn, type Json } from './jsonxml.ts';
import { parseXml } from './parseXml.ts';

/** Most elements a body may become unless the caller says otherwise (--max-body-elements). */
export const DEFAULT_MAX_ELEMENTS = 10_000;

const decoder = new TextDecoder('utf-8', { fatal: true });

function decode(body: Buffer): string {
  try {
    return decoder.decode(body);
  } catch {
    throw new BadRequestError('the body is not valid UTF-8', 'bad_character');
  }
}

/** A JSON object whose only key is the target tag is the value itself, as in Igor. */
function unwrap(value: Json, tag: string): Json {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === tag) return value[tag]!;
  }
  return value;
}

/** Form fields (from a urlencoded body or the query) as a JSON object; repeated names become arrays. */
export function formObject(params: Iterable<[string, string]>): { [key: string]: Json } {
  // Own properties only: a field named __proto__ or constructor is a field like any other.
  const obj: { [key: string]: Json } = {};
  for (const [key, value] of params) {
    if (key.startsWith('.')) continue; // .METHOD, .VARIANT: instructions, not data
    const existing = getOwn(obj, key);
    if (existing === undefined) setOwn(obj, key, value);
    else if (Array.isArray(existing)) existing.push(value);
    else setOwn(obj, key, [existing, value]);
  }
  return obj;
}

function parseJson(text: string): Json {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (err) {
    throw new BadRequestError(`the body is not valid JSON: ${(err as Error).message}`, 'bad_json');
  }
  checkJsonNumbers(text);
  return value;
}

/**
 * A body that must be a JSON object, for routes that take named fields (/internal/updateStatus, /internal/users):
 * the same checks as a JSON body for the tree (UTF-8, numbers kept as sent). `expected` says what it should be.
 */
export function jsonObjectOf(body: Buffer, expected = 'a JSON object'): { [key: string]: Json } {
  const value = parseJson(decode(body));
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new BadRequestError(`the body must be ${expected}`, 'bad_json');
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Numbers are kept as numbers when a double holds them as sent: one that overflows (1e400) or underflows
 * (1e-400) to something else, or an integer with more digits than a double keeps (2^53 and beyond, where
 * 12345678901234567891 would read back as 12345678901234567000), is refused; such values go as strings.
 * Checked on the text, since JSON.parse has already rounded them.
 */
export function checkJsonNumbers(text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip it, escapes and all.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    NUMBER.lastIndex = i;
    const token = NUMBER.exec(text)?.[0];
    if (!token) continue;
    i += token.length - 1;
    const n = Number(token);
    const integer = !/[.eE]/.test(token);
    const lost =
      !Number.isFinite(n) ||
      (n === 0 && /[1-9]/.test(token.split(/[eE]/)[0]!)) ||
      (integer && !Number.isSafeInteger(n) && BigInt(token) !== BigInt(n));
    if (lost)
      throw new BadRequestError(
        `the JSON number ${token.length > 40 ? `${token.slice(0, 40)}…` : token} cannot be kept as sent (a double cannot hold it); send it as a string`,
        'bad_json',
      );
  }
}

function tooMany(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the body holds more than ${limit} elements (--max-body-elements)`, 'too_many_elements');
}

/**
 * Start tags in an XML text, counted without parsing it (a body of many small elements takes seconds to parse),
 * up to `limit + 1`: comments, CDATA sections and processing instructions are skipped, so for a well-formed
 * text the count is its number of elements.
 */
function startTags(text: string, limit: number): number {
  let count = 0;
  for (let i = text.indexOf('<'); i >= 0 && count <= limit; i = text.indexOf('<', i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (next === 0x2f) continue; // </
    if (text.startsWith('<!--', i)) i = endOf(text, '-->', i);
    else if (text.startsWith('<![CDATA[', i)) i = endOf(text, ']]>', i);
    else if (next === 0x3f)
      i = endOf(text, '?>', i); // <?
    else if (next !== 0x21) count++;
  }
  return count;
}

function endOf(text: string, end: string, from: number): number {
  const at = text.indexOf(end, from);
  return at < 0 ? text.length : at;
}

/** Elements a JSON value becomes: one per value, object member and array item, counted up to `limit + 1`. */
function jsonElements(value: Json, limit: number): number {
  let count = 0;
  const stack: Json[] = [value];
  while (stack.length && count <= limit) {
    const v = stack.pop()!;
    count++;
    if (v !== null && typeof v === 'object') stack.push(...(Array.isArray(v) ? v : Object.values(v)));
  }
  return count;
}

/**
 * Builds the element `<tag>` for a write from the request body, in `doc`. A body that would become more than
 * `maxElements` elements is refused (413) before any element is made.
 */
export function elementFromBody(
  doc: Document,
  tag: string,
  body: Buffer,
  contentType: string | undefined,
  maxElements = DEFAULT_MAX_ELEMENTS,
): Element {
  if (body.length === 0 && !contentType) return doc.createElement(tag);
  if (!contentType)
    throw new UnsupportedMediaTypeError('the body has no Content-Type; send application/xml, application/json, text/plain or a form');
  const [type = '', ...params] = contentType
    .toLowerCase()
    .split(';')
    .map((s) => s.trim());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
    throw new UnsupportedMediaTypeError(`charset ${charset} is not supported; send UTF-8`);
  }
  const text = decode(body);
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml')) {
    if (startTags(text, maxElements) > maxElements) throw tooMany(maxElements);
    const root = parseXml(text, 'the XML body').documentElement!;
    const given = root.nodeName === '_e' ? root.getAttribute('_e') : root.nodeName;
    if (given !== tag)
      throw new BadRequestError(`the XML body's top-level element <${root.nodeName}> does not match the path's last step <${tag}>`);
    return root;
  }
  if (type === 'application/json' || type.endsWith('+json')) {
    const value = unwrap(parseJson(text), tag);
    if (Array.isArray(value)) throw new BadRequestError('a JSON array cannot be stored as one element; send an object or a value');
    if (jsonElements(value, maxElements) > maxElements) throw tooMany(maxElements);
    return elementFromJson(doc, tag, value);
  }
  if (type === 'text/plain') return elementFromJson(doc, tag, text);
  if (type === 'application/x-www-form-urlencoded') return elementFromForm(doc, tag, new URLSearchParams(text), maxElements);
  throw new UnsupportedMediaTypeError(
    `Content-Type ${type} is not supported; send application/xml, application/json, text/plain or application/x-www-form-urlencoded`,
  );
}

export function elementFromForm(
  doc: Document,
  tag: string,
  params: Iterable<[string, string]>,
  maxElements = DEFAULT_MAX_ELEMENTS,
): Element {
  const value = unwrap(formObject(params), tag);
  if (jsonElements(value, maxElements) > maxElements) throw tooMany(maxElements);
  return elementFromJson(doc, tag, value);
}
