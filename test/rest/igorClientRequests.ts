/**
 * The HTTP requests Igor's command-line clients (igorVar, igorControl; Igor 0.99.2, Python `requests`) send, byte
 * for byte, and what they print for the answer — written from igor-reference ("The HTTP requests Igor's
 * command-line clients send") so the compatibility test (igor-clients.test.ts) can stand in for them without
 * their code or Python. Two facts the reference leaves out, seen on the wire from the clients themselves: a --url
 * without a trailing `/` is given one (`…/data` and `sandbox/x` make `/data/sandbox/x`), and --delete always asks
 * for `.VARIANT=ref`. Takes their command lines as people type them; options the test does not use (--pretty,
 * certificates, config files) are refused rather than guessed. --verbose prints what igorVar.py's code prints on
 * standard error (Igor 0.99.2, read from its source): `>>> GET URL` (GET whatever the method), the headers it set
 * and the data it sends, then the answer's headers and its body (`... BODY`), so a failure's reason shows there.
 */
import { request } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { XMLValidator } from 'fast-xml-parser';
import {
  pythonJsonDumps,
  pythonRepr,
  pythonSplitlines,
  pythonStrip,
  REQUESTS_STATUS_NAMES,
  requestsQuotePath,
  urlencode,
  urljoin,
} from './pythonText.ts';

/** The requests version in User-Agent: only a label (the server does not look at it); the one Debian has here. */
const USER_AGENT = 'python-requests/2.34.2';

/** One request as the client puts it on the wire. */
interface WireRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Scheme, host and port to connect to. */
  origin: string;
  /** The request target: path and query, percent-encoded as requests sends them. */
  target: string;
  /** The URL as the client names it in its error line: joined, with the query, not re-quoted. */
  url: string;
  /** In the order requests sends them, Host first. */
  headers: [string, string][];
  body: Buffer;
  /** The headers igorVar itself sets (its `headers` dict, which --verbose prints), and the data it sends. */
  own: [string, string][];
  data?: string;
}

/** What a run of the client shows: standard output, standard error, exit status. */
export interface Printed {
  stdout: string;
  stderr: string;
  exit: number;
}

interface Common {
  url: string;
  verbose: boolean;
  credentials: string;
  bearer: string;
  access: string;
}

interface VarOptions extends Common {
  eval: boolean;
  variant?: string;
  accept?: string;
  command: 'get' | 'delete' | 'create' | 'put' | 'post';
  contentType?: string;
  data?: string;
  checkdata: boolean;
  checknonempty: boolean;
  allowEmpty: boolean;
  variable: string;
}

const MIMETYPE_FLAGS: Record<string, string> = { '--text': 'text/plain', '--json': 'application/json', '--xml': 'application/xml' };
const ALIASES: Record<string, string> = { '-u': '--url', '-v': '--variant', '--mimetype': '-M', '-e': '--eval', '-0': '--allow-empty' };
const SWITCHES = new Set(['--eval', '--python', '--delete', '--create', '--checkdata', '--checknonempty', '--allow-empty', '--verbose']);
const VALUED = new Set(['--url', '--credentials', '--bearer', '--access', '--variant', '-M', '--put', '--post', '--data']);

/** Flags (the last of each wins, as argparse does) and positional arguments, in any order. */
function parseArgs(argv: string[]): { flags: Map<string, string | true>; positional: string[] } {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = ALIASES[arg] ?? arg;
    if (!arg.startsWith('-') || arg === '-') positional.push(arg);
    else if (MIMETYPE_FLAGS[arg]) flags.set('-M', MIMETYPE_FLAGS[arg]);
    else if (SWITCHES.has(name)) flags.set(name, true);
    else if (VALUED.has(name) && i + 1 < argv.length) flags.set(name, argv[++i]!);
    else throw new Error(`igor client model: ${arg} is not modelled`);
  }
  return { flags, positional };
}

function common(flags: Map<string, string | true>): Common {
  const text = (name: string, fallback = '') => (typeof flags.get(name) === 'string' ? (flags.get(name) as string) : fallback);
  return {
    url: text('--url', 'http://igor.local:9333/data'),
    verbose: flags.get('--verbose') === true,
    credentials: text('--credentials'),
    bearer: text('--bearer'),
    access: text('--access'),
  };
}

function varOptions(argv: string[], stdin: string): VarOptions {
  const { flags, positional } = parseArgs(argv);
  if (positional.length !== 1) throw new Error(`igorVar takes one variable, not ${positional.length}`);
  const on = (name: string) => flags.get(name) === true;
  const value = (name: string) => (typeof flags.get(name) === 'string' ? (flags.get(name) as string) : undefined);
  const command = on('--delete') ? 'delete' : on('--create') ? 'create' : value('--put') ? 'put' : value('--post') ? 'post' : 'get';
  let data = value('--data');
  if (command === 'put' && data === undefined) data = stdin;
  if (command === 'post' && !data) data = stdin; // an empty --data also reads standard input
  return {
    ...common(flags),
    eval: on('--eval'),
    variant: value('--variant'),
    accept: on('--python') ? 'application/json' : value('-M'),
    command,
    contentType: command === 'create' ? 'application/json' : value(command === 'put' ? '--put' : '--post'),
    data: command === 'create' ? '{}' : data,
    checkdata: on('--checkdata'),
    checknonempty: on('--checknonempty'),
    allowEmpty: on('--allow-empty'),
    variable: positional[0]!,
  };
}

