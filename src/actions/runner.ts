/**
 * Queues for action calls, in three lanes as in Igor: tree and internal calls one at a time in order; plugin
 * calls and external calls a few at a time each, so a slow plugin or a hanging web service never holds up the
 * others. An `aggregate` call is dropped when an identical one is already waiting.
 */
import type { WorkSource } from '../work.ts';

export type Lane = 'data' | 'plugin' | 'external';

export interface QueuedCall {
  lane: Lane;
  /** What makes two calls identical for `aggregate`. */
  signature: string;
  aggregate: boolean;
  run: () => Promise<void>;
}

const LIMITS: Record<Lane, number> = { data: 1, plugin: 4, external: 4 };

export function laneOf(url: string): Lane {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return 'external';
  if (/^\/(data|internal|action|evaluate)(\/|$|\?)/.test(url)) return 'data';
  return 'plugin';
}

export class ActionRunner implements WorkSource {
  readonly name = 'actions';
  private readonly waiting: Record<Lane, QueuedCall[]> = { data: [], plugin: [], external: [] };
  private readonly running: Record<Lane, number> = { data: 0, plugin: 0, external: 0 };
  private idleWaiters: (() => void)[] = [];

  /** Queues a call; false when it was aggregated into one already waiting. */
  enqueue(call: QueuedCall): boolean {
    const queue = this.waiting[call.lane];
    if (call.aggregate && queue.some((q) => q.signature === call.signature)) return false;
    queue.push(call);
    this.pump(call.lane);
    return true;
  }

  /** Per lane: calls waiting and calls running (for /internal/dump). */
  load(): Record<Lane, { waiting: number; running: number }> {
    const of = (l: Lane) => ({ waiting: this.waiting[l].length, running: this.running[l] });
    return { data: of('data'), plugin: of('plugin'), external: of('external') };
  }

  idle(): boolean {
    return (Object.keys(this.waiting) as Lane[]).every((l) => this.waiting[l].length === 0 && this.running[l] === 0);
  }

  whenIdle(): Promise<void> {
    return this.idle() ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(lane: Lane): void {
    while (this.running[lane] < LIMITS[lane] && this.waiting[lane].length > 0) {
      const call = this.waiting[lane].shift()!;
      this.running[lane]++;
      // run() records its own failures; nothing it does may stop the queue.
      void call
        .run()
        .catch(() => {})
        .finally(() => {
          this.running[lane]--;
          this.pump(lane);
          if (this.idle()) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}
