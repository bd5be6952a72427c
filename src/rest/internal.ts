/**
 * /internal/CMD (igor-reference §2.9): version, whoami, help, dump, log, save, flush, fail, started, stop,
 * restart; Igor's commands that its own actions and scripts call (updateActions, updateEventSources, runAction,
 * runPluginAction, queue/CMD) and updateStatus (updateStatus.ts). Plugin control lives with the plugin routes.
 */
import { routes } from './router.ts';
import { type Router, type Request, type Response } from 'express';
import type { ActionRun } from '../actions/manager.ts';
import { isAdmin, principalOf } from '../auth/principal.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { recentLogLines } from '../logger.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { BackgroundWork } from '../work.ts';
import { adminOnly } from './guards.ts';
import type { HostContext } from './context.ts';
import { answerText as answer, queryOf } from './negotiate.ts';
import { updateStatusRoutes } from './updateStatus.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'actions' | 'config' | 'db' | 'logger' | 'requestStop' | 'version' | 'work'>;

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
  'queue/CMD: run CMD (save, stop, restart, ...) after answering OK at once',
  'runAction/NAME (or runAction?actionname=NAME): run the actions of that name, as /action/NAME',
  'runPluginAction/PLUGIN/NAME: run the action NAME of plugin PLUGIN',
  "updateActions: Igor's _updateActions calls it; actions here follow the tree by themselves",
  'updateEventSources: the same for eventSources',
  'updateStatus/REPRESENTING: record status/REPRESENTING (GET with ?alive=1&resultData=..., or POST JSON or a form)',
  'pluginControl/list, liststd, info?pluginName=, exists?pluginName=, installstd?pluginName=&stdName=, uninstall?pluginName=: plugins',
];

/** What a command answers: a line of text (and a JSON form), and what to do once the answer is sent. */
interface Done {
  text: string;
  json?: unknown;
  after?: () => void;
}

type Command = (query: URLSearchParams) => Done | Promise<Done>;

/** A no-op that says why nothing needed doing (Igor's commands for what its Python code keeps by hand). */
const nothingToDo = (why: string): Done => ({ text: `OK: ${why}`, json: { ok: true, note: why } });

function commandsOf(ctx: Deps): Record<string, Command> {
  return {
    save: async () => ({ text: 'OK', json: { saved: await ctx.db.snapshot() } }),
    flush: async (query) => {
      const timeout = Number(query.get('timeout') ?? 60) * 1000;
      await ctx.work.flush(Number.isFinite(timeout) && timeout > 0 ? timeout : 60_000);
      return { text: 'OK' };
    },
    // What the built-in _start action calls once the server runs (its status shows in status/igor/start).
    started: () => ({ text: 'OK' }),
    stop: () => ({ text: 'OK', after: () => ctx.requestStop() }),
    restart: () => ({ text: 'OK', after: () => ctx.requestStop(true) }),
    help: () => ({ text: HELP.join('\n'), json: HELP }),
    actions: () => {
      const runs = ctx.actions.runs();
      const line = (r: ActionRun) =>
        `${r.ref}${r.plugin ? ` [${r.plugin}]` : ''}: ${r.lastRun === undefined ? 'not run since start' : `${r.ok ? 'ok' : `failed: ${r.message}`} at ${new Date(r.lastRun * 1000).toISOString()}`}`;
      return { text: runs.map(line).join('\n'), json: runs };
    },
    dump: () => {
      const lines = ctx.actions.dump();
      return { text: lines.join('\n'), json: lines };
    },
    log: (query) => {
      const wanted = Number(query.get('lines') ?? 100);
      const lines = recentLogLines(Number.isInteger(wanted) && wanted > 0 ? wanted : 100);
      return { text: lines.join('\n'), json: lines };
    },
    fail: () => {
      throw new Error('/internal/fail: a failure on request, for testing clients');
    },
    // Igor's _updateActions action calls this on every change under actions/; here the actions follow every
    // change to the tree as it is made (actions/manager.ts), so there is nothing to re-read.
    updateActions: () => nothingToDo('actions follow the tree by themselves here; nothing to update'),
    updateEventSources: () => nothingToDo('event sources follow the tree by themselves here; nothing to update'),
    runAction: (query) => runActions(ctx, query.get('actionname') ?? ''),
  };
}

/** Igor's runAction: every action of that name (under plugindata/ too for names starting with _); none is a 404. */
function runActions(ctx: Deps, name: string, plugin?: string): Done {
  if (!name) throw new BadRequestError('say which action: runAction/NAME or runAction?actionname=NAME');
  const count = ctx.actions.runByName(name, plugin);
  if (count === 0) throw new NotFoundError(plugin ? `plugin ${plugin} has no action named ${name}` : `no action named ${name}`);
  return { text: 'OK', json: { started: count } };
}

function send(req: Request, res: Response, done: Done): void {
  if (done.after) res.on('finish', done.after);
  answer(req, res, done.text, done.json ?? done.text);
}

/** Commands a queue may not hold: flush would wait for itself, and a queue of queues is no use. */
const NOT_QUEUED = new Set(['flush', 'queue']);

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
  const commands = commandsOf(ctx);
  for (const [name, command] of Object.entries(commands)) {
    router.all(`/internal/${name}`, async (req, res) => send(req, res, await command(queryOf(req))));
  }
  router.all('/internal/runAction/:name', (req, res) => send(req, res, runActions(ctx, req.params['name'] as string)));
  router.all('/internal/runPluginAction/:plugin/:name', (req, res) =>
    send(req, res, runActions(ctx, req.params['name'] as string, req.params['plugin'] as string)),
  );
  // Igor's queue/CMD: answered at once, CMD run afterwards (its plugins save this way from inside a request).
  const queued = new BackgroundWork('queued internal commands', (what, err) => ctx.logger.error({ err }, `${what} failed`));
  ctx.work.register(queued);
  router.all('/internal/queue/:command', (req, res) => {
    const name = req.params['command'] as string;
    const command = isTagName(name) && !NOT_QUEUED.has(name) && Object.hasOwn(commands, name) ? commands[name]! : undefined;
    if (!command)
      throw new NotFoundError(
        `there is no command ${name} to queue; queue one of ${Object.keys(commands)
          .filter((c) => !NOT_QUEUED.has(c))
          .join(', ')}`,
      );
    const query = queryOf(req);
    res.on('finish', () => queued.run(`queued /internal/${name}`, async () => (await command(query)).after?.()));
    answer(req, res, 'OK');
  });
  updateStatusRoutes(router, ctx);
  return router;
}
