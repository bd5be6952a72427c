/**
 * Browser log-in: GET /login shows the form (and sets the form's CSRF cookie), POST /login checks the
 * password and sets the session cookie with its CSRF token, POST /logout ends the session. Both POSTs need a
 * CSRF token (the form's, the session's), so another site cannot log a browser in or out.
 */
import { routes } from './router.ts';
import { localPath } from '../auth/returnTo.ts';
import express, { type Router, type Request, type Response } from 'express';
import { join } from 'node:path';
import { clientAddress } from '../auth/logins.ts';
import { checkLoginForm, csrfCookie, csrfTokenFor } from '../auth/csrf.ts';
import { clearSessionCookie, CSRF_COOKIE, makeLoginFormCookie, parseCookies, SESSION_COOKIE, sessionCookie } from '../auth/session.ts';
import { endSessions, sessionIdOf, startSession } from '../auth/sessions.ts';
import { principalOf } from '../auth/principal.ts';
import { findUser } from '../auth/users.ts';
import { statusOf, type IgorError } from '../errors.ts';
import type { HostContext } from './context.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'auth' | 'config' | 'db' | 'packageDir'>;

export function loginRoutes(ctx: Deps): Router {
  const router = routes();
  const secure = () => (ctx.config.publicUrl ?? '').startsWith('https:');
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  router.get('/login', (req: Request, res: Response) => {
    if (!parseCookies(req)[CSRF_COOKIE]) res.append('Set-Cookie', makeLoginFormCookie(secure()));
    res.set('Cache-Control', 'no-store').sendFile(join(ctx.packageDir, 'static', 'login.html'));
  });

  router.post('/login', form, async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    checkLoginForm(req, body['_csrf']);
    const name = body['username'] ?? '';
    const returnTo = localPath(body['returnTo']) ?? '/';
    try {
      await ctx.auth.logins.check(name, findUser(ctx.db, name), body['password'] ?? '', clientAddress(req), 'the log-in form');
    } catch (err) {
      // Back to the form, which says what went wrong: a wrong password, or how long to wait.
      const wait = statusOf(err) === 429 ? `&wait=${(err as IgorError).headers['Retry-After']}` : '';
      if (statusOf(err) !== 401 && !wait) throw err;
      res.redirect(303, `/login?error=1${wait}&returnTo=${encodeURIComponent(returnTo)}`);
      return;
    }
    const session = await startSession(ctx.db, ctx.auth.sessionKey, name, req.headers['user-agent'] ?? '');
    // The session's CSRF token goes with it (csrf.ts): the form's random one is done with.
    res.append('Set-Cookie', [sessionCookie(session, secure()), csrfCookie(csrfTokenFor(ctx.auth.sessionKey, session), secure())]);
    res.redirect(303, returnTo);
  });

  // Logging out changes something: the CSRF gate (csrf.ts) has checked the session's token already. The
  // session's record goes, so the cookie is worth nothing wherever a copy of it is.
  router.post('/logout', async (req: Request, res: Response) => {
    const session = sessionIdOf(parseCookies(req)[SESSION_COOKIE]);
    const p = principalOf(req);
    if (session && p.kind === 'user' && p.via === 'session' && p.name === session.user) await endSessions(ctx.db, session.user, session.id);
    res.append('Set-Cookie', clearSessionCookie(secure()));
    res.redirect(303, '/');
  });
  return router;
}
