/**
 * A plugin's host.every: its work on an interval or a cron schedule (actions' cron, actions/cron.ts), by the clock
 * the host is given (the system's, or a test's fake one). Runs go through the plugin's background work, so
 * /internal/flush waits for them and what they throw is logged. The schedules belong to the plugin's host:
 * dispose() ends them all when the plugin stops.
 */
import { cronProblem, scheduleCron } from '../actions/cron.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Subscription } from '../plugin-api.ts';
import type { BackgroundWork } from '../work.ts';

type Handler = () => void | Promise<void>;

/** As actions' <interval>: less than a second apart is no schedule but a busy loop. */
const SHORTEST_INTERVAL = 1;

export interface PluginSchedule {
  every(when: number | string, handler: Handler): Subscription;
  /** Ends every schedule: the plugin stops. */
  dispose(): void;
}

export function pluginSchedule(clock: Clock, background: BackgroundWork, log: Logger): PluginSchedule {
  const stops = new Set<() => void>();

  /** One run, unless the last is still going; `then` once it has ended (also when it failed). */
  function runner(what: string, handler: Handler) {
    let running = false;
    return (then?: () => void): void => {
      if (running) {
        log.warn({ schedule: what }, `skipped a run of ${what}: the last one is still going`);
        return;
      }
      running = true;
      background.run(what, async () => {
        try {
          await handler();
        } catch (err) {
          log.error({ err, schedule: what }, `${what} failed`);
        } finally {
          running = false;
          then?.();
        }
      });
    };
  }

  function interval(seconds: number, handler: Handler): () => void {
    const run = runner(`every ${seconds} s`, handler);
    let stopped = false;
    let cancel = () => {};
    const arm = () => {
      if (!stopped) cancel = clock.after(seconds * 1000, () => run(arm));
    };
    arm();
    return () => {
      stopped = true;
      cancel();
    };
  }

  function cron(expression: string, handler: Handler): () => void {
    const problem = cronProblem(expression, new Date(clock.now()));
    if (problem) throw new Error(`every(${JSON.stringify(expression)}): ${problem}`);
    const run = runner(`cron ${expression}`, handler);
    const task = scheduleCron(expression, () => run(), clock);
    return () => task.stop();
  }

  return {
    every(when, handler) {
      if (typeof when === 'number' && !(Number.isFinite(when) && when >= SHORTEST_INTERVAL))
        throw new Error(`every(${when}): an interval is a number of seconds of at least ${SHORTEST_INTERVAL}`);
      if (typeof when !== 'number' && typeof when !== 'string') throw new Error('every() takes seconds or a cron expression');
      const stop = typeof when === 'number' ? interval(when, handler) : cron(when, handler);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        stops.delete(end);
        stop();
      };
      stops.add(end);
      return { stop: end };
    },
    dispose() {
      for (const stop of [...stops]) stop();
    },
  };
}
