/**
 * The two primitives every signed credential here uses (session cookies, CSRF tokens, plugin scripts'
 * credentials, the internal secret): an HMAC-SHA256 under a server key, and a comparison whose time does not
 * tell how much of a guess was right.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 of `payload` under `key`, as base64url. */
export function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

/** Whether two strings are equal, in time that depends on their lengths only. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
