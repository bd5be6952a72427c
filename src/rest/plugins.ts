/**
 * /plugin/NAME[/METHOD]: calls into a plugin; /plugin/NAME/command/COMMAND: its admin commands;
 * /plugin/NAME/script/SCRIPT: its scripts. A plugin that throws is a 502 with its message, one that does not
 * answer in time a 504; neither harms the server. (Its pages: pluginPages.ts; installing: pluginAdmin.ts.)
 */
import { routes } from './router.ts';
import { type Router, type Request, type Response } from 'express';
import { pluginCredentials } from '../auth/pluginCredentials.ts';
import { deny } from '../auth/policy.ts';
import { principalOf, type Principal } from '../auth/principal.ts';
import { BadGatewayError, IgorError, NotFoundError, TimeoutError } from '../errors.ts';
import type { PluginMethodSpec } from '../plugin-api.ts';
import { type CallServices, checkAccess, commandOf, methodOf, pluginCall, privileged, replyOf } from '../pluginhost/call.ts';
import { paramsAndBody } from '../pluginhost/callBody.ts';
import type { RunningPlugin } from '../pluginhost/registry.ts';
import { runScript } from '../pluginhost/scripts.ts';
import { httpRequest } from '../http/client.ts';
import { outboundPolicyFor } from '../auth/outbound.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { hasBody, readBody } from './body.ts';
import type { HostContext } from './context.ts';
import { adminOnly } from './guards.ts';
import { queryOf } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'auth' | 'config' | 'db' | 'logger' | 'plugins'>;

/**
 * How much body this caller may send: a method's larger limit only for a caller who logged in, or whom the
 * method accepts from the query and headers alone; anyone else is held to the server's limit.
 */
function bodyLimit(ctx: Deps, req: Request, spec: PluginMethodSpec, p: Principal): number {
  const server = ctx.config.maxBodyBytes;
  if (spec.maxBodyBytes === undefined || spec.maxBodyBytes <= server) return spec.maxBodyBytes ?? server;
  if (p.kind !== 'anonymous') return spec.maxBodyBytes;
  const params = Object.fromEntries(queryOf(req)) as Record<string, string>;
  return spec.acceptsLargeBody?.({ params, headers: req.headers as Record<string, string | undefined> }) ? spec.maxBodyBytes : server;
}

/** Lets pages of any origin call a method marked cors (no cookies: such methods take their credentials as parameters). */
function allowCors(req: Request, res: Response): boolean {
  res.set('Access-Control-Allow-Origin', '*');
  if (req.method !== 'OPTIONS') return false;
  const asked = req.headers['access-control-request-headers'];
  res.set({
    'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': typeof asked === 'string' ? asked : 'content-type',
    'Access-Control-Max-Age': '600',
  });
  res.status(204).end();
  return true;
}

/** /plugin/NAME/script/SCRIPT: for an admin or the plugin's own actions (pluginhost/scripts.ts). */
async function runPluginScript(ctx: Deps, req: Request, res: Response): Promise<void> {
  const plugin = await runningPlugin(ctx, req.params['name'] as string);
  const p = principalOf(req);
  if (!privileged(p, plugin.name)) deny(p, 'use', `/plugin/${plugin.name}/script`);
  const timeoutMs = ctx.config.pluginTimeoutMs;
  const output = await runScript({
    dir: plugin.dir,
    plugin: plugin.name,
    script: req.params['script'] as string,
    query: queryOf(req),
    settings: plugin.host.settings(),
    // This server as the script can reach it from here (the public URL may be a proxy's).
    serverUrl: `http://${(req.socket.localAddress ?? '127.0.0.1').includes(':') ? `[${req.socket.localAddress}]` : req.socket.localAddress}:${req.socket.localPort}`,
    credentials: pluginCredentials(ctx.auth.sessionKey, plugin.name, timeoutMs + 60_000),
    timeoutMs,
  });
  res.status(200).type('text/plain; charset=utf-8').send(output);
}

/** The plugin running under that name (waiting for an install under way), or a 404. */
export async function runningPlugin(ctx: Pick<HostContext, 'plugins'>, name: string): Promise<RunningPlugin> {
  const plugin = isTagName(name) ? await ctx.plugins.ready(name) : undefined;
  if (!plugin) throw new NotFoundError(`there is no plugin ${name} running here`);
  return plugin;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** What a call's PluginCall is made of: the database, the limits, and HTTP with its caller's destinations. */
function callServices(ctx: Deps): CallServices {
  return {
    db: ctx.db,
    limits: ctx.config,
    http:
      (caller: Principal) =>
      (url: string, options = {}) =>
        httpRequest(url, { timeoutMs: ctx.config.callTimeoutMs, ...options }, outboundPolicyFor(caller, ctx.config)),
  };
}

async function callPlugin(ctx: Deps, services: CallServices, req: Request, res: Response): Promise<void> {
  const name = req.params['name'] as string;
  const methodName = (req.params['method'] as string | undefined) ?? 'index';
  const plugin = await runningPlugin(ctx, name);
  const spec = methodOf(plugin, methodName);
  if (spec.cors && allowCors(req, res)) return;
  const p = principalOf(req);
  checkAccess(plugin, methodName, spec, p);
  const raw = hasBody(req) ? await readBody(req, bodyLimit(ctx, req, spec, p)) : undefined;
  const { params, body } = await paramsAndBody(queryOf(req), raw, req.headers['content-type']);
  const rest = req.params['rest'];
  const call = pluginCall(services, plugin, spec, p, {
    method: req.method,
    path: Array.isArray(rest) ? rest : [],
    params,
    ...(body ? { body } : {}),
    headers: req.headers as Record<string, string | undefined>,
  });
  sendResult(res, await runPluginCode(ctx, `plugin ${name}/${methodName}`, () => spec.handler(call)));
}

function sendResult(res: Response, result: unknown): void {
  const reply = replyOf(result);
  if (reply) res.status(reply.status).set(reply.headers).send(reply.body);
  else res.status(200).end();
}

/** Runs a plugin's code, turning a throw into a 502 and a hang into a 504. */
async function runPluginCode(ctx: Deps, what: string, work: () => unknown): Promise<unknown> {
  try {
    return await withTimeout(Promise.resolve().then(work), ctx.config.pluginTimeoutMs, what);
  } catch (err) {
    if (err instanceof IgorError) throw err;
    ctx.logger.error({ err }, `${what} failed`);
    throw new BadGatewayError(`${what} failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** /plugin/NAME/command/COMMAND: what `igor plugin NAME COMMAND` runs (admin). */
async function runCommand(ctx: Deps, req: Request, res: Response): Promise<void> {
  const name = req.params['name'] as string;
  const command = req.params['command'] as string;
  const plugin = await runningPlugin(ctx, name);
  const run = commandOf(plugin, command);
  const args: Record<string, string> = {};
  for (const [k, v] of queryOf(req)) if (k !== '_csrf') args[k] = v;
  sendResult(res, await runPluginCode(ctx, `plugin ${name} command ${command}`, () => run(args)));
}

export function pluginRoutes(ctx: Deps): Router {
  const router = routes();
  router.all('/plugin/:name/command/:command', adminOnly, (req, res) => runCommand(ctx, req, res));
  router.all('/plugin/:name/script/:script', (req, res) => runPluginScript(ctx, req, res));
  const services = callServices(ctx);
  router.all('/plugin/:name{/:method}{/*rest}', (req, res) => callPlugin(ctx, services, req, res));

  return router;
}
