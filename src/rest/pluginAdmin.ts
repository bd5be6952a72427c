/**
 * Plugin administration (admin only): /internal/plugins (list, install, uninstall) and Igor's
 * /internal/pluginControl names for the same.
 */
import { routes } from './router.ts';
import { type Router, type Request, type Response } from 'express';
import type { HostContext } from './context.ts';
import { adminOnly } from './guards.ts';
import { answerText } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'plugins'>;

export function pluginAdminRoutes(ctx: Deps): Router {
  const router = routes();
  const list = async (req: Request, res: Response) => {
    const installed = ctx.plugins.installed();
    const available = await ctx.plugins.available();
    answerText(
      req,
      res,
      installed.map((p) => `${p.name}${p.source !== p.name ? `=${p.source}` : ''}${p.running ? '' : '  (not running)'}`).join('\n'),
      { installed, available: available.map(({ source, description }) => ({ source, description })) },
    );
  };
  const install = async (req: Request, res: Response, name: string, source: string | undefined) => {
    const plugin = await ctx.plugins.install(name, source || name);
    answerText(req, res, `installed ${plugin.name}`, { installed: plugin.name, source: plugin.source });
  };
  const uninstall = async (req: Request, res: Response, name: string) => {
    await ctx.plugins.uninstall(name);
    answerText(req, res, `uninstalled ${name}`, { uninstalled: name });
  };
  const q = (req: Request, key: string) => (typeof req.query[key] === 'string' ? (req.query[key] as string) : undefined);
  router.use('/internal/plugins', adminOnly);
  router.use('/internal/pluginControl', adminOnly);
  router.get('/internal/plugins', list);
  router.put('/internal/plugins/:name', (req, res) => install(req, res, req.params['name'] as string, q(req, 'source')));
  router.post('/internal/plugins/:name', (req, res) => install(req, res, req.params['name'] as string, q(req, 'source')));
  router.delete('/internal/plugins/:name', (req, res) => uninstall(req, res, req.params['name'] as string));
  // Igor's names for the same.
  router.all('/internal/pluginControl/list', list);
  router.all('/internal/pluginControl/installstd', (req, res) => install(req, res, q(req, 'pluginName') ?? '', q(req, 'stdName')));
  router.all('/internal/pluginControl/uninstall', (req, res) => uninstall(req, res, q(req, 'pluginName') ?? ''));
  return router;
}
