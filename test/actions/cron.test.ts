// An action's <cron> is read by node-cron and walked by src/actions/cron.ts (node-cron's walk loads ICU's
// formatting data, 8.6 MB). The walk must agree with node-cron's own: generated expressions, generated instants
// around both of a year's clock changes, in a zone that has them.
process.env.TZ = 'Europe/Amsterdam';

import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import fc from 'fast-check';
import nodeCron from 'node-cron';
import { nextRun, parseCron, scheduleCron } from '../../src/actions/cron.ts';

/** node-cron's answer: its next run after `at`, asked through its public API with the clock set to `at`. */
function nodeCronNext(expression: string, at: Date): Date {
  const task = nodeCron.createTask(expression, () => {});
  mock.timers.enable({ apis: ['Date'], now: at });
  try {
    return task.getNextRuns(1)[0]!;
  } finally {
    mock.timers.reset();
    void task.destroy();
  }
}

const int = (lo: number, hi: number) => fc.integer({ min: lo, max: hi });
/** A cron field over lo..hi: *, a value, a range, a step, or a list of them, with the field's own tokens. */
const field = (lo: number, hi: number, extra: fc.Arbitrary<string>[] = []) => {
  const one = fc.oneof(
    fc.constant('*'),
    int(lo, hi).map(String),
    fc.tuple(int(lo, hi), int(lo, hi)).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    int(1, Math.max(1, hi - lo)).map((n) => `*/${n}`),
    fc.tuple(int(lo, hi), int(1, 10)).map(([a, n]) => `${a}/${n}`),
    ...extra,
  );
  return fc.oneof(
    { weight: 3, arbitrary: one },
    { weight: 1, arbitrary: fc.array(one, { minLength: 2, maxLength: 3 }).map((xs) => xs.join(',')) },
  );
};
const dayTokens = [fc.constant('L'), fc.constant('LW'), int(1, 31).map((d) => `${d}W`), int(0, 6).map((n) => `L-${n}`)];
const weekdayTokens = [
  fc.tuple(int(0, 7), int(1, 5)).map(([d, n]) => `${d}#${n}`),
  int(0, 7).map((d) => `${d}L`),
  fc.constantFrom('mon', 'tue-fri', 'fri,sat'),
];
const days = fc.oneof(field(1, 31), ...dayTokens);
const weekdays = fc.oneof(field(0, 7), ...weekdayTokens);
/** Both day fields restricted is the rarer shape: combinations that never happen make both walks go 100 years. */
const dayFields = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.constant('*'), fc.constant('*')) },
  { weight: 3, arbitrary: fc.tuple(days, fc.constant('*')) },
  { weight: 3, arbitrary: fc.tuple(fc.constant('*'), weekdays) },
  { weight: 1, arbitrary: fc.tuple(days, weekdays) },
);
const expression = fc
  .tuple(
    fc.option(field(0, 59), { nil: undefined }),
    field(0, 59),
    field(0, 23),
    dayFields,
    fc.oneof({ weight: 3, arbitrary: fc.constant('*') }, { weight: 1, arbitrary: field(1, 12) }),
  )
  .map(([s, m, h, [dom, dow], month]) => [...(s === undefined ? [] : [s]), m, h, dom, month, dow].join(' '))
  .filter((e) => nodeCron.validate(e));
/** Instants spread over two years, a third of them within two days of a clock change (29 March, 25 October 2026). */
const instant = fc.oneof(
  fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true }),
  fc
    .tuple(fc.constantFrom(Date.parse('2026-03-29T01:00:00Z'), Date.parse('2026-10-25T01:00:00Z')), int(-2 * 86400, 2 * 86400), int(0, 999))
    .map(([change, s, ms]) => new Date(change + s * 1000 + ms)),
);

/** Whether `at` is the second occurrence of a wall-clock time that happens twice as clocks go back. */
const repeatsWallClock = (at: Date) => {
  const hourBefore = new Date(at.getTime() - 3600_000);
  return hourBefore.getHours() === at.getHours() && hourBefore.getMinutes() === at.getMinutes();
};

