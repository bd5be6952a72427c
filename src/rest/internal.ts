/**
 * /internal/CMD (igor-reference §2.9): version, whoami, help, dump, log, save, flush, fail, started, stop,
 * restart, updateStatus/REPRESENTING. Plugin control lives with the plugin routes.
 */
import { routes } from './router.ts';
import { type Router, type Request, type Response } from 'express';
import type { ActionRun } from '../actions/manager.ts';
import { isAdmin, principalOf } from '../auth/principal.ts';
import { BadRequestError } from '../errors.ts';
import { recentLogLines } from '../logger.ts';
import { recordStatus } from '../status.ts';
import type { Json } from '../tree/jsonxml.ts';
import { hasBody, jsonObjectOf, readBody } from './body.ts';
import { adminOnly } from './guards.ts';
import type { HostContext } from './context.ts';
import { answerText as answer, queryOf } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'actions' | 'config' | 'db' | 'requestStop' | 'version' | 'work'>;

/** What /internal/help lists, one a line, as Igor does. */
const HELP = [
  'version: the server version',
  'whoami: who you are logged in as',
  'help: this list',
  'dump: the action queues and the actions, as text',
  'actions: each action with its plugin and how its last run since start went',
  'log?lines=N: the newest lines of the log (N at most 500, default 100)',
  'save: write a snapshot of the database now',
  'flush?timeout=S: wait until queued work (actions, writes) is done',
  'fail: answer 500, for testing clients',
  'started: what the _start action calls once the server runs',
  'stop: save and stop the server',
  'restart: save, stop and start the server again (database, settings and plugins read again)',
  'updateStatus/REPRESENTING: record status/REPRESENTING from a JSON body {alive, resultData, errorMessage}',
  'pluginControl/list, pluginControl/installstd?pluginName=&stdName=, pluginControl/uninstall?pluginName=: plugins',
];

/** The JSON object body of /internal/updateStatus (as Igor's scripts send it), checked. */
async function statusBody(ctx: Deps, req: Request): Promise<{ alive?: unknown; resultData?: unknown; errorMessage?: unknown }> {
  if (!hasBody(req))
    throw new BadRequestError('updateStatus needs a JSON body: {"alive": true|false, "resultData": ..., "errorMessage": "..."}');
  return jsonObjectOf(await readBody(req, ctx.config.maxBodyBytes), 'a JSON object {alive, resultData, errorMessage}');
}

export function internalRoutes(ctx: Deps): Router {
  const router = routes();
  // Anyone may ask the version and who they are; everything else here is for an admin.
  router.all('/internal/version', (req, res) => answer(req, res, ctx.version, { version: ctx.version }));
  router.all('/internal/whoami', (req, res) => {
    const p = principalOf(req);
    const user = p.kind === 'user' ? p.name : p.kind === 'system' ? 'igor' : null;
    answer(req, res, user ?? '', { user, admin: isAdmin(p), csrfNeeded: p.kind === 'user' && p.via === 'session' });
  });
  router.use('/internal', adminOnly);
  const commands: Record<string, (req: Request, res: Response) => Promise<void> | void> = {
    save: async (req, res) => {
      const backup = await ctx.db.snapshot();
      answer(req, res, 'OK', { saved: backup });
    },
    flush: async (req, res) => {
      const timeout = Number(queryOf(req).get('timeout') ?? 60) * 1000;
      await ctx.work.flush(Number.isFinite(timeout) && timeout > 0 ? timeout : 60_000);
      answer(req, res, 'OK');
    },
    // What the built-in _start action calls once the server runs (its status shows in status/igor/start).
    started: (req, res) => answer(req, res, 'OK'),
    stop: (req, res) => {
      res.on('finish', () => ctx.requestStop());
      answer(req, res, 'OK');
    },
    restart: (req, res) => {
      res.on('finish', () => ctx.requestStop(true));
      answer(req, res, 'OK');
    },
    help: (req, res) => answer(req, res, HELP.join('\n'), HELP),
    actions: (req, res) => {
      const runs = ctx.actions.runs();
      const line = (r: ActionRun) =>
        `${r.ref}${r.plugin ? ` [${r.plugin}]` : ''}: ${r.lastRun === undefined ? 'not run since start' : `${r.ok ? 'ok' : `failed: ${r.message}`} at ${new Date(r.lastRun * 1000).toISOString()}`}`;
      answer(req, res, runs.map(line).join('\n'), runs);
    },
    dump: (req, res) => {
      const lines = ctx.actions.dump();
      answer(req, res, lines.join('\n'), lines);
    },
    log: (req, res) => {
      const wanted = Number(queryOf(req).get('lines') ?? 100);
      const lines = recentLogLines(Number.isInteger(wanted) && wanted > 0 ? wanted : 100);
      answer(req, res, lines.join('\n'), lines);
    },
    fail: () => {
      throw new Error('/internal/fail: a failure on request, for testing clients');
    },
  };
  for (const [name, handler] of Object.entries(commands)) router.all(`/internal/${name}`, handler);
  // Igor's scripts and plugins report how a service is doing: a dict resultData becomes fields of its own.
  router.post('/internal/updateStatus/*representing', async (req, res) => {
    const representing = ([] as string[]).concat((req.params as { representing: string | string[] }).representing).join('/');
    const body = await statusBody(ctx, req);
    const data = body.resultData;
    const extra = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, Json>) : {};
    const message =
      typeof body.errorMessage === 'string' && body.errorMessage ? body.errorMessage : typeof data === 'string' ? data : undefined;
    await recordStatus(ctx.db, representing, { ok: !!body.alive, message }, extra);
    answer(req, res, 'OK');
  });
  return router;
}
