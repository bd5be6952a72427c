/**
 * The pieces of _fitbit's fetch, each on its own: what is asked of Google for each kind of data, how stored
 * values follow a person's change of units, what a legacy fetch calls with which arguments, and how a rate
 * limit pauses and retries — without a server; googleHealth.test.ts and fitbit.test.ts run them together.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { JsonObject } from '../../../src/plugin-api.ts';
import { KINDS } from '../../../plugins/_fitbit/dataTypes.ts';
import { byTime } from '../../../plugins/_fitbit/googleSync.ts';
import { queriesFor, type Window } from '../../../plugins/_fitbit/googleQueries.ts';
import { legacyRequest } from '../../../plugins/_fitbit/legacySync.ts';
import { RateLimits } from '../../../plugins/_fitbit/rateLimit.ts';
import { conversionBetween, unitChanges } from '../../../plugins/_fitbit/storedUnits.ts';

const kind = (name: string) => KINDS.find((k) => k.name === name)!;
const TODAY = Date.parse('2024-03-10');
const first: Window = { since: undefined, from: '2024-02-10', today: TODAY };

describe('what _fitbit asks Google for', () => {
  it('rolls up steps from the start of the backfill to the end of today, the first time', () => {
    assert.deepEqual(queriesFor(kind('steps'), first), [{ rollup: { start: '2024-02-10', end: '2024-03-11' } }]);
  });

  it('rolls up from the last day stored afterwards, in pieces no longer than Google takes', () => {
    // Calories are rolled up at most 14 days at a time.
    const queries = queriesFor(kind('calories'), { ...first, since: '2024-02-20' });
    assert.deepEqual(queries, [
      { rollup: { start: '2024-02-20', end: '2024-03-05' } },
      { rollup: { start: '2024-03-05', end: '2024-03-11' } },
    ]);
  });

  it('asks for samples after the last one stored, or from the first civil day of the backfill', () => {
    assert.deepEqual(queriesFor(kind('weight'), first), [{ filter: 'weight.sample_time.civil_time >= "2024-02-10"', pageSize: 1000 }]);
    assert.deepEqual(queriesFor(kind('weight'), { ...first, since: '2024-03-01T07:00:00Z' }), [
      { filter: 'weight.sample_time.physical_time >= "2024-03-01T07:00:00Z"', pageSize: 1000 },
    ]);
  });

  it('asks for sleep sessions by their end, 25 a page', () => {
    assert.deepEqual(queriesFor(kind('sleep'), { ...first, since: '2024-03-09T06:00:00Z' }), [
      { filter: 'sleep.interval.end_time >= "2024-03-09T06:00:00Z"', pageSize: 25 },
    ]);
  });

  it('asks only for the interval a notification names', () => {
    const narrow = { start: '2024-03-09T22:00:00Z', end: '2024-03-10T02:00:00Z' };
    assert.deepEqual(queriesFor(kind('weight'), { ...first, narrow: { kind: kind('weight'), ...narrow } }), [
      {
        filter: 'weight.sample_time.physical_time >= "2024-03-09T22:00:00Z" AND weight.sample_time.physical_time < "2024-03-10T02:00:00Z"',
        pageSize: 1000,
      },
    ]);
    assert.deepEqual(queriesFor(kind('steps'), { ...first, narrow: { kind: kind('steps'), ...narrow } }), [
      { rollup: { start: '2024-03-09', end: '2024-03-11' } },
    ]);
    assert.deepEqual(queriesFor(kind('spo2'), { ...first, narrow: { kind: kind('spo2'), ...narrow } }), [
      { filter: 'daily_oxygen_saturation.date >= "2024-03-09" AND daily_oxygen_saturation.date < "2024-03-11"', pageSize: 1000 },
    ]);
  });

  it('stores a series oldest first, whichever time field its entries have', () => {
    const entries: JsonObject[] = [{ dateTime: '2024-03-02' }, { date: '2024-03-01', time: '23:00' }, { startTime: '2024-03-01T08:00' }];
    assert.deepEqual(entries.sort(byTime), [
      { startTime: '2024-03-01T08:00' },
      { date: '2024-03-01', time: '23:00' },
      { dateTime: '2024-03-02' },
    ]);
  });
});

describe('stored values when a person changes units', () => {
  it('converts every number of the field in place and records the new unit', () => {
    const base = '/data/sensors/fitbit/jack';
    const changes = unitChanges(base, 'weight', 'weight', 'lb', conversionBetween('kg', 'lb')!, [
      { weight: 80, dateTime: 'a' },
      { weight: 'not a number' },
      { weight: 72.57 },
    ]);
    assert.deepEqual(changes, [
      { op: 'put', xpath: `${base}/weight[1]/weight`, value: 176.4 },
      { op: 'put', xpath: `${base}/weight[3]/weight`, value: 160 },
      { op: 'put', xpath: `${base}/units/weight/weight`, value: 'lb' },
    ]);
  });

  it('rounds to the places of the unit converted to', () => {
    const value = (was: string, unit: string, n: number) => {
      const [change] = unitChanges('/b', 'e', 'f', unit, conversionBetween(was, unit)!, [{ f: n }]);
      return change?.op === 'put' ? change.value : undefined;
    };
    assert.equal(value('mi', 'km', 3.1), 4.989);
    assert.equal(value('lb', 'kg', 176.4), 80.01);
    assert.equal(value('kg', 'lb', 80.01), 176.4);
  });

  it('converts nothing stored in the unit wanted, or in none', () => {
    assert.equal(conversionBetween('kg', 'kg'), undefined);
    assert.equal(conversionBetween('', 'lb'), undefined);
    assert.equal(conversionBetween('kg', 'mi'), undefined);
  });
});

describe('a legacy fetch', () => {
  it('takes its arguments from the entry, overridden by the call, never the token or the plugin state', () => {
    const entry = { token: { access_token: 'x' }, date: '2024-03-01', period: '7d', _sync: 'x', _healthUserId: 'h', units: 'metric' };
    assert.deepEqual(legacyRequest(entry, { period: '1m', user: 'jack', _csrf: 't' }), {
      methods: ['get_bodyweight'],
      args: { date: '2024-03-01', period: '1m' },
    });
  });

  it('calls the methods the call names, else those of the entry', () => {
    assert.deepEqual(legacyRequest({ methods: 'get_sleep' }, {}).methods, ['get_sleep']);
    assert.deepEqual(legacyRequest({ methods: 'get_sleep' }, { methods: ' get_activities , get_bodyfat,' }).methods, [
      'get_activities',
      'get_bodyfat',
    ]);
  });
});

describe('rate limits', () => {
  it('pause a person for what the provider asked, retry once when it is over, and start again after a success', (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    let now = 1_000_000;
    const limits = new RateLimits(
      () => now,
      () => 1,
    );
    let retried = 0;
    const retry = async () => void retried++;
    assert.equal(limits.waiting('jack'), undefined);
    assert.equal(limits.limited('jack', 30, retry), 30);
    assert.equal(limits.limited('jack', 45, retry), 45, 'a second 429 meanwhile');
    now += 15_000;
    assert.equal(limits.waiting('jack'), 30);
    assert.equal(limits.waiting('jill'), undefined, 'only jack waits');
    mock.timers.tick(60_000);
    assert.equal(retried, 1, 'one retry, however many 429s');
    now += 30_000;
    assert.equal(limits.waiting('jack'), undefined);
    // Without Retry-After the pause doubles from a minute (no jitter at random() = 1), until a fetch goes through.
    assert.equal(limits.limited('jack', undefined, retry), 240);
    limits.cleared('jack');
    assert.equal(limits.limited('jack', undefined, retry), 60);
  });

  it('stop their retries when the plugin stops', (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    const limits = new RateLimits();
    let retried = 0;
    limits.limited('jack', 10, async () => void retried++);
    limits.stop();
    mock.timers.tick(20_000);
    assert.equal(retried, 0);
  });
});
