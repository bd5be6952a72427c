/**
 * Plugin administration (admin only): /internal/plugins (list, install, uninstall) and Igor's
 * /internal/pluginControl names for the same. Igor's list, liststd, info and exists answer JSON whatever the
 * client accepts, as Igor's do (its clients and scripts parse them); the rest answer a line of text.
 */
import { routes } from './router.ts';
import { type Router, type Request, type Response } from 'express';
import { NotFoundError } from '../errors.ts';
import type { AvailablePlugin } from '../pluginhost/registry.ts';
import type { HostContext } from './context.ts';
import { adminOnly } from './guards.ts';
import { answerText, queryOf, send } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'plugins'>;

type Installed = ReturnType<HostContext['plugins']['installed']>[number];

/**
 * `igor plugin list`: the installed plugins, one a line, then the Igor plugins in the database's plugins/ folder
 * that do not run here (so that someone who brought an Igor directory over sees what did not come along).
 */
function listText(installed: Installed[], available: AvailablePlugin[]): string {
  const source = new Map(available.map((a) => [a.source, a]));
  const lines = installed.map((p) => {
    const replaced = source.get(p.source)?.replaces ? `  (in place of Igor's Python plugin ${p.source})` : '';
    return `${p.name}${p.source !== p.name ? `=${p.source}` : ''}${p.running ? '' : '  (not running)'}${replaced}`;
  });
  const names = new Set(installed.map((p) => p.name));
  for (const a of available) if (!a.runnable && !names.has(a.source)) lines.push(`${a.source}  (${a.description})`);
  return lines.join('\n');
}

/** An answer Igor gives as JSON to every client. */
function json(res: Response, value: unknown): void {
  send(res, 'json', JSON.stringify(value) + '\n');
}

export function pluginAdminRoutes(ctx: Deps): Router {
  const router = routes();
  const list = async (req: Request, res: Response) => {
    const installed = ctx.plugins.installed();
    const available = await ctx.plugins.available();
    answerText(req, res, listText(installed, available), {
      installed,
      available: available.map(({ source, description, replaces }) => ({ source, description, ...(replaces ? { replaces } : {}) })),
    });
  };
  const install = async (req: Request, res: Response, name: string, source: string | undefined) => {
    const plugin = await ctx.plugins.install(name, source || name);
    answerText(req, res, `installed ${plugin.name}`, { installed: plugin.name, source: plugin.source });
  };
  const uninstall = async (req: Request, res: Response, name: string) => {
    await ctx.plugins.uninstall(name);
    answerText(req, res, `uninstalled ${name}`, { uninstalled: name });
  };
  const q = (req: Request, key: string) => queryOf(req).get(key) ?? undefined;
  const installedAs = (name: string | undefined) => ctx.plugins.installed().find((p) => p.name === name);
  router.use('/internal/plugins', adminOnly);
  router.use('/internal/pluginControl', adminOnly);
  router.get('/internal/plugins', list);
  router.put('/internal/plugins/:name', (req, res) => install(req, res, req.params['name'] as string, q(req, 'source')));
  router.post('/internal/plugins/:name', (req, res) => install(req, res, req.params['name'] as string, q(req, 'source')));
  router.delete('/internal/plugins/:name', (req, res) => uninstall(req, res, req.params['name'] as string));
  // Igor's names for the same, answering as Igor does.
  router.all('/internal/pluginControl/list', (_req, res) =>
    json(
      res,
      ctx.plugins.installed().map((p) => p.name),
    ),
  );
  router.all('/internal/pluginControl/liststd', async (_req, res) => json(res, await ctx.plugins.standard()));
  router.all('/internal/pluginControl/exists', (req, res) => json(res, installedAs(q(req, 'pluginName')) !== undefined));
  router.all('/internal/pluginControl/info', async (req, res) => {
    const plugin = installedAs(q(req, 'pluginName'));
    if (!plugin) throw new NotFoundError(`no plugin is installed as ${q(req, 'pluginName') ?? '(pluginName= missing)'}`);
    const description = (await ctx.plugins.available()).find((a) => a.source === plugin.source)?.description ?? '';
    json(res, { ...plugin, description });
  });
  router.all('/internal/pluginControl/installstd', (req, res) => install(req, res, q(req, 'pluginName') ?? '', q(req, 'stdName')));
  router.all('/internal/pluginControl/uninstall', (req, res) => uninstall(req, res, q(req, 'pluginName') ?? ''));
  // Igor re-imports its Python plugins; these are loaded when installed or started, so there is nothing to do.
  for (const command of ['reload', 'update'])
    router.all(`/internal/pluginControl/${command}`, (req, res) =>
      answerText(req, res, 'OK: plugins here are loaded when installed or started; nothing to reload', { ok: true }),
    );
  return router;
}
