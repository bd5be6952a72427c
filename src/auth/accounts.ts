/**
 * Managing users and API tokens while the server runs, for whoever asks: the REST routes (/internal/users,
 * /internal/tokens), Igor's `user` plugin and `igor user|token` all come here, so who may do what is decided in
 * one place. An admin manages everyone; a user changes their own password (giving the old one) and manages their
 * own tokens. Igor's user-name rule, and passwords that say why they are refused.
 */
import { BadRequestError, ForbiddenError, NotFoundError, UnauthorizedError } from '../errors.ts';
import type { Database, Validator } from '../store/database.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { combine, type Mutation } from '../tree/tree.ts';
import type { Accounts } from '../plugin-api.ts';
import { verifyPassword } from './passwords.ts';
import { isAdmin, type Principal, type Right } from './principal.ts';
import { endSessions, listSessions, type SessionInfo } from './sessions.ts';
import { createToken, listTokens, revokeToken, type TokenInfo } from './tokens.ts';
import { findUser, setPassword } from './users.ts';

/** Igor's rule for user names (its user plugin): a letter or _ first, then at least one of letters, digits, - _ . */
const USER_NAME = /^[a-zA-Z_][-a-zA-Z0-9_.]+$/;

/** Passwords people pick first; refused by name so the refusal says why. */
const COMMON = new Set([
  'password',
  'password1',
  'passw0rd',
  '12345678',
  '123456789',
  '1234567890',
  '87654321',
  'qwertyui',
  'qwerty123',
  'iloveyou',
  'letmein1',
  'welcome1',
  'admin123',
  'changeme',
  'sunshine',
  'football',
  'baseball',
  'trustno1',
  'abcdefgh',
  '11111111',
  '00000000',
]);

export function checkNewUserName(name: string): string {
  if (!USER_NAME.test(name))
    throw new BadRequestError(
      `"${name}" cannot be a user name: two or more letters, digits, - _ or ., starting with a letter or _`,
      'bad_user_name',
    );
  return name;
}

/** Why a password is too weak to accept, or undefined when it will do. */
export function passwordWeakness(password: string, user: string): string | undefined {
  if (password.length < 8) return 'a password needs at least 8 characters';
  if (password.length > 1024) return 'a password has at most 1024 characters';
  if (user && password.toLowerCase().includes(user.toLowerCase())) return 'a password may not contain the user name';
  if (new Set(password).size < 5) return 'a password needs at least 5 different characters';
  if (COMMON.has(password.toLowerCase())) return 'that password is among the first ones guessed; choose another';
  return undefined;
}

function checkPassword(password: unknown, user: string): string {
  if (typeof password !== 'string') throw new BadRequestError('a password is needed', 'weak_password');
  const weak = passwordWeakness(password, user);
  if (weak) throw new BadRequestError(weak, 'weak_password');
  return password;
}

function adminOnly(p: Principal, what: string): void {
  if (p.kind === 'anonymous') throw new UnauthorizedError(`${what} needs you to log in as an admin`);
  if (!isAdmin(p)) throw new ForbiddenError(`only an admin may ${what}`);
}

function userOf(p: Principal): string | undefined {
  return p.kind === 'user' ? p.name : undefined;
}

export interface UserInfo {
  name: string;
  admin: boolean;
  hasPassword: boolean;
  tokens: number;
}

export function listUsers(db: Database, p: Principal): UserInfo[] {
  adminOnly(p, 'list the users');
  const tokens = listTokens(db);
  return (db.tree.select('/data/identities/*') as Element[]).map((el) => {
    const user = findUser(db, el.nodeName)!;
    return {
      name: user.name,
      admin: user.admin,
      hasPassword: !!user.passwordHash,
      tokens: tokens.filter((t) => t.user === user.name).length,
    };
  });
}

const ADMIN_PASSWORD = '/data/identities/admin/encryptedPassword';

