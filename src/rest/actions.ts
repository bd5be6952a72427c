/** /action/NAME and /action/PLUGIN/NAME: run actions by name (igor-reference §2.1). */
import { routes } from './router.ts';
import type { Router } from 'express';
import { NotFoundError } from '../errors.ts';
import { adminOnly } from './guards.ts';
import type { HostContext } from './context.ts';
import { answerText } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'actions'>;

export function actionRoutes(ctx: Deps): Router {
  const router = routes();
  router.use('/action', adminOnly);
  router.get(['/action/:name', '/action/:plugin/:name'], (req, res) => {
    const { name, plugin } = req.params as { name: string; plugin?: string };
    const count = ctx.actions.runByName(name, plugin);
    if (count === 0) throw new NotFoundError(plugin ? `plugin ${plugin} has no action named ${name}` : `no action named ${name}`);
    answerText(req, res, 'OK', { started: count });
  });
  return router;
}
