/**
 * The test host's clock: it stands still until the test moves it on, and then runs each timer that falls due on
 * the way at its own time, in order, waiting for the work each one starts (a plugin's host.every handler, the
 * writes it makes, the onChange handlers those set off) before the next. Hand-written rather than
 * @sinonjs/fake-timers: that one yields only to the microtask queue between timers, while a handler's writes wait
 * for the disk, so the next timer would run before the last one's work had ended.
 */
import type { Clock } from '../clock.ts';

/** The clock of a test host: host.every and the plugin's storeSeries `keep` go by it. */
export interface TestClock {
  /** Milliseconds since 1970 on this clock. */
  now(): number;
  /** Moves the clock on by `ms`, running what falls due on the way, each at its time, and waiting for its work. */
  advance(ms: number): Promise<void>;
  /** Moves the clock on to `when` (a Date, or milliseconds since 1970), as advance does. */
  advanceTo(when: Date | number): Promise<void>;
}

interface Timer {
  due: number;
  order: number;
  run: () => void;
}

/** More timers than this falling due in one advance is a schedule that re-arms itself at once: a bug to report. */
const MOST_TIMERS_PER_ADVANCE = 1_000_000;

export class FakeClock implements Clock, TestClock {
  private timers: Timer[] = [];
  private made = 0;

  constructor(
    private time: number,
    /** Waits until the work timers started has ended. */
    private readonly settle: () => Promise<void>,
  ) {}

  now(): number {
    return this.time;
  }

  after(ms: number, run: () => void): () => void {
    const timer: Timer = { due: this.time + Math.max(0, ms), order: this.made++, run };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(${ms}): the clock moves on by a number of milliseconds, never back`);
    const target = this.time + ms;
    for (let ran = 0; ; ran++) {
      const next = this.nextDue(target);
      if (!next) break;
      if (ran >= MOST_TIMERS_PER_ADVANCE) throw new Error(`more than ${MOST_TIMERS_PER_ADVANCE} timers fell due in one advance`);
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.due;
      next.run();
      await this.settle();
    }
    this.time = target;
    await this.settle();
  }

  advanceTo(when: Date | number): Promise<void> {
    return this.advance(Number(when) - this.time);
  }

  private nextDue(target: number): Timer | undefined {
    let next: Timer | undefined;
    for (const t of this.timers)
      if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.order < next.order))) next = t;
    return next;
  }
}
