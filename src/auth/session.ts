/**
 * The cookies of browser sessions (`igor_session`, whose records sessions.ts keeps, and `igor_csrf`) and the
 * directory's secret key, which signs CSRF tokens and plugin scripts' credentials. The CSRF token that goes with
 * a session is csrf.ts's.
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { writeFileDurably } from '../store/files.ts';
import { SESSION_LIFETIME_S } from './sessions.ts';

export const SESSION_COOKIE = 'igor_session';
export const CSRF_COOKIE = 'igor_csrf';
export const LIFETIME_S = SESSION_LIFETIME_S;

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

/** The Set-Cookie header of a session's cookie (sessions.ts made its value). */
export function sessionCookie(value: string, secure: boolean): string {
  return cookie(SESSION_COOKIE, value, { maxAge: LIFETIME_S, httpOnly: true, secure });
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
