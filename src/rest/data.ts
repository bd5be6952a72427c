/**
 * /data/XPATH: reading and writing the tree (igor-reference §2.2–2.4), and /evaluate/EXPR, with access
 * control: a principal reads what it may see (secrets left out), writes only where it may.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authoriseMutation, checkNoHiddenData, checkWritePath, deny, rightsAt } from '../auth/policy.ts';
import { isAdmin, principalOf, type Principal } from '../auth/principal.ts';
import { isSecretName, viewOf, visibilityFor, writeOptions, type Visibility } from '../auth/visibility.ts';
import { BadRequestError, ForbiddenError, MethodNotAllowedError, NotFoundError } from '../errors.ts';
import { refOf } from '../tree/refs.ts';
import { escapeText } from '../tree/serialize.ts';
import { textOf } from '../tree/text.ts';
import { absolutePath, splitLastStep } from '../tree/paths.ts';
import type { Mutation, Tree } from '../tree/tree.ts';
import { parseSimplePath, plainNames } from '../tree/simplePath.ts';
import { stringOf } from '../tree/xpath.ts';
import { elementFromBody, elementFromForm } from '../tree/payload.ts';
import { hasBody, readBody } from './body.ts';
import type { HostContext } from './context.ts';
import { negotiate, send, type Format } from './negotiate.ts';
import type { CanonicalRequest } from '../http/canonical.ts';
import { represent, representMany, representRef } from './represent.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'config' | 'db' | 'fairness'>;

type Variant = 'default' | 'raw' | 'multi' | 'multiraw' | 'content' | 'ref';
const VARIANTS = new Set<string>(['raw', 'multi', 'multiraw', 'content', 'ref']);

function variantOf(query: URLSearchParams): Variant {
  const v = query.get('.VARIANT');
  if (v === null) return 'default';
  if (!VARIANTS.has(v)) throw new BadRequestError(`unknown .VARIANT=${v}; use one of multi, multiraw, raw, content, ref`);
  return v as Variant;
}

/**
 * Nothing the principal may see matches. Whether that is because the rules keep it from the path is told
 * from the path's names alone, never from the tree: a refusal (401 for an anonymous client, 403 for others)
 * says what the rules say for anything at that path, a 404 that there is nothing it may see, so neither
 * tells whether something it may not see is there. An admin, who may see everything, is told when only
 * secret or hidden data matches.
 */
function nothingMatches(ctx: Deps, p: Principal, path: string, visibility: Visibility): never {
  const names = plainNames(path);
  if (names && !visibility.admitsChain(names)) {
    const secret = names.some(isSecretName);
    if (secret && isAdmin(p)) throw new ForbiddenError(`${path} is secret; ask with .VARIANT=raw to see it`, 'forbidden_secret');
    deny(p, 'get', `${path}${secret ? ' (it is secret: only an admin can read it)' : ''}`);
  }
  if (isAdmin(p) && ctx.db.tree.select(path).length > 0) {
    throw new ForbiddenError(`${path} selects only secret or hidden data; ask with .VARIANT=raw to see it`, 'forbidden_secret');
  }
  throw new NotFoundError(`nothing matches ${path}`);
}

/** Sends an answer unless it is over --max-result-bytes: a read of the whole of a big tree is refused, with advice. */
function sendResult(ctx: Deps, res: ServerResponse, format: Format, body: string): void {
  const limit = ctx.config.maxResultBytes;
  if (body.length > limit || (body.length * 3 > limit && Buffer.byteLength(body) > limit)) {
    throw new BadRequestError(
      `the answer would be ${Buffer.byteLength(body)} bytes, over the limit of ${limit}; ask for less (a narrower path, or .VARIANT=ref)`,
      'result_too_large',
    );
  }
  send(res, format, body);
}

/**
 * Runs a client's evaluation of `expression`: a plain path at once, anything else in its turn (fairness.ts);
 * within the client's time limit, shorter for anyone but an admin.
 */