/**
 * Refuses a write that would leave the user admin without a password — a DELETE of /data/identities, of /data/*,
 * or of the password itself, made through /data — since nobody could then log in to manage the server. Looked at
 * only when a change is at or above that path, so other writes pay nothing.
 */
export function keepAdminReachable(db: Database): Validator {
  return (events) => {
    const near = events.some(({ path }) => {
      const plain = path.replace(/\[\d+\]/g, '');
      return plain === ADMIN_PASSWORD || ADMIN_PASSWORD.startsWith(`${plain}/`);
    });
    if (near && !findUser(db, 'admin')?.passwordHash) {
      throw new BadRequestError(
        'this would leave the user admin without a password, so nobody could log in to manage the server',
        'admin_lockout',
      );
    }
  };
}

/** A user as one line of text (igor user list, GET /internal/users as text). */
export function userLine(u: UserInfo): string {
  return `${u.name}${u.admin ? '  admin' : ''}${u.hasPassword ? '' : '  (no password)'}  ${u.tokens} token(s)`;
}

/** A token as one line of text, never its secret (igor token list, GET /internal/tokens as text). */
export function tokenLine(t: TokenInfo): string {
  const expires = t.expires ? new Date(t.expires * 1000).toISOString() : 'never';
  return `${t.id}  ${t.user}  ${t.rights}  ${t.path}  expires ${expires}${t.comment ? `  ${t.comment}` : ''}`;
}

/** A new user (identities/U and people/U, with a password); an existing one is a 400 as in Igor. */
export async function addUser(db: Database, p: Principal, name: string, password: unknown, admin = false): Promise<void> {
  adminOnly(p, 'add users');
  checkNewUserName(name);
  if (findUser(db, name)) throw new BadRequestError(`user ${name} already exists`, 'user_exists');
  await setPassword(db, name, checkPassword(password, name));
  if (admin) await setAdmin(db, p, name, true);
}

export async function setAdmin(db: Database, p: Principal, name: string, admin: boolean): Promise<void> {
  adminOnly(p, 'make users admins');
  if (!findUser(db, name)) throw new NotFoundError(`there is no user ${name}`);
  if (name === 'admin' && !admin) throw new BadRequestError('the user admin is always an admin');
  if (!admin && userOf(p) === name) throw new BadRequestError('an admin cannot take away their own admin rights; ask another admin');
  await db.write((t) => t.put(`/data/identities/${name}/admin`, elementFromJson(t.doc, 'admin', admin)));
}

/** A user's new password: an admin for anyone, a user for themselves with the one they have now. */
export async function changePassword(db: Database, p: Principal, name: string, password: unknown, oldPassword?: unknown): Promise<void> {
  const user = findUser(db, name);
  // A token is for scripts and devices, narrowed to a subtree: it does not stand for its user's account.
  if (p.kind === 'user' && p.via === 'token') throw new ForbiddenError('an API token cannot change passwords; log in with a password');
  if (!isAdmin(p)) {
    if (userOf(p) !== name) {
      if (p.kind === 'anonymous') throw new UnauthorizedError('log in to change your password');
      throw new ForbiddenError('you can change only your own password');
    }
    const stored = user?.passwordHash;
    if (typeof oldPassword !== 'string' || !stored || !(await verifyPassword(oldPassword, stored, name))) {
      throw new ForbiddenError('the old password is not right');
    }
  }
  if (!user) throw new NotFoundError(`there is no user ${name}`);
  await setPassword(db, name, checkPassword(password, name));
}

/** Removes identities/U (with its tokens) and people/U. Not admin, and not oneself. */
export async function deleteUser(db: Database, p: Principal, name: string): Promise<void> {
  adminOnly(p, 'delete users');
  if (!findUser(db, name)) throw new NotFoundError(`there is no user ${name}`);
  if (name === 'admin') throw new BadRequestError('the user admin cannot be deleted');
  if (userOf(p) === name) throw new BadRequestError('you cannot delete yourself; ask another admin');
  await db.write((t) => {
    const changes: Mutation[] = [t.delete(`/data/identities/${name}`)];
    if (t.select(`/data/people/${name}`).length) changes.push(t.delete(`/data/people/${name}`));
    return combine(changes);
  });
}

