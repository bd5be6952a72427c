/**
 * Who is asking: in order, an in-process call (actions, with the server's own secret), HTTP Basic,
 * a Bearer API token, a session cookie, else anonymous. Bad credentials are a 401, never a fallback to
 * anonymous: a client should know its password is wrong.
 */
import type { IncomingMessage } from 'node:http';
import { UnauthorizedError } from '../errors.ts';
import type { CanonicalRequest } from '../http/canonical.ts';
import type { Database } from '../store/database.ts';
import { clientAddress, type LoginGuard } from './logins.ts';
import { recentlyVerified } from './passwords.ts';
import { ANONYMOUS, SYSTEM, type Principal } from './principal.ts';
import { sameText } from './signing.ts';
import { parseCookies, SESSION_COOKIE } from './session.ts';
import { sessionUser } from './sessions.ts';
import { pluginOfCredentials } from './pluginCredentials.ts';
import { checkToken } from './tokens.ts';
import { findUser, type UserRecord } from './users.ts';

export const INTERNAL_HEADER = 'x-igor-internal';

export interface AuthSettings {
  db: Database;
  sessionKey: Buffer;
  /** Random per process: proves a request was made in-process by the server itself. */
  internalSecret: string;
  /** --no-auth: every request may do everything. */
  noAuth: boolean;
  /** Checks passwords without telling which users exist, and throttles guessing. */
  logins: LoginGuard;
  /** The principal a plugin acts as (with the extra subtrees it declares). */
  pluginPrincipal?: (name: string) => Principal;
  /**
   * Whether the request goes to a public plugin method that checks the Authorization header itself (a
   * webhook whose sender puts a shared secret there): the header is then not credentials for this server.
   */
  ownsAuthorization?: (path: string) => boolean;
}

/** The header value an in-process call carries to act as `who`. */
export function internalCredential(secret: string, who: Principal): string {
  return `${secret} ${who.kind === 'plugin' ? `plugin:${who.name}` : 'system'}`;
}

/** Basic credentials that checked out on a connection (kept only as long as the connection). */
const seenOnConnection = new WeakMap<object, { header: string; name: string; stored: string; until: number }>();
const SEEN_MS = 60_000;

/**
 * One principal object per user, admin flag and way in, reused from request to request, so that what is worked
 * out per principal (its visibility, its grants) is found again by identity. A change of admin flag is a
 * different key, so a new object.
 */
const userPrincipals = new Map<string, Principal>();

function userPrincipal(name: string, admin: boolean, via: 'basic' | 'session'): Principal {
  const key = `${via}:${admin ? 1 : 0}:${name}`;
  let p = userPrincipals.get(key);
  if (!p) {
    if (userPrincipals.size >= 1000) userPrincipals.clear();
    userPrincipals.set(key, (p = Object.freeze({ kind: 'user', name, admin, via })));
  }
  return p;
}

/** The principal, at once when no password needs checking (the common case: a recently seen one). */
export function authenticate(settings: AuthSettings, req: IncomingMessage, c: CanonicalRequest): Principal | Promise<Principal> {
  if (settings.noAuth) return SYSTEM;
  const { db } = settings;
  const internal = req.headers[INTERNAL_HEADER];
  if (typeof internal === 'string') {
    const [secret = '', who = ''] = internal.split(' ');
    if (!sameText(secret, settings.internalSecret)) throw new UnauthorizedError('invalid internal credentials');
    if (!who.startsWith('plugin:')) return SYSTEM;
    const name = who.slice('plugin:'.length);
    return settings.pluginPrincipal?.(name) ?? { kind: 'plugin', name };
  }
  const authorization = req.headers.authorization;
  if (authorization && settings.ownsAuthorization?.(c.path)) return ANONYMOUS;
  if (authorization) {
    // A keep-alive client sends the same credentials on every request: the same header on the same
    // connection, for a user whose password has not changed, is the same principal.
    const seen = seenOnConnection.get(req.socket);
    if (seen?.header === authorization && seen.until > Date.now()) {
      const user = findUser(db, seen.name);
      if (user?.passwordHash === seen.stored) return userPrincipal(user.name, user.admin, 'basic');
    }
    const [scheme = '', value = ''] = authorization.split(' ', 2);
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = colon > 0 ? decoded.slice(0, colon) : decoded;
      const password = colon > 0 ? decoded.slice(colon + 1) : '';
      // A plugin script's credentials (pluginCredentials.ts): the plugin's rights only, until they lapse.
      const plugin = pluginOfCredentials(settings.sessionKey, name, password);
      if (plugin === null) throw new UnauthorizedError('the plugin credentials are not valid, or have expired');
      if (plugin !== undefined) return settings.pluginPrincipal?.(plugin) ?? { kind: 'plugin', name: plugin };
      const user = findUser(db, name);
      // The common case, a password that matched a moment ago, answers in this tick.
      if (user?.passwordHash && recentlyVerified(password, user.passwordHash, name)) {
        seenOnConnection.set(req.socket, { header: authorization, name, stored: user.passwordHash, until: Date.now() + SEEN_MS });
        return userPrincipal(name, user.admin, 'basic');
      }
      return checkedBasic(settings, req, name, user, password);
    }
    if (scheme.toLowerCase() === 'bearer') {
      const found = checkToken(db, value.trim());
      const user = found && findUser(db, found.user);
      if (!found || !user) throw new UnauthorizedError('the API token is not valid: unknown, revoked or expired');
      return { kind: 'user', name: user.name, admin: user.admin, via: 'token', scope: found.scope };
    }
    throw new UnauthorizedError(`unsupported Authorization scheme ${scheme}; use Basic or Bearer`);
  }
  const cookie = parseCookies(req)[SESSION_COOKIE];
  if (cookie) {
    // A cookie whose session has ended is no session: the request is anonymous, as after logging out.
    const user = sessionUser(db, settings.sessionKey, cookie);
    if (user) return userPrincipal(user.name, user.admin, 'session');
  }
  return ANONYMOUS;
}

async function checkedBasic(
  settings: AuthSettings,
  req: IncomingMessage,
  name: string,
  user: UserRecord | undefined,
  password: string,
): Promise<Principal> {
  await settings.logins.check(name, user, password, clientAddress(req), 'HTTP Basic');
  seenOnConnection.set(req.socket, { header: req.headers.authorization!, name, stored: user!.passwordHash!, until: Date.now() + SEEN_MS });
  return userPrincipal(name, user!.admin, 'basic');
}