/**
 * Data for --put after igorVar's own checks: --checkdata and --checknonempty parse JSON (and send it as json.dumps
 * writes it) or XML (sent as it is); otherwise empty data is refused unless -0. A string is the data; a Printed is
 * the refusal, before anything is sent.
 */
function checkedPutData(o: VarOptions): string | Printed {
  const data = o.data ?? '';
  const refuse = (stderr: string): Printed => ({ stdout: '', stderr, exit: 1 });
  if (o.checkdata || o.checknonempty) {
    if (!data && o.checknonempty) return refuse('');
    if (o.contentType === 'application/json') {
      try {
        return pythonJsonDumps(JSON.parse(data));
      } catch {
        return refuse(`igorVar.py: no valid JSON data read from stdin\n${data}\n`);
      }
    }
    if (o.contentType === 'application/xml') {
      return XMLValidator.validate(data) === true ? data : refuse(`igorVar.py: no valid XML data read from stdin\n${data}\n`);
    }
    // igorVar's own message, its %s left unfilled.
    if (o.checkdata) return refuse('%s: --checkdata only allowed for JSON and XML data\n');
    return data;
  }
  return !data && !o.allowEmpty ? refuse('igorVar.py: no data read from stdin\n') : data;
}

interface Call {
  method: WireRequest['method'];
  item: string;
  query: [string, string][];
  accept: string;
  contentType?: string;
  body?: string;
}

/** The request one call of Igor's client library makes, or its refusal (both kinds of credentials). */
function wireRequest(c: Common, call: Call): WireRequest | string {
  if (c.bearer && c.credentials) return 'both bearer token and credentials specified';
  const base = c.url.endsWith('/') ? c.url : `${c.url}/`;
  const joined = urljoin(base, call.item);
  const query = c.access ? [...call.query, ['access_token', c.access] as [string, string]] : call.query;
  const search = query.length ? `?${urlencode(query)}` : '';
  const [, origin = '', path = ''] = /^(https?:\/\/[^/]*)(.*)$/.exec(joined) ?? [];
  const body = Buffer.from(call.body ?? '', 'utf8');
  const headers: [string, string][] = [
    ['Host', new URL(joined).host],
    ['User-Agent', USER_AGENT],
    ['Accept-Encoding', 'gzip, deflate'],
    ['Accept', call.accept],
    ['Connection', 'keep-alive'],
  ];
  if (call.contentType) headers.push(['Content-Type', call.contentType]);
  if (c.bearer) headers.push(['Authorization', `Bearer ${c.bearer}`]);
  if (c.credentials) headers.push(['Authorization', `Basic ${Buffer.from(c.credentials, 'utf8').toString('base64')}`]);
  // requests gives every method but GET and HEAD a length, 0 when there is no body.
  if (call.method !== 'GET') headers.push(['Content-Length', String(body.length)]);
  const own = headers.filter(([name]) => ['Accept', 'Content-Type', 'Authorization'].includes(name));
  return {
    method: call.method,
    origin,
    target: requestsQuotePath(path) + search,
    url: joined + search,
    headers,
    body,
    own,
    ...(call.body !== undefined ? { data: call.body } : {}),
  };
}

/** What igorVar sends for a command line, or what it prints when it refuses before sending. */
function igorVarRequest(argv: string[], stdin = ''): WireRequest | Printed {
  const o = varOptions(argv, stdin);
  const url = o.eval ? o.url.replaceAll('/data', '/evaluate') : o.url;
  let body: string | undefined;
  if (o.command === 'put') {
    const checked = checkedPutData(o);
    if (typeof checked !== 'string') return checked;
    body = checked;
  } else if (o.command === 'create' || o.command === 'post') {
    body = o.data ?? '';
  }
  const method = ({ get: 'GET', delete: 'DELETE', create: 'PUT', put: 'PUT', post: 'POST' } as const)[o.command];
  // DELETE always asks for the reference (.VARIANT=ref), whatever -v says.
  const variant = o.command === 'delete' ? 'ref' : o.variant;
  const r = wireRequest(
    { ...o, url },
    {
      method,
      item: o.variable,
      query: variant ? [['.VARIANT', variant]] : [],
      accept: o.accept ?? (method === 'GET' ? 'application/xml' : 'text/plain'),
      contentType: o.command === 'get' || o.command === 'delete' ? undefined : o.contentType,
      body,
    },
  );
  return typeof r === 'string' ? { stdout: '', stderr: `igorVar.py: ${r}\n`, exit: 0 } : r;
}