/**
 * Managing credentials (tokens, sessions) needs a password or a browser session, never a token: a stolen device's
 * token must not list, make or revoke the household's other credentials.
 */
function notByToken(p: Principal, what: string): void {
  if (p.kind === 'anonymous') throw new UnauthorizedError(`log in to ${what}`);
  if (p.kind === 'user' && p.via === 'token') throw new ForbiddenError(`an API token cannot ${what}; log in with a password`);
}

/** Tokens an admin sees (all) or a user (their own). */
export function tokensFor(db: Database, p: Principal): TokenInfo[] {
  notByToken(p, 'see API tokens');
  const all = listTokens(db);
  return isAdmin(p) ? all : all.filter((t) => t.user === userOf(p));
}

export interface NewToken {
  user?: string;
  path: string;
  rights: Right[];
  expiresDays?: number;
  comment?: string;
}

/** A token for oneself, or (an admin) for anyone; shown once. A token cannot make a token. */
export async function makeToken(db: Database, p: Principal, spec: NewToken): Promise<{ id: string; token: string }> {
  notByToken(p, 'make API tokens');
  const user = spec.user ?? userOf(p);
  if (!user) throw new BadRequestError('say whose token it is (user)');
  if (user !== userOf(p)) adminOnly(p, 'make tokens for other users');
  const days = spec.expiresDays;
  if (days !== undefined && !(Number.isFinite(days) && days > 0)) throw new BadRequestError('expiresDays takes a positive number');
  return createToken(db, {
    user,
    path: spec.path,
    rights: spec.rights,
    expires: days === undefined ? undefined : Math.floor(Date.now() / 1000 + days * 86400),
    comment: spec.comment,
  });
}

export async function dropToken(db: Database, p: Principal, id: string): Promise<void> {
  const mine = tokensFor(db, p).some((t) => t.id === id);
  if (!mine) {
    if (isAdmin(p)) throw new NotFoundError(`there is no token ${id}`);
    throw new NotFoundError(`you have no token ${id}`);
  }
  await revokeToken(db, id);
}

/** Whose sessions `p` asks about: their own, or (an admin) anyone's. */
function sessionOwner(db: Database, p: Principal, user: string | undefined): string {
  notByToken(p, 'manage sessions');
  const mine = userOf(p);
  const whose = user || mine;
  if (!whose) throw new BadRequestError('say whose sessions (user=NAME)');
  if (whose !== mine) adminOnly(p, "manage other users' sessions");
  if (!findUser(db, whose)) throw new NotFoundError(`there is no user ${whose}`);
  return whose;
}

/** A user's browser sessions: one's own, or (an admin) anyone's. */
export function sessionsFor(db: Database, p: Principal, user?: string): SessionInfo[] {
  return listSessions(db, sessionOwner(db, p, user));
}

/** Ends one session (`id`) or all of a user's: one's own, or (an admin) anyone's. */
export async function endSessionsFor(db: Database, p: Principal, user?: string, id?: string): Promise<void> {
  const whose = sessionOwner(db, p, user);
  if (!(await endSessions(db, whose, id)) && id !== undefined) throw new NotFoundError(`${whose} has no session ${id}`);
}

/** The accounts a plugin call may manage: those its caller may, no more (the plugin lends nothing). */
export function accountsFor(db: Database, caller: Principal): Accounts {
  return {
    add: (name, password, options) => addUser(db, caller, name, password, options?.admin ?? false),
    setPassword: (name, password, oldPassword) => changePassword(db, caller, name, password, oldPassword),
    delete: (name) => deleteUser(db, caller, name),
  };
}
