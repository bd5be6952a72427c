/**
 * Browser log-in: GET /login shows the form (and sets the CSRF cookie), POST /login checks the password and
 * sets the session cookie, POST /logout ends the session. Both POSTs need the CSRF token, so another site
 * cannot log a browser in or out.
 */
import express, { Router, type Request, type Response } from 'express';
import { join } from 'node:path';
import { verifyPassword } from '../auth/passwords.ts';
import { clearSessionCookie, csrfOk, CSRF_COOKIE, makeCsrfCookie, makeSessionCookie, parseCookies } from '../auth/session.ts';
import { findUser } from '../auth/users.ts';
import { ForbiddenError } from '../errors.ts';
import type { HostContext } from './context.ts';

/** Only paths on this server: never `//elsewhere` or `https://elsewhere`. */
function localPath(returnTo: unknown): string {
  return typeof returnTo === 'string' && returnTo.startsWith('/') && !returnTo.startsWith('//') && !returnTo.includes('\\') ? returnTo : '/';
}

export function loginRoutes(ctx: HostContext): Router {
  const router = Router();
  const secure = () => (ctx.config.publicUrl ?? '').startsWith('https:');
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  router.get('/login', (req: Request, res: Response) => {
    if (!parseCookies(req)[CSRF_COOKIE]) res.append('Set-Cookie', makeCsrfCookie(secure()).header);
    res.set('Cache-Control', 'no-store').sendFile(join(ctx.packageDir, 'static', 'login.html'));
  });

  router.post('/login', form, async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    if (!csrfOk(req, body['_csrf'])) throw new ForbiddenError('the log-in form is out of date or came from another site; reload /login and try again');
    const name = body['username'] ?? '';
    const user = findUser(ctx.db, name);
    const ok = !!user?.passwordHash && (await verifyPassword(body['password'] ?? '', user.passwordHash, name));
    const returnTo = localPath(body['returnTo']);
    if (!ok) {
      ctx.logger.warn({ user: name }, 'failed log-in');
      res.redirect(303, `/login?error=1&returnTo=${encodeURIComponent(returnTo)}`);
      return;
    }
    res.append('Set-Cookie', makeSessionCookie(ctx.auth.sessionKey, name, secure()));
    res.redirect(303, returnTo);
  });

  router.post('/logout', form, (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    if (!csrfOk(req, body['_csrf'])) throw new ForbiddenError('log out from this server\'s own pages');
    res.append('Set-Cookie', clearSessionCookie(secure()));
    res.redirect(303, '/');
  });
  return router;
}
