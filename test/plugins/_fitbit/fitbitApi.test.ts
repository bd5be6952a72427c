/** python-fitbit's URL patterns (its test vectors) and argument checks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentError, pathFor } from '../../../plugins/_fitbit/fitbitApi.ts';

describe('Fitbit URL patterns', () => {
  it('builds the body log paths of the test vectors', () => {
    assert.equal(pathFor('get_bodyweight', { base_date: '1992-05-12' }), '/user/-/body/log/weight/date/1992-05-12.json');
    assert.equal(
      pathFor('get_bodyweight', { base_date: '1992-05-12', user_id: 'BAR', end_date: '1998-12-31' }),
      '/user/BAR/body/log/weight/date/1992-05-12/1998-12-31.json',
    );
    assert.equal(
      pathFor('get_bodyweight', { base_date: '1992-05-12', user_id: 'BAR', period: '1d' }),
      '/user/BAR/body/log/weight/date/1992-05-12/1d.json',
    );
    assert.equal(pathFor('get_bodyfat', { base_date: '1992-05-12', period: '1d' }), '/user/-/body/log/fat/date/1992-05-12/1d.json');
    assert.equal(pathFor('get_bodyweight', {}, '2026-11-22'), '/user/-/body/log/weight/date/2026-11-22.json');
  });

  it('builds time series, collections, heart rate and profile paths', () => {
    assert.equal(
      pathFor('time_series', { resource: 'body/weight', period: '1d', base_date: '1992-05-12' }),
      '/user/-/body/weight/date/1992-05-12/1d.json',
    );
    assert.equal(
      pathFor('time_series', { resource: 'activities/steps', user_id: 'BAR', base_date: '1992-05-12', end_date: '1998-12-31' }),
      '/user/BAR/activities/steps/date/1992-05-12/1998-12-31.json',
    );
    assert.equal(pathFor('time_series', { resource: 'body/weight', period: '7d' }), '/user/-/body/weight/date/today/7d.json');
    assert.equal(pathFor('sleep', {}, '2026-11-22'), '/user/-/sleep/date/2026-11-22.json');
    assert.equal(pathFor('sleep', { user_id: 'USERID' }, '2026-11-22'), '/user/USERID/sleep/date/2026-11-22.json');
    assert.equal(pathFor('activities', { date: '2026-11-01' }), '/user/-/activities/date/2026-11-01.json');
    assert.equal(pathFor('foods_log_water', { date: '2026-11-01' }), '/user/-/foods/log/water/date/2026-11-01.json');
    assert.equal(pathFor('heart_rate', { date: '2026-11-01' }), '/user/-/activities/heart/date/2026-11-01/1d.json');
    assert.equal(pathFor('user_profile_get', {}), '/user/-/profile.json');
  });

  it('refuses bad arguments before anything is sent', () => {
    const bad: [string, Record<string, string>, RegExp][] = [
      ['get_bodyweight', { period: '2d' }, /period=2d is not one of/],
      ['get_bodyweight', { period: '1d', end_date: '1998-12-31' }, /not both/],
      ['time_series', { resource: 'body/weight' }, /needs period/],
      ['time_series', { period: '1d' }, /needs resource/],
      ['time_series', { resource: '../../x', period: '1d' }, /needs resource/],
      ['get_bodyweight', { base_date: '12/05/1992' }, /not a date/],
      ['sleep', { user_id: '../x' }, /not a Fitbit user id/],
      ['nonsense', {}, /unknown method nonsense; known: get_bodyweight/],
    ];
    for (const [method, args, message] of bad)
      assert.throws(
        () => pathFor(method, args),
        (e: Error) => e instanceof ArgumentError && message.test(e.message),
        `${method} ${JSON.stringify(args)}`,
      );
  });
});