export function evaluation<T>(
  ctx: Deps,
  req: IncomingMessage,
  p: Principal,
  expression: string,
  work: (timeLimitMs: number | undefined) => T,
): T | Promise<T> {
  const timeLimitMs = isAdmin(p) ? undefined : ctx.config.xpathUserTimeoutMs;
  if (parseSimplePath(expression)) return work(timeLimitMs);
  return ctx.fairness.run(p, req, () => work(timeLimitMs));
}

function read(ctx: Deps, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, xpath: string): void | Promise<void> {
  const variant = variantOf(query);
  const raw = variant === 'raw' || variant === 'multiraw';
  const format = negotiate(req);
  const p = principalOf(req);
  const visibility = visibilityFor(p, raw ? 'raw' : 'read');
  const path = absolutePath(xpath);
  const nodes = evaluation(ctx, req, p, path, (timeLimitMs) =>
    ctx.db.tree.select(path, ctx.db.tree.doc, { view: viewOf(visibility), timeLimitMs }),
  );
  if (nodes instanceof Promise) return nodes.then((n) => answerRead(ctx, res, n, { variant, format, p, path, visibility }));
  answerRead(ctx, res, nodes, { variant, format, p, path, visibility });
}

function answerRead(
  ctx: Deps,
  res: ServerResponse,
  nodes: Node[],
  o: { variant: Variant; format: Format; p: Principal; path: string; visibility: Visibility },
): void {
  const { variant, format, p, path, visibility } = o;
  const xpath = path;
  const show = visibility.show;
  if (variant === 'multi' || variant === 'multiraw') {
    if (format === 'text') throw new BadRequestError('.VARIANT=multi has no text/plain form; ask for application/json or application/xml');
    sendResult(
      ctx,
      res,
      format,
      representMany(
        nodes.map((node) => ({ node, ref: refOf(node) })),
        format,
        show,
      ) + '\n',
    );
    return;
  }
  if (nodes.length === 0) nothingMatches(ctx, p, path, visibility);
  if (variant === 'ref') {
    if (nodes.length > 1 && format !== 'text')
      throw new BadRequestError(`${xpath} selects ${nodes.length} nodes; use .VARIANT=multi to get all of them`, 'selects_many');
    sendResult(ctx, res, format, nodes.map((n) => representRef(refOf(n), format)).join('\n') + '\n');
    return;
  }
  if (format === 'text') {
    // As in Igor, plain text lists several matches one per line.
    sendResult(ctx, res, format, nodes.map((n) => textOf(n, show)).join('\n') + '\n');
    return;
  }
  if (nodes.length > 1)
    throw new BadRequestError(`${xpath} selects ${nodes.length} nodes; use .VARIANT=multi to get all of them`, 'selects_many');
  sendResult(ctx, res, format, represent(nodes[0]!, format, { show, content: variant === 'content' }) + '\n');
}

