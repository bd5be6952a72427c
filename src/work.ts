/**
 * Everything that queues work to run later (the journal, action runners, plugins' background jobs)
 * registers here, so `/internal/flush` can wait until all of it is done — including work that other
 * work queued meanwhile — and tests can be deterministic without sleeping.
 */
import { TimeoutError } from './errors.ts';

export interface WorkSource {
  name: string;
  /** True when nothing is queued or running. */
  idle(): boolean;
  /** Resolves when the source is (momentarily) idle. */
  whenIdle(): Promise<void>;
}

export class WorkTracker {
  private readonly sources = new Set<WorkSource>();

  register(source: WorkSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** Waits until every source is idle at the same moment. */
  async flush(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = [...this.sources].filter((s) => !s.idle());
      if (busy.length === 0) return;
      if (Date.now() > deadline) throw new TimeoutError(`still busy after ${timeoutMs} ms: ${busy.map((s) => s.name).join(', ')}`);
      // Never wait past the deadline: a source that stays busy must give a 504 naming it, not a hung request.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(busy.map((s) => s.whenIdle())),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1))),
      ]);
      clearTimeout(timer);
      // Let work queued by what just finished get started before looking again.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/**
 * Work started after its request was answered (a plugin's webhook work, a queued /internal command): counted, so
 * that flush waits for it, and its errors handed to `failed` instead of being lost.
 */
export class BackgroundWork implements WorkSource {
  private running = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly failed: (what: string, err: unknown) => void,
  ) {}

  run(what: string, work: () => Promise<unknown>): void {
    this.running++;
    void Promise.resolve()
      .then(work)
      .catch((err: unknown) => this.failed(what, err))
      .finally(() => {
        if (--this.running === 0) for (const wake of this.waiters.splice(0)) wake();
      });
  }

  idle(): boolean {
    return this.running === 0;
  }

  whenIdle(): Promise<void> {
    return this.idle() ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
