/**
 * When an action runs by the clock: its <interval> (first at once, then that long after each run) and its
 * <cron>, and the <minInterval> window inside which a trigger waits for the window's end instead of running.
 * Every wait is counted in the timers' own time, reading no clock, so that a test's fake timers drive it as
 * real ones do; the window reads Date.now(), which a test's fake Date sets.
 */
import { SYSTEM_CLOCK } from '../clock.ts';
import { scheduleCron } from './cron.ts';
import type { ActionDefinition } from './definition.ts';

export interface Stoppable {
  stop(): void;
}

/** Runs `fire` on the action's interval and cron, until stopped; nothing for an action with neither. */
export function scheduleAction(def: Pick<ActionDefinition, 'interval' | 'cron'>, fire: () => void): Stoppable {
  const parts: Stoppable[] = [];
  if (def.interval !== undefined) parts.push(every(def.interval, fire));
  if (def.cron !== undefined) parts.push(scheduleCron(def.cron, fire));
  return { stop: () => parts.forEach((p) => p.stop()) };
}

/**
 * First run now, then `interval` seconds after each run: a re-armed timer, not clock-aligned. A wait longer than
 * a timer holds (an <interval> of 30 days once ran its action a thousand times a second) is the clock's to cut.
 */
function every(interval: number, fire: () => void): Stoppable {
  let stopped = false;
  let cancel = () => {};
  const tick = () => {
    if (stopped) return;
    fire();
    cancel = SYSTEM_CLOCK.after(interval * 1000, tick);
  };
  cancel = SYSTEM_CLOCK.after(0, tick);
  return {
    stop: () => {
      stopped = true;
      cancel();
    },
  };
}

/**
 * An action's <minInterval>: a trigger inside the window after the last run is deferred, not dropped — the
 * latest one waiting runs when the window closes.
 */
export class MinIntervalGate<T> {
  /** When the last run was let through (ms since 1970), -Infinity before the first. */
  lastRun = -Infinity;
  private deferred: { cancel: () => void; waiting: T } | undefined;

  constructor(private readonly minIntervalMs: number) {}

  /** True (counting it as a run) when a trigger may run now; else `waiting` is kept and given to `retry` at the window's end. */
  admit(waiting: T, retry: (waiting: T) => void): boolean {
    const now = Date.now();
    const windowEnd = this.lastRun + this.minIntervalMs;
    if (now >= windowEnd) {
      this.lastRun = now;
      return true;
    }
    if (this.deferred) this.deferred.waiting = waiting;
    else {
      const cancel = SYSTEM_CLOCK.after(windowEnd - now, () => {
        const { waiting: latest } = this.deferred!;
        this.deferred = undefined;
        retry(latest);
      });
      this.deferred = { cancel, waiting };
    }
    return false;
  }

  stop(): void {
    this.deferred?.cancel();
  }
}
