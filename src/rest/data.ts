/**
 * /data/XPATH: reading and writing the tree (igor-reference §2.2–2.4), and /evaluate/EXPR.
 */
import { Router, type Request, type Response } from 'express';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from '../errors.ts';
import { escapeText, refOf, textOf } from '../tree/dom.ts';
import { absolutePath, splitLastStep } from '../tree/paths.ts';
import { stringOf } from '../tree/xpath.ts';
import type { Tree } from '../tree/tree.ts';
import { elementFromBody, elementFromForm, hasBody, readBody } from './body.ts';
import type { HostContext } from './context.ts';
import { negotiate, send, type Format } from './negotiate.ts';
import { represent, representMany, representRef } from './represent.ts';

type Variant = 'default' | 'raw' | 'multi' | 'multiraw' | 'content' | 'ref';
const VARIANTS = new Set<string>(['raw', 'multi', 'multiraw', 'content', 'ref']);

function variantOf(req: Request): Variant {
  const v = req.query['.VARIANT'];
  if (v === undefined) return 'default';
  if (typeof v !== 'string' || !VARIANTS.has(v)) {
    throw new BadRequestError(`unknown .VARIANT=${String(v)}; use one of multi, multiraw, raw, content, ref`);
  }
  return v as Variant;
}

/** The XPath in the URL after `prefix`, percent-decoded. */
export function pathAfter(req: Request, prefix: string): string {
  const raw = req.url.slice(prefix.length).split('?', 1)[0]!;
  try {
    return decodeURIComponent(raw.startsWith('/') ? raw.slice(1) : raw);
  } catch {
    throw new BadRequestError(`the path ${raw} is not properly percent-encoded`);
  }
}

/** Query parameters in order, as strings (what `.METHOD` writes and bodiless writes use as form data). */
function queryParams(req: Request): [string, string][] {
  const q = req.url.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(req.url.slice(q + 1))];
}

function read(ctx: HostContext, req: Request, res: Response, xpath: string): void {
  const variant = variantOf(req);
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

async function write(ctx: HostContext, req: Request, res: Response, xpath: string, method: 'PUT' | 'POST' | 'DELETE', viaQuery: boolean): Promise<void> {
  if (xpath === '') throw new MethodNotAllowedError(`${method} on /data itself is not allowed; name an element under it`);
  variantOf(req); // reject unknown variants before changing anything
  const format = negotiate(req); // like Igor: XML unless the client asks otherwise
  const path = absolutePath(xpath);
  if (method === 'DELETE') {
    await ctx.db.write((tree) => tree.delete(path));
    res.status(200).end();
    return;
  }
  const { tag } = splitLastStep(path);
  const doc = ctx.db.tree.doc;
  let element: Element;
  if (viaQuery) element = elementFromForm(doc, tag, queryParams(req));
  else if (hasBody(req)) element = elementFromBody(doc, tag, await readBody(req, ctx.config.maxBodyBytes), req.headers['content-type']);
  else element = elementFromForm(doc, tag, queryParams(req));
  const change = (tree: Tree) => (method === 'PUT' ? tree.put(path, element) : tree.post(path, element));
  const mutation = await ctx.db.write(change);
  send(res, format, representRef(mutation.ref, format) + '\n');
}

export function dataRoutes(ctx: HostContext): Router {
  const router = Router();
  const dataPath = /^\/data(?:\/.*)?$/;
  router.get(dataPath, async (req, res) => {
    const xpath = pathAfter(req, '/data');
    const method = req.query['.METHOD'];
    if (method === undefined) return read(ctx, req, res, xpath);
    if (method === 'PUT' || method === 'POST' || method === 'DELETE') return write(ctx, req, res, xpath, method, true);
    throw new BadRequestError(`unknown .METHOD=${String(method)}; use PUT, POST or DELETE`);
  });
  for (const method of ['PUT', 'POST', 'DELETE'] as const) {
    router[method.toLowerCase() as 'put' | 'post' | 'delete'](dataPath, (req, res) => write(ctx, req, res, pathAfter(req, '/data'), method, false));
  }

  router.get(/^\/evaluate\/.+/, (req, res) => {
    const expression = pathAfter(req, '/evaluate');
    const format: Format = negotiate(req, ['text', 'json', 'xml']);
    const value = ctx.db.tree.evaluate(expression, ctx.db.tree.root);
    // A node-set's value is its first node's text, with hidden data left out.
    const scalar = Array.isArray(value) ? (value.length ? textOf(value[0]!) : '') : value;
    if (format === 'json') send(res, format, JSON.stringify(Number.isFinite(scalar) || typeof scalar !== 'number' ? scalar : stringOf(scalar)) + '\n');
    else if (format === 'xml') send(res, format, `<value>${escapeText(stringOf(scalar))}</value>\n`);
    else send(res, format, stringOf(scalar) + '\n');
  });
  return router;
}
