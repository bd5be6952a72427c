/**
 * Credentials for a plugin's scripts (Igor's IGORSERVER_CREDENTIALS): HTTP Basic `-plugin-NAME:SECRET`, where
 * the secret is an HMAC of the name and an expiry under the server's session key. They carry the plugin's rights
 * only, and lapse: a script that keeps them cannot use them later. No user name can start with "-", so they
 * never stand for a user. Igor's clients (igorVar) read IGORSERVER_CREDENTIALS as --credentials as they are.
 */
import { sameText, sign } from './signing.ts';

const PREFIX = '-plugin-';

function macOf(key: Buffer, name: string, expires: number): string {
  return sign(key, `plugin:${name}:${expires}`);
}

/** USER:PASSWORD for plugin `name`, good for `lifetimeMs`. */
export function pluginCredentials(key: Buffer, name: string, lifetimeMs: number, now = Date.now()): string {
  const expires = Math.ceil((now + lifetimeMs) / 1000);
  return `${PREFIX}${name}:${expires}.${macOf(key, name, expires)}`;
}

/** The plugin these Basic credentials stand for, if they are genuine and unexpired; null if they are not; undefined if they are not plugin credentials at all. */
export function pluginOfCredentials(key: Buffer, user: string, password: string, now = Date.now()): string | null | undefined {
  if (!user.startsWith(PREFIX)) return undefined;
  const name = user.slice(PREFIX.length);
  const [expires, mac] = password.split('.', 2);
  if (!mac || !sameText(mac, macOf(key, name, Number(expires)))) return null;
  return Number(expires) * 1000 >= now ? name : null;
}
