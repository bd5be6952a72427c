/**
 * The pieces of misfit's fetching on their own: which Resource API calls a person's fetch makes, what each answer
 * is stored as, and how long Misfit's rate limit holds — without a server; misfit.test.ts runs them through one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentError } from '../../../plugins/misfit/misfitApi.ts';
import { resetSeconds } from '../../../plugins/misfit/resourceClient.ts';
import { answerOf, requestsFor } from '../../../plugins/misfit/sync.ts';

const NOW = new Date('2024-03-10T12:00:00Z');

describe("a person's fetch", () => {
  it('asks for every resource over the last week when nothing says otherwise', () => {
    const { resources, requests } = requestsFor({}, {}, NOW);
    assert.deepEqual(resources, ['profile', 'device', 'goal', 'summary', 'session', 'sleep']);
    assert.deepEqual(
      requests.map((r) => r.path),
      [
        'profile/',
        'device/',
        'activity/goals/?start_date=2024-03-04&end_date=2024-03-10',
        'activity/summary/?start_date=2024-03-04&end_date=2024-03-10&detail=true',
        'activity/sessions/?start_date=2024-03-04&end_date=2024-03-10',
        'activity/sleeps/?start_date=2024-03-04&end_date=2024-03-10',
      ],
    );
  });

  it("takes the resources and dates of the person's entry, overridden by the call", () => {
    const entry = { resources: 'goal, sleep', start_date: '2024-02-01', end_date: '2024-02-07' };
    assert.deepEqual(
      requestsFor(entry, {}, NOW).requests.map((r) => r.path),
      ['activity/goals/?start_date=2024-02-01&end_date=2024-02-07', 'activity/sleeps/?start_date=2024-02-01&end_date=2024-02-07'],
    );
    const call = requestsFor(entry, { resources: 'summary', detail: 'false', end_date: '2024-02-02' }, NOW);
    assert.deepEqual(
      call.requests.map((r) => r.path),
      ['activity/summary/?start_date=2024-02-01&end_date=2024-02-02&detail=false'],
    );
  });

  it('refuses an unknown resource or a range Misfit does not give, before any call', () => {
    assert.throws(() => requestsFor({}, { resources: 'steps' }, NOW), ArgumentError);
    assert.throws(() => requestsFor({}, { resources: 'goal', start_date: '2024-01-01', end_date: '2024-03-01' }, NOW), /at most 30 days/);
  });
});

describe('what an answer is stored as', () => {
  it('keeps a list under its stored name, and a single object of a list kind as one entry', () => {
    assert.deepEqual(answerOf('goal', 'goals', { goals: [{ id: 'a' }, { id: 'b' }] }), { goals: [{ id: 'a' }, { id: 'b' }] });
    assert.deepEqual(answerOf('session', 'sessions', { id: 's1', points: 3 }), { sessions: [{ id: 's1', points: 3 }] });
  });

  it('keeps a profile as it is, and a summary without dates as its total', () => {
    assert.deepEqual(answerOf('profile', undefined, { userId: 'u' }), { profile: { userId: 'u' } });
    assert.deepEqual(answerOf('summary', 'summary', { points: 10 }), { summaryTotal: { points: 10 } });
  });
});

describe("Misfit's rate limit", () => {
  it('holds until the time it names, at least a second, or a minute when it names none', () => {
    const now = Date.parse('2024-03-10T12:00:00Z');
    assert.equal(resetSeconds(String(now / 1000 + 90), now), 90);
    assert.equal(resetSeconds(String(now / 1000 - 5), now), 1);
    assert.equal(resetSeconds(null, now), 60);
    assert.equal(resetSeconds('soon', now), 60);
  });
});
