/**
 * Browser sessions: a signed cookie `igor_session` (user, expiry, HMAC-SHA256 with a key kept in the database
 * directory, so sessions survive restarts). The CSRF token that goes with a session is csrf.ts's.
 */
import { randomBytes } from 'node:crypto';
import { sameText, sign } from './signing.ts';
import { chmod, readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { writeFileDurably } from '../store/files.ts';

export const SESSION_COOKIE = 'igor_session';
export const CSRF_COOKIE = 'igor_csrf';
export const LIFETIME_S = 30 * 24 * 3600;

/**
 * The directory's secret key, made on first use (readable by the owner only), written durably. A key file
 * that is missing, empty or short (a power cut before it reached the disk, a damaged file) is never used: a
 * new key is made, which ends the sessions signed with the old one.
 */
export async function loadSessionKey(dir: string, onReplaced?: (why: string) => void): Promise<Buffer> {
  const path = join(dir, 'secret.key');
  const text = await readFile(path, 'utf8').then(
    (t) => t.trim(),
    () => undefined,
  );
  if (text !== undefined && /^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (text !== undefined)
    onReplaced?.(`${path} holds no valid key (${text.length} characters); a new one was made, so every browser must log in again`);
  const key = randomBytes(32);
  await writeFileDurably(path, key.toString('hex') + '\n', 0o600);
  await chmod(path, 0o600);
  return key;
}

export function parseCookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) {
      try {
        out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        // a malformed cookie is no cookie
      }
    }
  }
  return out;
}

/** A new session for `user`: the cookie's value and its Set-Cookie header. */
export function makeSession(key: Buffer, user: string, secure: boolean, now = Date.now()): { value: string; header: string } {
  const payload = `${Buffer.from(user).toString('base64url')}.${Math.floor(now / 1000) + LIFETIME_S}`;
  const value = `${payload}.${sign(key, payload)}`;
  return { value, header: cookie(SESSION_COOKIE, value, { maxAge: LIFETIME_S, httpOnly: true, secure }) };
}

/** The user a session cookie names, if it is genuine and not expired. */
export function sessionUser(key: Buffer, value: string | undefined, now = Date.now()): string | undefined {
  if (!value) return undefined;
  const [user, expires, mac] = value.split('.');
  if (!user || !expires || !mac || !sameText(mac, sign(key, `${user}.${expires}`))) return undefined;
  if (Number(expires) * 1000 < now) return undefined;
  return Buffer.from(user, 'base64url').toString('utf8');
}

export function clearSessionCookie(secure: boolean): string {
  return cookie(SESSION_COOKIE, '', { maxAge: 0, httpOnly: true, secure });
}

/** The log-in form's token, before there is a session: random, in the `igor_csrf` cookie of the form's page. */
export function makeLoginFormCookie(secure: boolean): string {
  return cookie(CSRF_COOKIE, randomBytes(18).toString('base64url'), { maxAge: 3600, httpOnly: false, secure, sameSite: 'Strict' });
}

export function cookie(name: string, value: string, o: { maxAge: number; httpOnly: boolean; secure: boolean; sameSite?: string }): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    `Max-Age=${o.maxAge}`,
    `SameSite=${o.sameSite ?? 'Lax'}`,
    ...(o.httpOnly ? ['HttpOnly'] : []),
    ...(o.secure ? ['Secure'] : []),
  ].join('; ');
}