async function write(
  ctx: Deps,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  xpath: string,
  method: 'PUT' | 'POST' | 'DELETE',
  viaQuery: boolean,
): Promise<void> {
  const p = principalOf(req);
  if (xpath === '') throw new MethodNotAllowedError(`${method} on /data itself is not allowed; name an element under it`);
  variantOf(query); // reject unknown variants before changing anything
  const format = negotiate(req); // like Igor: XML unless the client asks otherwise
  const path = absolutePath(xpath);
  const options = { ...writeOptions(p, path), ...(isAdmin(p) ? {} : { timeLimitMs: ctx.config.xpathUserTimeoutMs }) };
  // A write whose path is more than a plain path waits its turn like an expensive read.
  const write = (change: (tree: Tree) => Mutation) => evaluation(ctx, req, p, path, () => ctx.db.write(change));
  if (method === 'DELETE') {
    const mutation = await write((tree) => authoriseMutation(p, method, tree.delete(path, options), ctx.config));
    // Deleting what is not there is fine, but not where the rules would refuse it if it were (told by names).
    const names = mutation.ops.length === 0 ? plainNames(path) : undefined;
    if (names && !rightsAt(p, names).has('delete')) deny(p, 'delete', path);
    res.writeHead(200, { 'Content-Length': 0 }).end();
    return;
  }
  const { tag } = splitLastStep(path);
  // Where the rules refuse this write whatever the tree holds (told by the path's names), say so before
  // reading a body.
  checkWritePath(p, plainNames(path), method === 'PUT' ? 'put' : 'post', path);
  const doc = ctx.db.tree.doc;
  let element: Element;
  if (!viaQuery && hasBody(req))
    element = elementFromBody(
      doc,
      tag,
      await readBody(req, ctx.config.maxBodyBytes),
      req.headers['content-type'],
      ctx.config.maxBodyElements,
    );
  else
    element = elementFromForm(
      doc,
      tag,
      // The session's CSRF token and Igor's capability (access_token) travel in the query: credentials, not data.
      [...query].filter(([k]) => k !== '_csrf' && k !== 'access_token'),
      ctx.config.maxBodyElements,
    );
  checkNoHiddenData(p, element);
  const mutation = await write((tree) =>
    authoriseMutation(p, method, method === 'PUT' ? tree.put(path, element, options) : tree.post(path, element, options), ctx.config),
  );
  send(res, format, representRef(mutation.ref, format) + '\n');
}

async function evaluateExpression(ctx: Deps, req: IncomingMessage, res: ServerResponse, expression: string): Promise<void> {
  const format: Format = negotiate(req, ['text', 'json', 'xml']);
  const p = principalOf(req);
  // An admin evaluates over everything; anyone else over what they may read, so that no string(…) or
  // count(…) can read around the rules.
  const view = viewOf(visibilityFor(p, 'raw'));
  const value = await evaluation(ctx, req, p, expression, (timeLimitMs) =>
    ctx.db.tree.evaluate(expression, ctx.db.tree.root, { view, timeLimitMs }),
  );
  const scalar = Array.isArray(value) ? stringOf(value, view) : value;
  // JSON has no NaN or ±Infinity: those are null (as JSON.stringify writes them), never the strings "NaN" and
  // "Infinity", which an expression's string can be; text/plain and XML tell them apart (README, /evaluate).
  if (format === 'json') sendResult(ctx, res, format, JSON.stringify(scalar) + '\n');
  else if (format === 'xml') sendResult(ctx, res, format, `<value>${escapeText(stringOf(scalar))}</value>\n`);
  else sendResult(ctx, res, format, stringOf(scalar) + '\n');
}

/**
 * Handles /data and /evaluate requests; answers false for any other URL. Plain node:http, no framework:
 * this is the path that every sensor reading and every client poll takes.
 */
export async function handleData(ctx: Deps, req: IncomingMessage, res: ServerResponse, c: CanonicalRequest): Promise<boolean> {
  const { xpath = '', query } = c;
  if (c.xpathRoute === 'data') {
    const method = c.method === 'HEAD' ? 'GET' : c.method;
    if (method === 'GET') {
      const override = query.get('.METHOD');
      if (override === null) await read(ctx, req, res, query, xpath);
      else if (override === 'PUT' || override === 'POST' || override === 'DELETE') await write(ctx, req, res, query, xpath, override, true);
      else throw new BadRequestError(`unknown .METHOD=${override}; use PUT, POST or DELETE`);
    } else if (method === 'PUT' || method === 'POST' || method === 'DELETE') await write(ctx, req, res, query, xpath, method, false);
    else throw new MethodNotAllowedError(`${req.method} is not a method for /data; use GET, PUT, POST or DELETE`);
    return true;
  }
  if (c.xpathRoute === 'evaluate' && c.path !== '/evaluate') {
    if (c.method !== 'GET' && c.method !== 'HEAD') throw new MethodNotAllowedError('/evaluate only answers GET');
    await evaluateExpression(ctx, req, res, xpath);
    return true;
  }
  return false;
}
