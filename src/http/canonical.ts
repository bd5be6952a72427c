/**
 * The one canonical form of a request. Every decision about a request — who it is, whether it needs a CSRF
 * token, whether it may, which route answers — is made on this form, so that no spelling of a URL means one
 * thing to one check and another thing to the next: `/Internal/save`, `/intern%61l/save`, `//internal/./save/`
 * and `?%2EMETHOD=PUT` are each either exactly the canonical request or a different one, for every check alike.
 *
 * - The path is percent-decoded once; empty and `.` segments are dropped and `..` is resolved, and a trailing
 *   `/` goes. Under /data, /evaluate and /history what follows the prefix is an XPath and is kept as written
 *   (`//` is XPath's descendant axis there), decoded.
 * - Case is kept: routes match case-sensitively (rest/router.ts), so `/Internal/save` is no route at all.
 * - The query is decoded once, in order; a control parameter (`.METHOD`, `.VARIANT`, `_csrf`) given twice is
 *   refused, as one check could read the first and another the last.
 * - `req.url` is rewritten to the canonical form, so that express, the handlers and the logs see it too.
 */
import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../errors.ts';

export interface CanonicalRequest {
  readonly method: string;
  /** Decoded and normalised, starting with `/`. */
  readonly path: string;
  /** For /data, /evaluate and /history: the XPath after the prefix, decoded (without the `/` that follows it). */
  readonly xpath?: string;
  /** Which of the XPath routes, if any. */
  readonly xpathRoute?: XPathRoute;
  /** Decoded query parameters, in order. */
  readonly query: URLSearchParams;
}

/** The routes whose path, after their first segment, is an XPath. */
const XPATH_ROUTES = ['data', 'evaluate', 'history'] as const;
export type XPathRoute = (typeof XPATH_ROUTES)[number];

function isXPathRoute(segment: string | undefined): segment is XPathRoute {
  return (XPATH_ROUTES as readonly (string | undefined)[]).includes(segment);
}

/** Query parameters that steer how a request is handled: each may be given once. */
const CONTROL = /^(\.[A-Za-z]+|_csrf)$/;

/** Longest URL taken (path and query): no route needs more, and refusals record what was asked. */
export const MAX_URL_LENGTH = 16 * 1024;

const canonical = new WeakMap<IncomingMessage, CanonicalRequest>();

/** The request's canonical form, made (and `req.url` rewritten) the first time it is asked for. */
export function canonicalOf(req: IncomingMessage): CanonicalRequest {
  let c = canonical.get(req);
  if (!c) {
    c = canonicalize(req.method ?? 'GET', req.url ?? '/');
    canonical.set(req, c);
    req.url = urlOf(c);
  }
  return c;
}

/** The canonical form of a request line's method and target; a 400 for a target that has none. */
export function canonicalize(method: string, target: string): CanonicalRequest {
  if (target.length > MAX_URL_LENGTH) throw new BadRequestError(`the URL is longer than ${MAX_URL_LENGTH} characters`);
  const origin = originForm(target);
  const q = origin.indexOf('?');
  const rawPath = q < 0 ? origin : origin.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : origin.slice(q + 1));
  checkControlParameters(query);
  const decoded = decodePath(rawPath);
  const segments = decoded.split('/').slice(1);
  // The first segment that names something decides whether the rest is an XPath.
  const first = segments.findIndex((s) => s !== '' && s !== '.' && s !== '..');
  const head = segments[first];
  if (isXPathRoute(head)) {
    const rest = segments.slice(first + 1);
    const xpath = rest.join('/');
    return { method, path: `/${head}${rest.length ? `/${xpath}` : ''}`, xpath, xpathRoute: head, query };
  }
  return { method, path: `/${normalise(segments).join('/')}`, query };
}

/** A request target as a path and query: the absolute form (`http://host/path`) names its path too. */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  const url = URL.parse?.(target) ?? null;
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return url.pathname + url.search;
  throw new BadRequestError(`${target.slice(0, 100)} is not a path on this server`);
}

function decodePath(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(`the path ${raw.slice(0, 200)} is not properly percent-encoded`);
  }
  // Control characters name nothing here, and would only reach logs and file names.
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new BadRequestError('the path holds control characters');
  return decoded;
}

function checkControlParameters(query: URLSearchParams): void {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!CONTROL.test(key)) continue;
    if (seen.has(key)) throw new BadRequestError(`${key} is given more than once`);
    seen.add(key);
  }
}

/** Segments with empty and `.` ones dropped and `..` resolved (never above the root). */
function normalise(segments: string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

/** Characters a path carries as they are; everything else is percent-encoded (`%` too, so decoding gives it back). */
const PATH_UNSAFE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/[\]]/gu;

/** The canonical request as a URL: decoding it gives the canonical path and query again. */
export function urlOf(c: CanonicalRequest): string {
  const query = c.query.toString();
  return c.path.replace(PATH_UNSAFE, (ch) => encodeURIComponent(ch)) + (query ? `?${query}` : '');
}
