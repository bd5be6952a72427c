/**
 * Browser sessions, kept on the server so that they can end: each is a record under
 * identities/U/loginSessions/session (an id, the SHA-256 of its secret, when it was made and ends, what it was
 * made with), written durably like any change. The cookie holds the user, the id and the secret; only a cookie
 * whose record is there, unexpired, and made with the user's present password counts. So a session ends when:
 * - its user logs out (the record goes), or logs out everywhere (all their records go);
 * - its user's password changes, however it is changed (the record names the password it was made with);
 * - its user stops being an admin, when it was made as one;
 * - its user is deleted (the records go with identities/U, so an account made again under that name has none);
 * - an admin ends it, or it is 30 days old.
 * `loginSessions` is a secret's name (visibility.ts): nobody reads the records through /data but an admin asking
 * raw, and only an admin writes them there.
 */
import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { combine, type Mutation } from '../tree/tree.ts';
import { sameText, sign } from './signing.ts';
import { findUser, type UserRecord } from './users.ts';

export const SESSIONS = 'loginSessions';
export const SESSION_LIFETIME_S = 30 * 24 * 3600;
/** Most sessions one user keeps: a new one beyond that ends the oldest. */
const MOST_PER_USER = 20;

export interface SessionInfo {
  id: string;
  user: string;
  /** Seconds since the epoch. */
  created: number;
  expires: number;
  /** What the browser said it was, shortened. */
  agent: string;
}

interface SessionRecord extends SessionInfo {
  hash: string;
  /** Which password it was made with (an HMAC of the stored hash), and whether as an admin. */
  stamp: string;
  admin: boolean;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Which password a session was made with, without keeping the hash itself twice. */
function stampOf(key: Buffer, user: UserRecord): string {
  return sign(key, `session\0${user.passwordHash ?? ''}`).slice(0, 22);
}

function base(user: string): string {
  return `/data/identities/${user}/${SESSIONS}`;
}

function field(el: Element, name: string): string {
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeName === name) return c.textContent ?? '';
  return '';
}

/** A user's session records, read straight from the tree (no XPath: every request with a session asks). */
function recordsOf(db: Database, user: string): SessionRecord[] {
  const list = db.tree.select(base(user))[0];
  if (!list) return [];
  const out: SessionRecord[] = [];
  for (let c = list.firstChild; c; c = c.nextSibling) {
    if (c.nodeName !== 'session') continue;
    const el = c as Element;
    out.push({
      id: field(el, 'id'),
      user,
      hash: field(el, 'hash'),
      created: Number(field(el, 'created')),
      expires: Number(field(el, 'expires')),
      agent: field(el, 'agent'),
      stamp: field(el, 'stamp'),
      admin: field(el, 'admin') === 'true',
    });
  }
  return out;
}

/** The cookie of a session: user, id and secret. */
function cookieValue(user: string, id: string, secret: string): string {
  return `${Buffer.from(user).toString('base64url')}.${id}.${secret}`;
}

function parseCookie(value: string): { user: string; id: string; secret: string } | undefined {
  const [user, id, secret, extra] = value.split('.');
  if (!user || !id || !secret || extra !== undefined || !/^[0-9a-f]{16}$/.test(id)) return undefined;
  const name = Buffer.from(user, 'base64url').toString('utf8');
  return isTagName(name) ? { user: name, id, secret } : undefined;
}

/** A new session for `user` (who has just logged in): answers the cookie's value. Ends expired and surplus ones. */
export async function startSession(db: Database, key: Buffer, user: string, agent: string, now = Date.now()): Promise<string> {
  const record = findUser(db, user);
  if (!record) throw new NotFoundError(`there is no user ${user}`);
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const created = Math.floor(now / 1000);
  const entry = {
    id,
    hash: sha256(secret),
    created,
    expires: created + SESSION_LIFETIME_S,
    stamp: stampOf(key, record),
    admin: record.admin,
    agent: agent.slice(0, 120),
  };
  // The expired ones go, and the oldest beyond the most a user keeps (records are oldest first).
  const live = recordsOf(db, user).filter((s) => s.expires > created);
  const ending = [
    ...recordsOf(db, user).filter((s) => s.expires <= created),
    ...live.slice(0, Math.max(0, live.length + 1 - MOST_PER_USER)),
  ];
  await db.write((t) => {
    const changes: Mutation[] = ending.map((old) => t.delete(`${base(user)}/session[id='${old.id}']`));
    changes.push(t.post(`${base(user)}/session`, elementFromJson(t.doc, 'session', entry)));
    return combine(changes);
  });
  return cookieValue(user, id, secret);
}

/** The user whose live session the cookie is, or undefined (unknown, ended, expired, or made with an old password). */
export function sessionUser(db: Database, key: Buffer, cookie: string | undefined, now = Date.now()): UserRecord | undefined {
  const parsed = cookie ? parseCookie(cookie) : undefined;
  if (!parsed) return undefined;
  const user = findUser(db, parsed.user);
  if (!user) return undefined;
  const record = recordsOf(db, parsed.user).find((s) => s.id === parsed.id);
  if (!record || !sameText(record.hash, sha256(parsed.secret))) return undefined;
  if (record.expires * 1000 <= now) return undefined;
  if (!sameText(record.stamp, stampOf(key, user))) return undefined; // the password changed since
  if (record.admin && !user.admin) return undefined; // made as an admin, who no longer is one
  return user;
}

/** The session id a cookie names, if it is one of ours in shape. */
export function sessionIdOf(cookie: string | undefined): { user: string; id: string } | undefined {
  const parsed = cookie ? parseCookie(cookie) : undefined;
  return parsed && { user: parsed.user, id: parsed.id };
}

/** A user's sessions, newest first, without anything that would let one be taken over. */
export function listSessions(db: Database, user: string, now = Date.now()): SessionInfo[] {
  return recordsOf(db, user)
    .filter((s) => s.expires * 1000 > now)
    .map(({ id, user: u, created, expires, agent }) => ({ id, user: u, created, expires, agent }))
    .reverse();
}

/** Ends one session of `user` (false when there is none of that id), or all of them (`id` undefined). */
export async function endSessions(db: Database, user: string, id?: string): Promise<boolean> {
  if (!isTagName(user)) return false;
  const ids = recordsOf(db, user)
    .map((s) => s.id)
    .filter((s) => id === undefined || s === id);
  if (ids.length === 0) return false;
  await db.write((t) => (id === undefined ? t.delete(base(user)) : t.delete(`${base(user)}/session[id='${id}']`)));
  return true;
}
