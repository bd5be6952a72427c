/**
 * Password hashes: scrypt (node:crypto), stored as `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url); in a
 * database directory adopted from Igor, passlib's `$pbkdf2-sha256$29000$<salt>$<hash>` (what Igor writes, so
 * Igor can still check them when its owner goes back; users.ts decides which). Both are read.
 * A verification costs tens of milliseconds on purpose; successful ones are remembered for a few minutes
 * (keyed by a hash of user, password and stored hash), so HTTP Basic clients do not pay it per request.
 */
import { hash, pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const LN = 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function scryptAsync(password: string, salt: Buffer, cost: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** cost, r, p, maxmem: 256 * 2 ** cost * r };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** How a new password is stored: ours, or as Igor's passlib stores it (pbkdf2_sha256 with its default rounds). */
export type PasswordHash = 'scrypt' | 'pbkdf2-sha256';

/** passlib 1.7's default rounds and salt size for pbkdf2_sha256, which is what Igor's setUserPassword writes. */
const PBKDF2_ROUNDS = 29_000;
const PBKDF2_SALT_BYTES = 16;

function pbkdf2Async(password: string, salt: Buffer, rounds: number, length: number): Promise<Buffer> {
  // As passlib does: the password's UTF-8, not normalised.
  return new Promise((resolve, reject) => pbkdf2(password, salt, rounds, length, 'sha256', (err, k) => (err ? reject(err) : resolve(k))));
}

export async function hashPassword(password: string, kind: PasswordHash = 'scrypt'): Promise<string> {
  if (kind === 'pbkdf2-sha256') {
    const salt = randomBytes(PBKDF2_SALT_BYTES);
    const key = await pbkdf2Async(password, salt, PBKDF2_ROUNDS, 32);
    return `$pbkdf2-sha256$${PBKDF2_ROUNDS}$${toAb64(salt)}$${toAb64(key)}`;
  }
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, LN, R, P);
  return `$scrypt$ln=${LN},r=${R},p=${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const remembered = new Map<string, number>();
const REMEMBER_MS = 5 * 60 * 1000;
const REMEMBER_MAX = 1000;
/** Verifications under way, so 50 clients arriving at once with the same password cost one scrypt. */
const inFlight = new Map<string, Promise<boolean>>();
/** At most this many scrypt computations at a time (each takes 32 MiB): the rest wait their turn. */
const PARALLEL = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function cacheKeyOf(password: string, stored: string, user: string): string {
  return hash('sha256', `${user}\0${password}\0${stored}`, 'base64');
}

/** The password matched this stored hash in the last few minutes: no KDF, no tick, no throttling needed. */
export function recentlyVerified(password: string, stored: string, user = ''): boolean {
  const until = remembered.get(cacheKeyOf(password, stored, user));
  return until !== undefined && until > Date.now();
}

/**
 * Whether the password matches the stored hash: `true` at once (no promise) when it matched in the last few
 * minutes, so the clients that send Basic credentials on every request do not pay for a KDF, or a tick, each time.
 */
export function verifyPassword(password: string, stored: string, user = ''): true | Promise<boolean> {
  if (recentlyVerified(password, stored, user)) return true;
  const cacheKey = cacheKeyOf(password, stored, user);
  let pending = inFlight.get(cacheKey);
  if (!pending) {
    pending = limited(() => verifySlowly(password, stored, cacheKey)).finally(() => inFlight.delete(cacheKey));
    inFlight.set(cacheKey, pending);
  }
  return pending;
}

/** passlib's "adapted base64" (Igor's hashes): '.' for '+', no padding. */
function ab64(s: string): Buffer {
  return Buffer.from(s.replace(/\./g, '+'), 'base64');
}

function toAb64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');
}

/**
 * The key the stored hash names, computed from the password: our scrypt, or an Igor database's passlib
 * `$pbkdf2-sha256$ROUNDS$SALT$HASH`, so that users keep their passwords when a database comes over from Igor
 * (what new passwords are stored as there is users.ts's choice).
 */
async function keysOf(password: string, stored: string): Promise<{ key: Buffer; expected: Buffer } | undefined> {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(stored);
  if (m) {
    const [, ln, r, p, salt, hash] = m;
    if (Number(ln) > 20) return undefined; // refuse hashes that would take minutes: not ours
    return {
      key: await scryptAsync(password, Buffer.from(salt!, 'base64url'), Number(ln), Number(r), Number(p)),
      expected: Buffer.from(hash!, 'base64url'),
    };
  }
  const igor = /^\$pbkdf2-sha256\$(\d+)\$([\w./]+)\$([\w./]+)$/.exec(stored);
  if (igor) {
    const [, rounds, salt, hash] = igor;
    if (Number(rounds) > 5_000_000 || Number(rounds) < 1) return undefined;
    const expected = ab64(hash!);
    return { key: await pbkdf2Async(password, ab64(salt!), Number(rounds), expected.length), expected };
  }
  return undefined;
}

async function verifySlowly(password: string, stored: string, cacheKey: string): Promise<boolean> {
  const keys = await keysOf(password, stored);
  if (!keys) return false;
  const { key, expected } = keys;
  const ok = key.length === expected.length && timingSafeEqual(key, expected);
  if (ok) {
    if (remembered.size >= REMEMBER_MAX) remembered.delete(remembered.keys().next().value!);
    remembered.set(cacheKey, Date.now() + REMEMBER_MS);
  }
  return ok;
}

/** A password people can type: 20 characters from an alphabet without look-alikes (~110 bits). */
export function randomPassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(randomBytes(20), (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * A hash of a random password nobody knows, in the current format: what a log-in for an unknown user (or
 * one without a password) is checked against, so that it costs the same as one for a known user.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(32).toString('base64url'));
  return decoy;
}
