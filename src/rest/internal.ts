/** /internal/CMD: version, save, flush, started, stop (igor-reference §2.9). */
import { Router, type Request, type Response } from 'express';
import { isAdmin, principalOf } from '../auth/principal.ts';
import { adminOnly } from './guards.ts';
import type { HostContext } from './context.ts';
import { answerText as answer, queryOf } from './negotiate.ts';

export function internalRoutes(ctx: HostContext): Router {
  const router = Router();
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
  };
  for (const [name, handler] of Object.entries(commands)) router.all(`/internal/${name}`, handler);
  return router;
}
