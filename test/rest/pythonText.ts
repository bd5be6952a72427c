/**
 * How Python (3.x) and its `requests` library write what Igor's command-line clients send and print: URL joining
 * (urllib.parse.urljoin), the query (urlencode) and path (requests' quoting) of a request, json.dumps, repr,
 * str.strip and requests' status names. Modelled on their documented behaviour for the inputs the compatibility
 * test uses (test/rest/igorClientRequests.ts); an input outside the model throws rather than guess.
 */

/** requests' first name for a status code (`requests.codes`), as igorVar puts it in its error line. */
export const REQUESTS_STATUS_NAMES: Readonly<Record<number, string>> = {
  200: 'ok',
  201: 'created',
  202: 'accepted',
  204: 'no_content',
  301: 'moved_permanently',
  302: 'found',
  303: 'see_other',
  304: 'not_modified',
  307: 'temporary_redirect',
  308: 'permanent_redirect',
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  410: 'gone',
  411: 'length_required',
  413: 'request_entity_too_large',
  414: 'request_uri_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  431: 'header_fields_too_large',
  500: 'internal_server_error',
  501: 'not_implemented',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

/**
 * urllib.parse.urljoin for an http(s) base and a path reference: an absolute path replaces the base's path; a
 * relative one is put after the base's last `/`, with empty segments dropped (so an XPath's `//` in a relative
 * variable becomes `/`); then `.` and `..` segments are resolved.
 */
export function urljoin(base: string, ref: string): string {
  if (/^[a-z][a-z0-9+.-]*:|^\/\/|[?#%]/i.test(ref))
    throw new Error(`urljoin model: ${ref} (a scheme, host, query, fragment or %) is not modelled`);
  const m = /^(https?:\/\/[^/?#]*)([^?#]*)$/.exec(base);
  if (!m) throw new Error(`urljoin model: base ${base} is not an http URL without query`);
  const [, origin = '', basePath = ''] = m;
  if (ref === '') return base;
  let segments: string[];
  if (ref.startsWith('/')) {
    segments = ref.split('/');
  } else {
    const baseSegments = (basePath || '/').split('/');
    baseSegments.pop(); // the part after the last '/'
    segments = [...baseSegments, ...ref.split('/')];
    segments = [segments[0]!, ...segments.slice(1, -1).filter((s) => s !== ''), ...segments.slice(-1)];
  }
  const resolved: string[] = [];
  for (const segment of segments) {
    if (segment === '..') resolved.pop();
    else if (segment !== '.') resolved.push(segment);
  }
  if (segments.at(-1) === '.' || segments.at(-1) === '..') resolved.push('');
  return origin + (resolved.join('/') || '/');
}

/** Characters requests (with urllib3 2) leaves as they are in a path: unreserved, sub-delims, `:`, `@`, `/`. */
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** The path as requests puts it on the wire: every other character percent-encoded as UTF-8. */
export function requestsQuotePath(path: string): string {
  if (path.includes('%')) throw new Error(`quoting model: ${path} holds a %, which requests re-quotes by rules not modelled here`);
  return Array.from(path, (c) => (PATH_SAFE.test(c) ? c : encodeUtf8(c))).join('');
}

/** urllib.parse.urlencode of name/value pairs in order (quote_plus: a space becomes `+`). */
export function urlencode(pairs: [string, string][]): string {
  const quotePlus = (s: string) => Array.from(s, (c) => (/[A-Za-z0-9_.\-~]/.test(c) ? c : c === ' ' ? '+' : encodeUtf8(c))).join('');
  return pairs.map(([name, value]) => `${quotePlus(name)}=${quotePlus(value)}`).join('&');
}

function encodeUtf8(c: string): string {
  return Array.from(Buffer.from(c, 'utf8'), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/**
 * json.dumps with its defaults: `", "` and `": "` between items, everything outside printable ASCII as `\uXXXX`.
 * Numbers are written as JSON.stringify writes them, and an object's keys in JavaScript's order (integer-like
 * keys first), which is Python's for the data the test sends.
 */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonJsonDumps(k)}: ${pythonJsonDumps(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** repr() of what json.loads gives: dicts, lists, str, int, float, True, False, None. */
export function pythonRepr(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pythonStrRepr(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pythonFloatRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonStrRepr(k)}: ${pythonRepr(v)}`)
      .join(', ')}}`;
  }
  throw new Error(`repr model: ${typeof value} is not something json.loads gives`);
}

/** A float's repr: the shortest digits, with an exponent of at least two digits below 1e-4 and from 1e16 up. */
function pythonFloatRepr(n: number): string {
  const magnitude = Math.abs(n);
  if (magnitude >= 1e-4 && magnitude < 1e16) return String(n);
  return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
}

/** A str's repr: single quotes unless the text holds `'` and no `"`; unprintable characters escaped. */
function pythonStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', [quote]: `\\${quote}` };
  const escaped = Array.from(s, (c) => {
    if (named[c]) return named[c];
    if (c === ' ' || !/[\p{C}\p{Z}]/u.test(c)) return c;
    const code = c.codePointAt(0)!;
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
    return code < 0x10000 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
  });
  return quote + escaped.join('') + quote;
}

/** str.strip(): Python's whitespace (which, unlike JavaScript's trim, leaves a byte-order mark). */
export function pythonStrip(s: string): string {
  const space = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
  return s.replace(new RegExp(`^${space}+|${space}+$`, 'g'), '');
}

/** str.splitlines(): the lines of a text without their ends, a last line end making no empty line after it. */
export function pythonSplitlines(s: string): string[] {
  const lines = s.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
