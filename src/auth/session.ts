/**
 * Browser sessions: a signed cookie `igor_session` (user, expiry, HMAC-SHA256 with a key kept in the database
 * directory, so sessions survive restarts), and a CSRF token: the cookie `igor_csrf`, which pages send back
 * in the `X-CSRF-Token` header or a `_csrf` field on every request that changes something.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';

export const SESSION_COOKIE = 'igor_session';
export const CSRF_COOKIE = 'igor_csrf';
const LIFETIME_S = 30 * 24 * 3600;

/** The directory's secret key, made on first use (readable by the owner only). */
export async function loadSessionKey(dir: string): Promise<Buffer> {
  const path = join(dir, 'secret.key');
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
  } catch {
    const key = randomBytes(32);
    await writeFile(path, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' }).catch(() => {});
    await chmod(path, 0o600);
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
  }
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

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function makeSessionCookie(key: Buffer, user: string, secure: boolean, now = Date.now()): string {
  const payload = `${Buffer.from(user).toString('base64url')}.${Math.floor(now / 1000) + LIFETIME_S}`;
  return cookie(SESSION_COOKIE, `${payload}.${sign(key, payload)}`, { maxAge: LIFETIME_S, httpOnly: true, secure });
}

/** The user a session cookie names, if it is genuine and not expired. */
export function sessionUser(key: Buffer, value: string | undefined, now = Date.now()): string | undefined {
  if (!value) return undefined;
  const [user, expires, mac] = value.split('.');
  if (!user || !expires || !mac || !equal(mac, sign(key, `${user}.${expires}`))) return undefined;
  if (Number(expires) * 1000 < now) return undefined;
  return Buffer.from(user, 'base64url').toString('utf8');
}

export function clearSessionCookie(secure: boolean): string {
  return cookie(SESSION_COOKIE, '', { maxAge: 0, httpOnly: true, secure });
}

export function makeCsrfCookie(secure: boolean): { value: string; header: string } {
  const value = randomBytes(18).toString('base64url');
  return { value, header: cookie(CSRF_COOKIE, value, { maxAge: LIFETIME_S, httpOnly: false, secure, sameSite: 'Strict' }) };
}

/** The request carries the CSRF token of its cookie (header X-CSRF-Token, or `_csrf` in the query or form). */
export function csrfOk(req: IncomingMessage, formValue?: string): boolean {
  const expected = parseCookies(req)[CSRF_COOKIE];
  const given = (req.headers['x-csrf-token'] as string | undefined) ?? formValue;
  return !!expected && !!given && equal(expected, given);
}

function cookie(name: string, value: string, o: { maxAge: number; httpOnly: boolean; secure: boolean; sameSite?: string }): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    `Max-Age=${o.maxAge}`,
    `SameSite=${o.sameSite ?? 'Lax'}`,
    ...(o.httpOnly ? ['HttpOnly'] : []),
    ...(o.secure ? ['Secure'] : []),
  ].join('; ');
}
