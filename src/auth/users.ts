/**
 * Users: identities/U with a password hash in encryptedPassword (Igor's field), and people/U. New hashes are
 * scrypt, or Igor's pbkdf2-sha256 where services/igor/passwordHash says so: set when an Igor directory is
 * adopted, so that Igor can still check every password if its owner goes back (README, Coming from Igor).
 */
import { BadRequestError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { combine, type Mutation } from '../tree/tree.ts';
import { hashPassword, randomPassword, type PasswordHash } from './passwords.ts';

export interface UserRecord {
  name: string;
  passwordHash: string | undefined;
  admin: boolean;
}

export function checkUserName(name: string): string {
  if (!isTagName(name))
    throw new BadRequestError(`"${name}" cannot be a user name: use letters, digits, _ - . and start with a letter or _`);
  return name;
}

/** Users as last read, while the tree is unchanged: every authenticated request asks. */
let known: { db: Database; version: number; users: Map<string, UserRecord | undefined> } | undefined;

export function findUser(db: Database, name: string): UserRecord | undefined {
  if (!isTagName(name)) return undefined;
  if (known?.db !== db || known.version !== db.version) known = { db, version: db.version, users: new Map() };
  if (known.users.has(name)) return known.users.get(name);
  const user = readUser(db, name);
  if (known.users.size < 1000) known.users.set(name, user);
  return user;
}

function readUser(db: Database, name: string): UserRecord | undefined {
  const el = db.tree.select(`/data/identities/${name}`)[0] as Element | undefined;
  if (!el) return undefined;
  const field = (n: string) => {
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeName === n) return c.textContent ?? '';
    return undefined;
  };
  return { name, passwordHash: field('encryptedPassword') || undefined, admin: name === 'admin' || field('admin') === 'true' };
}

/** Where a database says how new passwords are hashed; absent (or anything else): scrypt. */
export const PASSWORD_HASH_SETTING = '/data/services/igor/passwordHash';

export function passwordHashOf(db: Database): PasswordHash {
  return db.tree.select(PASSWORD_HASH_SETTING)[0]?.textContent?.trim() === 'pbkdf2-sha256' ? 'pbkdf2-sha256' : 'scrypt';
}

/** Sets a user's password, creating identities/U and people/U for a new user. */
export async function setPassword(db: Database, name: string, password: string): Promise<void> {
  checkUserName(name);
  if (password.length < 8) throw new BadRequestError('a password needs at least 8 characters');
  const hash = await hashPassword(password, passwordHashOf(db));
  await db.write((t) => {
    const changes: Mutation[] = [t.put(`/data/identities/${name}/encryptedPassword`, elementFromJson(t.doc, 'encryptedPassword', hash))];
    if (t.select(`/data/people/${name}`).length === 0) changes.push(t.put(`/data/people/${name}`, t.doc.createElement(name)));
    return combine(changes);
  });
}

/** Gives the admin a random password if it has none (a new database, or Igor's passwordless admin); returns it. */
export async function ensureAdminPassword(db: Database): Promise<string | undefined> {
  if (findUser(db, 'admin')?.passwordHash) return undefined;
  const password = randomPassword();
  await setPassword(db, 'admin', password);
  return password;
}
