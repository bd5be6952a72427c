/**
 * /data/XPATH: reading and writing the tree (igor-reference §2.2–2.4), and /evaluate/EXPR.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from '../errors.ts';
import { escapeText, refOf, textOf } from '../tree/dom.ts';
import { absolutePath, splitLastStep } from '../tree/paths.ts';
import { stringOf } from '../tree/xpath.ts';
import { elementFromBody, elementFromForm, hasBody, readBody } from './body.ts';
import type { HostContext } from './context.ts';
import { negotiate, queryOf, send, type Format } from './negotiate.ts';
import { represent, representMany, representRef } from './represent.ts';

type Variant = 'default' | 'raw' | 'multi' | 'multiraw' | 'content' | 'ref';
const VARIANTS = new Set<string>(['raw', 'multi', 'multiraw', 'content', 'ref']);

function variantOf(query: URLSearchParams): Variant {
  const v = query.get('.VARIANT');
  if (v === null) return 'default';
  if (!VARIANTS.has(v)) throw new BadRequestError(`unknown .VARIANT=${v}; use one of multi, multiraw, raw, content, ref`);
  return v as Variant;
}

/** The XPath in the URL after `prefix`, percent-decoded. */
export function pathAfter(url: string, prefix: string): string {
  const raw = url.slice(prefix.length).split('?', 1)[0]!;
  try {
    return decodeURIComponent(raw.startsWith('/') ? raw.slice(1) : raw);
  } catch {
    throw new BadRequestError(`the path ${raw} is not properly percent-encoded`);
  }
}

function read(ctx: HostContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, xpath: string): void {
  const variant = variantOf(query);
  const raw = variant === 'raw' || variant === 'multiraw';
  const multi = variant === 'multi' || variant === 'multiraw';
  const format = negotiate(req);
  const nodes = ctx.db.tree.select(absolutePath(xpath));
  if (multi) {
    if (format === 'text') throw new BadRequestError('.VARIANT=multi has no text/plain form; ask for application/json or application/xml');
    send(res, format, representMany(nodes.map((node) => ({ node, ref: refOf(node) })), format, raw) + '\n');
    return;
  }
  if (nodes.length === 0) throw new NotFoundError(`nothing matches ${absolutePath(xpath)}`);
  if (variant === 'ref') {
    if (nodes.length > 1 && format !== 'text') throw new BadRequestError(`${xpath} selects ${nodes.length} nodes; use .VARIANT=multi to get all of them`);
    send(res, format, nodes.map((n) => representRef(refOf(n), format)).join('\n') + '\n');
    return;
  }
  if (format === 'text') {
    // As in Igor, plain text lists several matches one per line.
    send(res, format, nodes.map((n) => textOf(n, raw)).join('\n') + '\n');
    return;
  }
  if (nodes.length > 1) throw new BadRequestError(`${xpath} selects ${nodes.length} nodes; use .VARIANT=multi to get all of them`);
  send(res, format, represent(nodes[0]!, format, { raw, content: variant === 'content' }) + '\n');
}

async function write(
  ctx: HostContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  xpath: string,
  method: 'PUT' | 'POST' | 'DELETE',
  viaQuery: boolean,
): Promise<void> {
  if (xpath === '') throw new MethodNotAllowedError(`${method} on /data itself is not allowed; name an element under it`);
  variantOf(query); // reject unknown variants before changing anything
  const format = negotiate(req); // like Igor: XML unless the client asks otherwise
  const path = absolutePath(xpath);
  if (method === 'DELETE') {
    await ctx.db.write((tree) => tree.delete(path));
    res.writeHead(200, { 'Content-Length': 0 }).end();
    return;
  }
  const { tag } = splitLastStep(path);
  const doc = ctx.db.tree.doc;
  let element: Element;
  if (!viaQuery && hasBody(req)) element = elementFromBody(doc, tag, await readBody(req, ctx.config.maxBodyBytes), req.headers['content-type']);
  else element = elementFromForm(doc, tag, query);
  const mutation = await ctx.db.write((tree) => (method === 'PUT' ? tree.put(path, element) : tree.post(path, element)));
  send(res, format, representRef(mutation.ref, format) + '\n');
}

/**
 * Handles /data and /evaluate requests; answers false for any other URL. Plain node:http, no framework:
 * this is the path that every sensor reading and every client poll takes.
 */
export async function handleData(ctx: HostContext, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const url = req.url ?? '';
  if (url.startsWith('/data') && (url.length === 5 || url[5] === '/' || url[5] === '?')) {
    const xpath = pathAfter(url, '/data');
    const query = queryOf(req);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (method === 'GET') {
      const override = query.get('.METHOD');
      if (override === null) read(ctx, req, res, query, xpath);
      else if (override === 'PUT' || override === 'POST' || override === 'DELETE') await write(ctx, req, res, query, xpath, override, true);
      else throw new BadRequestError(`unknown .METHOD=${override}; use PUT, POST or DELETE`);
    } else if (method === 'PUT' || method === 'POST' || method === 'DELETE') await write(ctx, req, res, query, xpath, method, false);
    else throw new MethodNotAllowedError(`${req.method} is not a method for /data; use GET, PUT, POST or DELETE`);
    return true;
  }
  if (url.startsWith('/evaluate/')) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError('/evaluate only answers GET');
    evaluateExpression(ctx, req, res, pathAfter(url, '/evaluate'));
    return true;
  }
  return false;
}

function evaluateExpression(ctx: HostContext, req: IncomingMessage, res: ServerResponse, expression: string): void {
  const format: Format = negotiate(req, ['text', 'json', 'xml']);
  const value = ctx.db.tree.evaluate(expression, ctx.db.tree.root);
  // A node-set's value is its first node's text, with hidden data left out.
  const scalar = Array.isArray(value) ? (value.length ? textOf(value[0]!) : '') : value;
  if (format === 'json') send(res, format, JSON.stringify(typeof scalar === 'number' && !Number.isFinite(scalar) ? stringOf(scalar) : scalar) + '\n');
  else if (format === 'xml') send(res, format, `<value>${escapeText(stringOf(scalar))}</value>\n`);
  else send(res, format, stringOf(scalar) + '\n');
}
