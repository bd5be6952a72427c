/**
 * The time and the timers that schedulers use (a plugin's host.every, cron): the system's, or the fake clock of
 * a plugin's tests (src/testing/fakeClock.ts), which moves only when a test advances it. Passed in rather than
 * read from globals, so that a test of one plugin fakes that plugin's time and nothing else in the process.
 */

export interface Clock {
  /** Milliseconds since 1970, as Date.now(). */
  now(): number;
  /** Calls `run` once `ms` have passed, however long that is; answers a function that cancels it. */
  after(ms: number, run: () => void): () => void;
}

/** The longest delay one setTimeout keeps (24.8 days): it fires after 1 ms for anything longer. */
const LONGEST_TIMER = 2 ** 31 - 1;

/**
 * The system's clock. A wait longer than a timer holds is made of several timers; it is counted in the timers'
 * own time, so a clock set back or forward meanwhile (NTP after boot) does not stretch or cut it. Timers are
 * unref'd: a schedule never keeps the process alive.
 */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  after(ms, run) {
    let remaining = Math.max(0, ms);
    let timer: NodeJS.Timeout;
    const wait = () => {
      const step = Math.min(remaining, LONGEST_TIMER);
      remaining -= step;
      timer = setTimeout(() => (remaining > 0 ? wait() : run()), step).unref();
    };
    wait();
    return () => clearTimeout(timer);
  },
};