describe('cron: the next run', () => {
  it('is node-cron’s, for generated expressions and instants', () => {
    let sameAnswers = 0;
    let impossible = 0;
    fc.assert(
      fc.property(expression, instant, (expr, at) => {
        let theirs: Date;
        try {
          theirs = nodeCronNext(expr, at);
        } catch {
          // Days that never come (the first Sunday among the last days of a month): neither finds a time.
          impossible++;
          assert.throws(() => nextRun(parseCron(expr), at), /no time matches/);
          return;
        }
        const ours = nextRun(parseCron(expr), at);
        if (!repeatsWallClock(theirs)) {
          assert.equal(ours.toISOString(), theirs.toISOString(), `${expr} after ${at.toISOString()}`);
          sameAnswers++;
          return;
        }
        // When clocks go back, each wall-clock time still runs once: node-cron at its second occurrence, here at
        // its first. Those whose first occurrence is already past are not run again.
        let expected = theirs;
        for (let i = 0; repeatsWallClock(expected) && i < 4000; i++) {
          const first = new Date(expected.getTime() - 3600_000);
          if (first.getTime() > at.getTime()) {
            expected = first;
            break;
          }
          expected = nodeCronNext(expr, expected);
        }
        assert.equal(ours.toISOString(), expected.toISOString(), `${expr} after ${at.toISOString()} (clocks going back)`);
      }),
      { numRuns: 1500, seed: Number(process.env.SEED ?? 20261130) },
    );
    assert.ok(sameAnswers > 1000 && impossible < 50, `compared as equal: ${sameAnswers}; days that never come: ${impossible}`);
  });

  it('skips a time that does not exist when clocks go forward, and runs a repeated one once', () => {
    const half2 = parseCron('30 2 * * *');
    // 29 March 2026: 02:00 CET becomes 03:00 CEST, so 02:30 does not happen that night.
    assert.equal(nextRun(half2, new Date('2026-03-28T23:00:00Z')).toISOString(), '2026-03-30T00:30:00.000Z');
    // 25 October 2026: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice; it runs at the first.
    const first = nextRun(half2, new Date('2026-10-24T23:00:00Z'));
    assert.equal(first.toISOString(), '2026-10-25T00:30:00.000Z');
    assert.equal(nextRun(half2, first).toISOString(), '2026-10-26T01:30:00.000Z');
  });

  it('knows the days of the L, W and # tokens', () => {
    const from = new Date('2026-11-30T12:00:00Z');
    const local = (e: string) => {
      const d = nextRun(parseCron(e), from);
      return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()} ${d.getHours()}:${String(d.getMinutes()).padStart(2, '0')}`;
    };
    assert.equal(local('0 4 * * *'), '2026-12-1 4:00');
    assert.equal(local('0 9 L * *'), '2026-12-31 9:00');
    assert.equal(local('0 9 LW 1 *'), '2027-1-29 9:00'); // 31 January 2027 is a Sunday
    assert.equal(local('0 9 1W * *'), '2026-12-1 9:00');
    assert.equal(local('0 9 1W 5 *'), '2027-5-3 9:00'); // 1 May 2027 is a Saturday: the Monday after, in May
    assert.equal(local('0 9 * * 1#2'), '2026-12-14 9:00'); // the second Monday of December
    assert.equal(local('0 9 * * 5L'), '2026-12-25 9:00'); // the last Friday
    assert.equal(local('0 0 29 2 *'), '2028-2-29 0:00');
  });
});

describe('cron: running on the clock', () => {
  /** Moves the (fake) clock on in steps, as a real one goes: each timer fires at its time, not at the end. */
  const advance = (ms: number, step = 100) => {
    for (let t = 0; t < ms; t += step) mock.timers.tick(step);
  };

  it('runs at each matching second, once, and stops when stopped', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: new Date(2026, 11, 1, 10, 0, 0, 300) });
    try {
      const runs: number[] = [];
      const task = scheduleCron('* * * * * *', () => runs.push(Date.now()));
      advance(3500);
      task.stop();
      const at = (s: number) => new Date(2026, 11, 1, 10, 0, s).getTime();
      assert.deepEqual(
        runs.map((r) => Math.floor(r / 1000) * 1000),
        [at(1), at(2), at(3)],
        'each second that begins, once',
      );
      advance(5000);
      assert.equal(runs.length, 3, 'no run after stop');
    } finally {
      mock.timers.reset();
    }
  });

  it('a timer that fires late runs the time it missed once, not twice', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: new Date(2026, 11, 1, 6, 59, 59, 500) });
    try {
      const runs: number[] = [];
      const task = scheduleCron('0 7 * * *', () => runs.push(Date.now()));
      mock.timers.tick(1800); // a busy loop: the timer due at 07:00:00 fires at 07:00:01.3
      advance(10_000);
      task.stop();
      assert.equal(runs.length, 1);
    } finally {
      mock.timers.reset();
    }
  });
});
