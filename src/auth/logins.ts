/**
 * Checking a password (HTTP Basic, the log-in form) so that it tells an attacker nothing and cannot be
 * guessed at speed:
 * - an unknown user name costs the same scrypt as a known one (it is checked against a decoy hash), so the
 *   answer's timing does not say which names exist;
 * - failures are counted per user name and per client address (rate-limiter-flexible keeps the counts and
 *   the waits): after FREE_FAILURES, each further failure makes the next attempt for that name or from that
 *   address wait twice as long, up to MAX_WAIT_S. A waiting attempt is answered 429 with Retry-After at once,
 *   before any scrypt, so a flood cannot buy CPU either. A success clears its name's and address's counts;
 * - every failure is logged and recorded as an access failure.
 * A password that matched in the last few minutes is let through without any of this (passwords.ts), so a
 * client that keeps sending good Basic credentials is never slowed down by someone guessing its name.
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { RateLimiterMemory as MemoryLimiter, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError, UnauthorizedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AccessFailures } from './failures.ts';
import { decoyHash, recentlyVerified, verifyPassword } from './passwords.ts';
import type { UserRecord } from './users.ts';

// The package's index loads every store it supports (Redis, Mongo, SQL…: 82 files, about 8 MB resident);
// only the in-memory one is used, so only its file is loaded.
const RateLimiterMemory = createRequire(import.meta.url)('rate-limiter-flexible/lib/RateLimiterMemory.js') as typeof MemoryLimiter;

export const FREE_FAILURES = 5;
export const MAX_WAIT_S = 15 * 60;
/** Failures are forgotten this long after the first of a run of them. */
const WINDOW_S = 24 * 3600;

export function clientAddress(req: IncomingMessage): string {
  return req.socket?.remoteAddress ?? 'unknown';
}

function waitingMs(res: RateLimiterRes | null): number {
  return res && res.consumedPoints > 1 ? res.msBeforeNext : 0;
}

export class LoginGuard {
  private readonly failures = new RateLimiterMemory({
    keyPrefix: 'igor-login-failures',
    points: Number.MAX_SAFE_INTEGER,
    duration: WINDOW_S,
  });
  private readonly waits = new RateLimiterMemory({ keyPrefix: 'igor-login-wait', points: 1, duration: 1 });

  constructor(
    private readonly record: AccessFailures | undefined,
    private readonly logger: Logger | undefined,
    /** The KDF check (tests count its calls). */
    private readonly verify: (password: string, stored: string, user: string) => true | Promise<boolean> = verifyPassword,
  ) {}

  private keys(name: string, address: string): string[] {
    return [`user:${name}`, `address:${address}`];
  }

  /**
   * Whether `password` is `user`'s (undefined: no such user, or one without a password). Throws 429 when this
   * name or address must wait, 401 (with `what` to say) when the password is wrong.
   */
  async check(name: string, user: UserRecord | undefined, password: string, address: string, what: string): Promise<void> {
    if (user?.passwordHash && recentlyVerified(password, user.passwordHash, name)) return;
    const waits = await Promise.all(this.keys(name, address).map((k) => this.waits.get(k)));
    const wait = Math.max(...waits.map(waitingMs));
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new TooManyRequestsError(`too many failed log-ins for this user name or from this address; try again in ${seconds} s`, seconds);
    }
    const good = (await this.verify(password, user?.passwordHash ?? (await decoyHash()), name)) && !!user?.passwordHash;
    if (good) {
      await Promise.all(this.keys(name, address).flatMap((k) => [this.failures.delete(k), this.waits.delete(k)]));
      return;
    }
    for (const key of this.keys(name, address)) {
      const { consumedPoints } = await this.failures.penalty(key, 1);
      if (consumedPoints > FREE_FAILURES) await this.waits.block(key, Math.min(2 ** (consumedPoints - FREE_FAILURES - 1), MAX_WAIT_S));
    }
    this.logger?.warn({ user: name, address, via: what }, 'failed log-in');
    this.record?.record({ kind: 'anonymous' }, 'login', `${what} as ${name} from ${address}`, {
      requestPath: what === 'HTTP Basic' ? undefined : '/login',
      client: address,
    });
    throw new UnauthorizedError('wrong user name or password');
  }
}