/** What igorControl sends for `ACTION [NAME=VALUE…]`: GET /internal/ACTION with the pairs as the query. */
function igorControlRequest(argv: string[]): WireRequest | Printed {
  const { flags, positional } = parseArgs(argv);
  const [action, ...pairs] = positional;
  if (!action) throw new Error('igorControl needs an action');
  const query = pairs.map((p): [string, string] => {
    const parts = p.split('=');
    if (parts.length !== 2) throw new Error(`igor client model: ${p} is not NAME=VALUE (igorControl stops with a traceback)`);
    return [parts[0]!, parts[1]!];
  });
  const r = wireRequest(common(flags), { method: 'GET', item: `/internal/${action}`, query, accept: 'application/xml' });
  return typeof r === 'string' ? { stdout: '', stderr: `igorControl.py: ${r}\n`, exit: 1 } : r;
}

interface Answer {
  status: number;
  /** The body as requests decodes it: by the charset in Content-Type, else ISO-8859-1 for text/*, else UTF-8. */
  text: string;
  /** The answer's headers as requests keeps them: in the order received, one of a name, repeated ones joined. */
  headers: Record<string, string>;
}

/** Sends the request as it is (one connection, closed after the answer, as requests.request does). */
function send(r: WireRequest): Promise<Answer> {
  const { hostname, port } = new URL(r.origin);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method: r.method, path: r.target, headers: r.headers.flat(), setHost: false, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        res.socket?.destroy();
        const raw = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        const body = encoding === 'gzip' ? gunzipSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw;
        resolve({ status: res.statusCode ?? 0, text: decode(body, res.headers['content-type'] ?? ''), headers: headersOf(res.rawHeaders) });
      });
    });
    req.end(r.body);
  });
}

/** requests' CaseInsensitiveDict of the answer's headers: the last spelling of a name, values of repeats joined by ", ". */
function headersOf(raw: string[]): Record<string, string> {
  const byName = new Map<string, [string, string]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const [name, value] = [raw[i]!, raw[i + 1]!];
    const had = byName.get(name.toLowerCase());
    byName.set(name.toLowerCase(), [name, had ? `${had[1]}, ${value}` : value]);
  }
  return Object.fromEntries(byName.values());
}

/** What --verbose prints before the request goes: igorVar prints ">>> GET" whatever the method. */
function traceRequest(r: WireRequest): string {
  const data = r.data ? `... Data ${pythonRepr(r.data)}\n` : '';
  return `>>> GET ${r.url}\n... Headers ${pythonRepr(Object.fromEntries(r.own))}\n${data}`;
}

/** What --verbose prints of the answer, and for a failure whose body has more than one line, the body again. */
function traceAnswer(program: string, r: WireRequest, a: Answer): string {
  const trace = `<<< Headers ${pythonRepr(a.headers)}\n... ${a.text}\n`;
  return a.status !== 200 && pythonSplitlines(a.text).length > 1 ? `${trace}${errorLine(program, r, a.status)}${a.text}\n` : trace;
}

function decode(body: Buffer, contentType: string): string {
  const charset = /;\s*charset="?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset === undefined && contentType.toLowerCase().startsWith('text/')) return body.toString('latin1');
  return new TextDecoder(charset ?? 'utf-8').decode(body);
}

function errorLine(program: string, r: WireRequest, status: number): string {
  return `${program}: Error ${status} ${REQUESTS_STATUS_NAMES[status] ?? ''} for ${r.url}\n`;
}

/**
 * What igorVar prints for an answer: on 200 the body stripped of surrounding whitespace (with --python, the repr
 * of its JSON), then a newline; on anything else the error line on standard error, and still exit status 0.
 */
function igorVarPrints(argv: string[], r: WireRequest, a: Answer, verbose: boolean): Printed {
  const trace = verbose ? traceRequest(r) + traceAnswer('igorVar.py', r, a) : '';
  if (a.status !== 200) return { stdout: '', stderr: trace + errorLine('igorVar.py', r, a.status), exit: 0 };
  const result = argv.includes('--python') ? pythonRepr(JSON.parse(a.text)) : a.text;
  return { stdout: `${pythonStrip(result)}\n`, stderr: trace, exit: 0 };
}

/** What igorControl prints: the body as it is on 200; the error line and exit status 1 otherwise. */
function igorControlPrints(r: WireRequest, a: Answer, verbose: boolean): Printed {
  const trace = verbose ? traceRequest(r) + traceAnswer('igorControl.py', r, a) : '';
  if (a.status !== 200) return { stdout: '', stderr: trace + errorLine('igorControl.py', r, a.status), exit: 1 };
  return { stdout: a.text, stderr: trace, exit: 0 };
}

/** Runs igorVar's command line: its request on the wire and what it prints (or its refusal). */
export async function igorVar(argv: string[], stdin = ''): Promise<Printed> {
  const r = igorVarRequest(argv, stdin);
  return 'method' in r ? igorVarPrints(argv, r, await send(r), argv.includes('--verbose')) : r;
}

/** Runs igorControl's command line. */
export async function igorControl(argv: string[]): Promise<Printed> {
  const r = igorControlRequest(argv);
  return 'method' in r ? igorControlPrints(r, await send(r), argv.includes('--verbose')) : r;
}
