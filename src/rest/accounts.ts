/**
 * /internal/users and /internal/tokens: users and API tokens while the server runs, for `igor user`,
 * `igor token` and the pages. Who may do what is decided in auth/accounts.ts (an admin: everyone; a user: their
 * own password and tokens), so these routes only read what is asked and say what was done.
 */
import { routes } from './router.ts';
import type { Request, Response, Router } from 'express';
import { csrfCookie, csrfTokenFor } from '../auth/csrf.ts';
import { parseCookies, SESSION_COOKIE, sessionCookie } from '../auth/session.ts';
import { sessionIdOf, startSession, type SessionInfo } from '../auth/sessions.ts';
import {
  addUser,
  changePassword,
  deleteUser,
  dropToken,
  endSessionsFor,
  listUsers,
  sessionsFor,
  makeToken,
  setAdmin,
  tokenLine,
  tokensFor,
  userLine,
} from '../auth/accounts.ts';
import { principalOf } from '../auth/principal.ts';
import { parseRights } from '../auth/tokens.ts';
import { BadRequestError } from '../errors.ts';
import { jsonObjectOf } from '../tree/payload.ts';
import { hasBody, readBody } from './body.ts';
import type { HostContext } from './context.ts';
import { answerText, queryOf } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'auth' | 'config' | 'db'>;

/** The fields of a JSON object or form body (and the query), as given. */
async function fieldsOf(ctx: Deps, req: Request): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = Object.create(null);
  for (const [k, v] of queryOf(req)) fields[k] = v;
  if (!hasBody(req)) return fields;
  const raw = await readBody(req, ctx.config.maxBodyBytes);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) fields[k] = v;
    return fields;
  }
  return Object.assign(fields, jsonObjectOf(raw, 'a JSON object or a form'));
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

function sessionLine(s: SessionInfo & { current: boolean }): string {
  return `${s.id}  ${s.user}  since ${new Date(s.created * 1000).toISOString()}  ${s.agent}${s.current ? '  (this one)' : ''}`;
}

/** A new session for the browser that asked, in place of its own (which a password change has just ended). */
async function renewSession(ctx: Deps, req: Request, res: Response, user: string): Promise<void> {
  const secure = (ctx.config.publicUrl ?? '').startsWith('https:');
  const session = await startSession(ctx.db, ctx.auth.sessionKey, user, req.headers['user-agent'] ?? '');
  res.append('Set-Cookie', [sessionCookie(session, secure), csrfCookie(csrfTokenFor(ctx.auth.sessionKey, session), secure)]);
}
const flag = (v: unknown) => v === true || v === 'true';

export function accountRoutes(ctx: Deps): Router {
  const router = routes();
  userRoutes(router, ctx);
  sessionRoutes(router, ctx);
  tokenRoutes(router, ctx);
  return router;
}

/** /internal/users: the accounts, added, changed and deleted. */
function userRoutes(router: Router, ctx: Deps): void {
  const { db } = ctx;
  router.get('/internal/users', (req, res) => {
    const users = listUsers(db, principalOf(req));
    answerText(req, res, users.map(userLine).join('\n'), users);
  });
  router.post('/internal/users', async (req, res) => {
    const f = await fieldsOf(ctx, req);
    const name = text(f['name']) ?? text(f['username']) ?? '';
    await addUser(db, principalOf(req), name, f['password'], flag(f['admin']));
    answerText(req, res, `user ${name} added`, { added: name });
  });
  router.put('/internal/users/:name/password', async (req, res) => {
    const f = await fieldsOf(ctx, req);
    const name = req.params['name'] as string;
    const p = principalOf(req);
    await changePassword(db, p, name, f['password'], f['oldPassword']);
    // The new password ends every session made with the old one, this one too: the browser that changed it
    // gets a new one, so it stays logged in while every other browser must log in again.
    if (p.kind === 'user' && p.via === 'session' && p.name === name) await renewSession(ctx, req, res, name);
    answerText(req, res, `password of ${name} changed`, { changed: name });
  });
  router.put('/internal/users/:name/admin', async (req, res) => {
    const f = await fieldsOf(ctx, req);
    const name = req.params['name'] as string;
    if (f['admin'] === undefined) throw new BadRequestError('admin=true or admin=false is needed');
    await setAdmin(db, principalOf(req), name, flag(f['admin']));
    answerText(req, res, `${name} is ${flag(f['admin']) ? 'now' : 'no longer'} an admin`, { name, admin: flag(f['admin']) });
  });
  router.delete('/internal/users/:name', async (req, res) => {
    const name = req.params['name'] as string;
    await deleteUser(db, principalOf(req), name);
    answerText(req, res, `user ${name} deleted`, { deleted: name });
  });
}

/** /internal/sessions: who is logged in where, and ending those sessions. */
function sessionRoutes(router: Router, { db }: Deps): void {
  router.get('/internal/sessions', (req, res) => {
    const current = sessionIdOf(parseCookies(req)[SESSION_COOKIE])?.id;
    const sessions = sessionsFor(db, principalOf(req), text(queryOf(req).get('user')) || undefined).map((s) => ({
      ...s,
      current: s.id === current,
    }));
    answerText(req, res, sessions.map(sessionLine).join('\n'), sessions);
  });
  router.delete('/internal/sessions', async (req, res) => {
    await endSessionsFor(db, principalOf(req), queryOf(req).get('user') || undefined);
    answerText(req, res, 'sessions ended', { ended: 'all' });
  });
  router.delete('/internal/sessions/:id', async (req, res) => {
    const id = req.params['id'] as string;
    await endSessionsFor(db, principalOf(req), queryOf(req).get('user') || undefined, id);
    answerText(req, res, `session ${id} ended`, { ended: id });
  });
}

/** /internal/tokens: API tokens, made (shown once), listed and revoked. */
function tokenRoutes(router: Router, ctx: Deps): void {
  const { db } = ctx;
  router.get('/internal/tokens', (req, res) => {
    const tokens = tokensFor(db, principalOf(req));
    answerText(req, res, tokens.map(tokenLine).join('\n'), tokens);
  });
  router.post('/internal/tokens', async (req, res) => {
    const f = await fieldsOf(ctx, req);
    const rights = Array.isArray(f['rights']) ? f['rights'].join(',') : (text(f['rights']) ?? '');
    const days = f['expiresDays'] === undefined || f['expiresDays'] === '' ? undefined : Number(f['expiresDays']);
    const made = await makeToken(db, principalOf(req), {
      user: text(f['user']) || undefined,
      path: text(f['path']) ?? '',
      rights: parseRights(rights),
      expiresDays: days,
      comment: text(f['comment']),
    });
    // Shown only now: nothing keeps the token itself.
    res.set('Cache-Control', 'no-store');
    answerText(req, res, made.token, made);
  });
  router.delete('/internal/tokens/:id', async (req, res) => {
    const id = req.params['id'] as string;
    await dropToken(db, principalOf(req), id);
    answerText(req, res, `token ${id} revoked`, { revoked: id });
  });
}
