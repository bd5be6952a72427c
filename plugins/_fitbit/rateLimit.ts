/**
 * Slowing down after a provider's 429, per person: how long to pause (what the provider asked for, else a
 * growing pause with jitter), whether a person's fetch must still wait, and the one retry that runs by itself
 * when the pause is over. Its own clock and randomness can be given, so that a test can step through it.
 */

/** Backing off after a 429: the first pause, and the longest. */
const FIRST_PAUSE_S = 60;
const LONGEST_PAUSE_S = 3600;
/**
 * The longest Retry-After taken as said: a day (the scheduled fetches go on meanwhile). Longer is read as a day,
 * and a timer cannot wait more than 24.8 days anyway: setTimeout fires at once beyond that, which would hammer.
 */
const LONGEST_RETRY_AFTER_S = 86_400;

/**
 * The pause after the attempt-th 429 in a row: what the provider asked for (up to a day), else a doubling pause
 * from a minute, capped at an hour, with jitter (half to all of it) so that many servers do not come back at once.
 */
export function backoffSeconds(attempt: number, retryAfter?: number, random = Math.random): number {
  if (retryAfter !== undefined) return Math.min(Math.max(1, retryAfter), LONGEST_RETRY_AFTER_S);
  return Math.max(1, Math.round(Math.min(LONGEST_PAUSE_S, FIRST_PAUSE_S * 2 ** attempt) * (0.5 + random() / 2)));
}

export class RateLimits {
  /** Per person: how many 429s in a row, and until when their fetches wait. */
  private readonly pauses = new Map<string, { attempt: number; until: number }>();
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(
    // Looked up at each call, not kept: a test's fake Date.now is installed after this is made.
    private readonly now: () => number = () => Date.now(),
    private readonly random: () => number = Math.random,
  ) {}

  /** The seconds a person's fetches still wait after a 429, or undefined when they may go. */
  waiting(user: string): number | undefined {
    const pause = this.pauses.get(user);
    const now = this.now();
    return pause && pause.until > now ? Math.ceil((pause.until - now) / 1000) : undefined;
  }

  /** Another 429 for the person: the seconds to pause, after which `retry` runs by itself (once, however many 429s). */
  limited(user: string, retryAfter: number | undefined, retry: () => Promise<unknown>): number {
    const { attempt } = this.pauses.get(user) ?? { attempt: 0 };
    const seconds = backoffSeconds(attempt, retryAfter, this.random);
    this.pauses.set(user, { attempt: attempt + 1, until: this.now() + seconds * 1000 });
    if (!this.retries.has(user)) {
      const timer = setTimeout(() => {
        this.retries.delete(user);
        retry().catch(() => {}); // its outcome is recorded like any fetch's
      }, seconds * 1000);
      timer.unref();
      this.retries.set(user, timer);
    }
    return seconds;
  }

  /** A fetch went through: the next 429 starts again from the first pause. */
  cleared(user: string): void {
    this.pauses.delete(user);
  }

  stop(): void {
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }
}
