/**
 * The pieces of an action's run on their own, on fake timers: its interval, its minInterval window, the loop
 * check of a chain of actions, and what one run calls for the node that triggered it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActiveAction } from '../../src/actions/active.ts';
import { loopProblem } from '../../src/actions/causes.ts';
import { parseAction } from '../../src/actions/definition.ts';
import { prepareCall } from '../../src/actions/prepare.ts';
import { MinIntervalGate, scheduleAction } from '../../src/actions/schedule.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { Tree } from '../../src/tree/tree.ts';

const DAY_MS = 86_400_000;
const action = (inner: string) =>
  parseAction(parseXml(`<data><actions><action>${inner}</action></actions></data>`).documentElement!.firstChild!.firstChild as Element);

describe("an action's interval", () => {
  it('runs at once, then each interval after, until stopped', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let runs = 0;
    const schedule = scheduleAction({ interval: 60 }, () => runs++);
    t.mock.timers.tick(0);
    assert.equal(runs, 1);
    t.mock.timers.tick(59_999);
    assert.equal(runs, 1);
    t.mock.timers.tick(1);
    assert.equal(runs, 2);
    schedule.stop();
    t.mock.timers.tick(600_000);
    assert.equal(runs, 2);
  });

  it('waits out an interval longer than a timer holds in pieces a timer holds (a longer one fires at once)', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const delays: number[] = [];
    const fake = globalThis.setTimeout;
    t.mock.method(globalThis, 'setTimeout', ((fn: () => void, ms: number) => (delays.push(ms), fake(fn, ms))) as typeof setTimeout);
    let runs = 0;
    const schedule = scheduleAction({ interval: 30 * 86_400 }, () => runs++);
    t.mock.timers.tick(0);
    const longest = 2 ** 31 - 1; // about 24.8 days
    t.mock.timers.tick(longest);
    assert.equal(runs, 1);
    t.mock.timers.tick(30 * DAY_MS - longest - 1);
    assert.equal(runs, 1);
    t.mock.timers.tick(1);
    assert.equal(runs, 2);
    assert.ok(Math.max(...delays) <= longest, `no timer longer than ${longest} ms: ${delays}`);
    schedule.stop();
  });
});

describe('a minInterval window', () => {
  it('lets the first trigger through, defers the later ones to its end, and runs only the latest', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const gate = new MinIntervalGate<string>(10_000);
    const retried: string[] = [];
    const retry = (w: string) => {
      retried.push(w);
      gate.admit(w, retry);
    };
    assert.equal(gate.admit('first', retry), true);
    assert.equal(gate.lastRun, 1_000_000);
    t.mock.timers.tick(2_000);
    assert.equal(gate.admit('second', retry), false);
    assert.equal(gate.admit('third', retry), false);
    t.mock.timers.tick(7_999);
    assert.deepEqual(retried, []);
    t.mock.timers.tick(1);
    assert.deepEqual(retried, ['third'], 'deferred, not dropped: the latest at the end of the window');
    assert.equal(gate.lastRun, 1_010_000);
  });

  it('drops what waits when the action stops', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const gate = new MinIntervalGate<string>(10_000);
    let retried = 0;
    gate.admit('first', () => retried++);
    gate.admit('second', () => retried++);
    gate.stop();
    t.mock.timers.tick(20_000);
    assert.equal(retried, 0);
  });
});

describe('a chain of actions', () => {
  const ping = new ActiveAction(action('<name>ping</name><url>/x</url>'));
  const pong = new ActiveAction(action('<name>pong</name><url>/y</url>'));

  it('may go on while no action comes back and it is short', () => {
    assert.equal(loopProblem([], ping), undefined);
    assert.equal(loopProblem([pong], ping), undefined);
  });

  it('is stopped when an action would run again, naming the loop', () => {
    assert.equal(loopProblem([ping, pong], ping), 'stopped a loop of actions triggering each other: ping → pong → ping');
  });

  it('is stopped at ten actions', () => {
    const chain = Array.from({ length: 10 }, (_, i) => new ActiveAction(action(`<name>a${i}</name><url>/x</url>`)));
    assert.match(loopProblem(chain, ping)!, /^stopped a chain of 11 actions triggering each other: a0 → a1 → .* → a9 → ping$/);
    assert.equal(loopProblem(chain.slice(1), ping), undefined);
  });
});

describe('what a run calls', () => {
  const tree = new Tree(parseXml('<data><sensors><t unit="C">21.5</t><t>30</t></sensors></data>'));
  const [first, second] = tree.select('/data/sensors/t');

  it("fills in the url and data from the triggering node, percent-encoding the url's values", () => {
    const def = action('<url>/data/log?v={.}&amp;u={@unit}</url><data>{name(..)}: {. * 2}</data>');
    assert.deepEqual(prepareCall(def, tree, first!, undefined), { url: '/data/log?v=21.5&u=C', data: 'sensors: 43' });
  });

  it('calls nothing where its condition does not hold', () => {
    const def = action('<condition>. &gt; 25</condition><url>/x</url>');
    assert.equal(prepareCall(def, tree, first!, undefined), undefined);
    assert.deepEqual(prepareCall(def, tree, second!, undefined), { url: '/x', data: undefined });
  });

  it('throws for an expression that cannot be evaluated, for the run to record', () => {
    assert.throws(() => prepareCall(action('<url>/x?v={nosuchfunction()}</url>'), tree, first!, undefined));
  });
});
