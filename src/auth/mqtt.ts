/**
 * Who may do what on the embedded MQTT broker: the server's own users (name and password, throttled like any
 * log-in) and API tokens (as the password, any user name) are its credentials, and a topic is the tree path
 * of the same name, so the rules are REST's: publishing to devices/kitchen/light needs the right to PUT
 * /data/devices/kitchen/light, subscribing to devices/kitchen/# the right to read /data/devices/kitchen.
 * A device token scoped to devices/kitchen may publish only there. The server's own bridge logs in with its
 * per-process internal secret.
 */
import { isTagName } from '../tree/xmlNames.ts';
import type { Database } from '../store/database.ts';
import { findUser, type UserRecord } from './users.ts';
import type { LoginGuard } from './logins.ts';
import { rightsAt } from './policy.ts';
import { isSecretName } from './visibility.ts';
import { SYSTEM, type Principal } from './principal.ts';
import { sameText } from './signing.ts';
import { checkToken } from './tokens.ts';

/** The user name the server's own bridge uses on its embedded broker. */
export const BRIDGE_USER = 'igor-bridge';

/**
 * A connected client's credentials: who it is, and whether what it logged in with still holds. A connection
 * lives for days; it keeps its rights only while its password is unchanged, its token unrevoked and its user
 * neither deleted nor, when it came in as an admin, demoted. The broker asks whenever identities change.
 */
export interface MqttLogin {
  principal: Principal;
  stillValid(): boolean;
}

/** The login of an MQTT CONNECT's credentials, or undefined if they are not good. */
export async function mqttLogin(
  deps: { db: Database; logins: LoginGuard; internalSecret: string },
  username: string | undefined,
  password: Buffer | undefined,
  address: string,
): Promise<MqttLogin | undefined> {
  const { db } = deps;
  const secret = password?.toString('utf8') ?? '';
  if (!username && !secret) return undefined; // no anonymous clients: a device in the home has credentials
  if (username === BRIDGE_USER) return sameText(secret, deps.internalSecret) ? { principal: SYSTEM, stillValid: () => true } : undefined;
  const token = checkToken(db, secret);
  if (token) {
    const user = findUser(db, token.user);
    if (!user) return undefined;
    const principal: Principal = { kind: 'user', name: user.name, admin: user.admin, via: 'token', scope: token.scope };
    return { principal, stillValid: () => checkToken(db, secret) !== undefined && sameStanding(db, user) };
  }
  const user = username ? findUser(db, username) : undefined;
  try {
    await deps.logins.check(username ?? '', user, secret, address, 'MQTT');
  } catch {
    return undefined;
  }
  if (!user) return undefined;
  return { principal: { kind: 'user', name: user.name, admin: user.admin, via: 'basic' }, stillValid: () => sameStanding(db, user) };
}

/** The user is still there with the password they had, and still an admin if they were one. */
function sameStanding(db: Database, then: UserRecord): boolean {
  const now = findUser(db, then.name);
  return !!now && now.passwordHash === then.passwordHash && (now.admin || !then.admin);
}

/**
 * An admin (not through a narrowed token) may do everything, on topics that name no element too (zigbee2mqtt's
 * 0x00158d… device names), as over REST an admin may do everything.
 */
function unrestricted(p: Principal): boolean {
  return p.kind === 'system' || (p.kind === 'user' && p.admin && p.scope === undefined);
}

/** The tree path a topic names, as element names from the root, or undefined if it cannot name one. */
function chainOf(levels: string[]): string[] | undefined {
  return levels.every(isTagName) ? ['data', ...levels] : undefined;
}

/** Whether `p` may publish to `topic`: it may PUT the element of that path. */
export function mayPublish(p: Principal, topic: string): boolean {
  if (unrestricted(p)) return true;
  const chain = chainOf(topic.split('/'));
  return chain !== undefined && rightsAt(p, chain).has('put');
}

/** Whether `p` may subscribe to `filter`: it may read the subtree above its first wildcard. */
export function maySubscribe(p: Principal, filter: string): boolean {
  if (unrestricted(p)) return true;
  const levels = filter.split('/');
  const wild = levels.findIndex((l) => l === '+' || l === '#');
  const fixed = wild === -1 ? levels : levels.slice(0, wild);
  if (fixed.length === 0) return false;
  const chain = chainOf(fixed);
  return chain !== undefined && rightsAt(p, chain).has('get');
}

/**
 * Whether a message on `topic` may reach `p` (checked for every message, as REST checks every read): it may read
 * that path, and no level is a secret's name (passwords, tokens), which only an admin reading raw is shown.
 */
export function mayReceive(p: Principal, topic: string): boolean {
  if (unrestricted(p)) return true;
  const levels = topic.split('/');
  const chain = chainOf(levels);
  return chain !== undefined && !levels.some(isSecretName) && rightsAt(p, chain).has('get');
}
