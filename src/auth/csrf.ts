/**
 * The one CSRF gate. A request made with a browser session that could change something must carry the
 * session's CSRF token (header X-CSRF-Token, or `_csrf` in the query), checked right after authentication
 * and before anything is read or routed. The token is bound to the session: an HMAC of the session cookie
 * with the server's key, so a token set by someone else (an injected `igor_csrf` cookie) or taken from
 * another session is worth nothing. Pages read it from the `igor_csrf` cookie, which the gate keeps right.
 *
 * What "could change something" means: every method but GET, HEAD and OPTIONS, and, because Igor lets
 * simple clients change things with GET, a GET of /data with .METHOD, of /internal/* (but the few that only
 * read), of /action/*, and of /plugin/NAME/METHOD (but pages). The exemptions are listed below with why.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ForbiddenError } from '../errors.ts';
import type { CanonicalRequest } from '../http/canonical.ts';
import type { Principal } from './principal.ts';
import { cookie, CSRF_COOKIE, LIFETIME_S, parseCookies, SESSION_COOKIE } from './session.ts';
import { sameText, sign } from './signing.ts';

/** Requests a session makes that change something but are let through without the token, and why. */
const EXEMPT: readonly { method: RegExp; path: RegExp; why: string }[] = [
  { method: /^POST$/, path: /^\/login$/, why: 'no session is needed to log in; the form has its own token (checkLoginForm)' },
  {
    method: /^(GET|HEAD)$/,
    path: /^\/plugin\/[^/]+\/auth1$/,
    why: 'following "authorise" only starts an OAuth flow, for the logged-in user',
  },
  {
    method: /^(GET|HEAD)$/,
    path: /^\/plugin\/[^/]+\/auth2$/,
    why: 'the provider sends the browser back here; the single-use OAuth state is the proof',
  },
];

/** /internal commands that only read. */
const READ_ONLY_INTERNAL = new Set([
  '/internal/version',
  '/internal/whoami',
  '/internal/plugins',
  '/internal/pluginControl/list',
  '/internal/pluginControl/liststd',
  '/internal/pluginControl/info',
  '/internal/pluginControl/exists',
]);

function changesOnGet(c: CanonicalRequest): boolean {
  const { path } = c;
  if (c.xpathRoute === 'data') return c.query.has('.METHOD');
  if (path.startsWith('/internal/')) return !READ_ONLY_INTERNAL.has(path);
  if (path.startsWith('/action/')) return true;
  if (path.startsWith('/plugin/')) return !/^\/plugin\/[^/]+\/page\//.test(path);
  return false;
}

/** The CSRF token of a session: the HMAC of its cookie, so it is valid for that session only. */
export function csrfTokenFor(key: Buffer, sessionCookie: string): string {
  return sign(key, `csrf\0${sessionCookie}`);
}

export function csrfCookie(token: string, secure: boolean): string {
  return cookie(CSRF_COOKIE, token, { maxAge: LIFETIME_S, httpOnly: false, secure, sameSite: 'Strict' });
}

/**
 * Whether the request could change something, so that a session must show its token (see the file comment).
 * Decided on the canonical request, the form every route and handler sees (http/canonical.ts).
 */
export function needsCsrfToken(c: CanonicalRequest): boolean {
  const { method, path } = c;
  if (EXEMPT.some((e) => e.method.test(method) && e.path.test(path))) return false;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return changesOnGet(c);
  return true;
}

function tokenGiven(req: IncomingMessage, c: CanonicalRequest): string | undefined {
  const header = req.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  return c.query.get('_csrf') ?? undefined;
}

/**
 * The gate: throws 403 when a session's request that could change something lacks its token. Sets the
 * `igor_csrf` cookie to the session's token where it is missing or stale (a session from before this rule,
 * or a cookie someone else set), so that pages have it.
 */
export function csrfGate(key: Buffer, secure: boolean, req: IncomingMessage, res: ServerResponse, c: CanonicalRequest, p: Principal): void {
  if (p.kind !== 'user' || p.via !== 'session') return;
  const cookies = parseCookies(req);
  const token = csrfTokenFor(key, cookies[SESSION_COOKIE] ?? '');
  if (cookies[CSRF_COOKIE] !== token) res.appendHeader('Set-Cookie', csrfCookie(token, secure));
  if (!needsCsrfToken(c)) return;
  const given = tokenGiven(req, c);
  if (given === undefined || !sameText(given, token)) {
    throw new ForbiddenError(
      'this change needs the CSRF token of your session (X-CSRF-Token header or _csrf parameter); reload the page',
      'csrf_token',
    );
  }
}

/**
 * The log-in form, before there is a session: the token it carries must be the one its page set in the
 * `igor_csrf` cookie, and a browser that says where the form came from must say it came from here.
 */
export function checkLoginForm(req: IncomingMessage, formValue: string | undefined): void {
  const expected = parseCookies(req)[CSRF_COOKIE];
  const origin = req.headers.origin;
  const fromElsewhere = typeof origin === 'string' && origin !== 'null' && URL.parse?.(origin)?.host !== req.headers.host;
  if (!expected || !formValue || !sameText(expected, formValue) || fromElsewhere) {
    throw new ForbiddenError('the log-in form is out of date or came from another site; reload /login and try again');
  }
}
