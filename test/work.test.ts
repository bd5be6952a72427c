/** WorkTracker.flush: waits for work queued meanwhile, and gives up at its deadline naming what is busy. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { TimeoutError } from '../src/errors.ts';
import { WorkTracker } from '../src/work.ts';

describe('WorkTracker.flush', () => {
  it('waits until every source is idle, including work that finishing work queued', async () => {
    const work = new WorkTracker();
    let pending = 2;
    let waiters: (() => void)[] = [];
    work.register({
      name: 'chain',
      idle: () => pending === 0,
      whenIdle: () => new Promise<void>((resolve) => waiters.push(resolve)),
    });
    const done = work.flush(5000);
    setTimeout(() => {
      pending = 1; // finished one, which queued nothing new... then the last one
      waiters.splice(0).forEach((w) => w());
      setTimeout(() => {
        pending = 0;
        waiters.splice(0).forEach((w) => w());
      }, 20);
    }, 20);
    await done;
    assert.equal(pending, 0);
    waiters = [];
  });

  it('gives up at the deadline when a source never becomes idle, and says which', async (t) => {
    t.mock.timers.enable({ apis: ['Date', 'setTimeout'] });
    const work = new WorkTracker();
    work.register({ name: 'stuck-plugin', idle: () => false, whenIdle: () => new Promise<void>(() => {}) });
    const settled: { outcome?: unknown } = {};
    const flushed = work.flush(100).then(
      () => (settled.outcome = 'resolved'),
      (err: Error) => (settled.outcome = err),
    );
    t.mock.timers.tick(99);
    await setImmediate();
    assert.deepEqual(settled, {}, 'still waiting before the deadline');
    t.mock.timers.tick(2);
    await flushed;
    const { outcome } = settled;
    assert.ok(outcome instanceof TimeoutError, String(outcome));
    assert.match(outcome.message, /still busy after 100 ms: stuck-plugin/);
  });
});
