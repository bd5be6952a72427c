/**
 * _fitbit on the Google Health API, the way a person with a Fitbit uses it today: an admin enters the Google
 * Cloud OAuth client, jack authorises at a local Google (offline access, consent, PKCE, read-only scopes),
 * and his steps, distance, weight, sleep, heart rate and SpO2 come into sensors/fitbit/jack in his units —
 * incrementally, through refreshes without a new refresh token, rate limits, outages, missing scopes, an
 * account without Fitbit data, revocation, and push notifications.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../../src/auth/users.ts';
import { backoffSeconds } from '../../../plugins/_fitbit/rateLimit.ts';
import { basic, okJson, requestAs, startTestServer, type TestServer, waitFor } from '../../helpers.ts';
import { pluginSettings, SCOPE, startFakeGoogle, type FakeGoogle, type FakePoint } from './fakeGoogleHealth.ts';

const JACK = basic('jack', 'jack-password');
const DAY = 86_400_000;
/** Midnight UTC, n days ago: the fixtures stay inside the default 30-day backfill whenever the test runs. */
const dayAgo = (n: number) => new Date(Math.floor(Date.now() / DAY) * DAY - n * DAY);
const at = (n: number, hhmm: string) => `${dayAgo(n).toISOString().slice(0, 10)}T${hhmm}:00Z`;
const date = (n: number) => dayAgo(n).toISOString().slice(0, 10);

let s: TestServer;
let google: FakeGoogle;

const as = (auth: string | undefined, path: string, init?: RequestInit) => requestAs(s, auth, path, init);

const json = okJson;

async function sensors(): Promise<any> {
  return (await json(s.request('/data/sensors/fitbit/jack', { headers: { accept: 'application/json' } }))).jack;
}

async function status(): Promise<{ alive: boolean; errorMessage?: string }> {
  return (await json(s.request('/data/status/sensors/_fitbit', { headers: { accept: 'application/json' } })))._fitbit;
}

async function token(): Promise<any> {
  return (await json(s.request('/data/identities/jack/plugindata/_fitbit/token?.VARIANT=raw', { headers: { accept: 'application/json' } })))
    .token;
}

const fetchJack = () => as(JACK, '/plugin/_fitbit?user=jack', { method: 'POST' });

async function authorise(): Promise<URL> {
  const start = await as(JACK, '/plugin/_fitbit/auth1?user=jack');
  assert.equal(start.status, 303, await start.text());
  const asked = new URL(start.headers.get('location')!);
  const back = await fetch(asked, { redirect: 'manual' });
  const callback = new URL(back.headers.get('location')!);
  const done = await as(undefined, callback.pathname + callback.search);
  assert.equal(done.status, 303, await done.text());
  return asked;
}

function point(type: string, p: FakePoint): void {
  google.points.set(type, [...(google.points.get(type) ?? []), p]);
}

before(async () => {
  google = await startFakeGoogle();
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  assert.equal((await s.request('/internal/plugins/_fitbit', { method: 'PUT' })).status, 200);
  // Two days of activity, the second with a late-evening walk that is the next day where jack lives (UTC+1).
  for (const [n, hhmm, count, mm] of [
    [2, '08:00', '4000', '3000000'],
    [2, '23:30', '500', '400000'],
    [1, '09:00', '6000', '4500000'],
  ] as const) {
    point('steps', { at: at(n, hhmm), end: at(n, hhmm.replace(/:00$/, ':30')), offset: 3600, value: { count } });
    point('distance', { at: at(n, hhmm), end: at(n, hhmm.replace(/:00$/, ':30')), offset: 3600, value: { millimeters: mm } });
  }
  point('floors', { at: at(1, '10:00'), end: at(1, '10:01'), offset: 3600, value: { count: '12' } });
  point('total-calories', { at: at(1, '00:00'), end: at(1, '23:59'), offset: 3600, value: { kcal: 2345.6 } });
  point('active-minutes', {
    at: at(1, '10:00'),
    end: at(1, '11:00'),
    offset: 3600,
    value: {
      activeMinutesByActivityLevel: [
        { activityLevel: 'LIGHT', activeMinutes: 20 },
        { activityLevel: 'VIGOROUS', activeMinutes: 15 },
      ],
    },
  });
  point('weight', { at: at(3, '06:30'), offset: 3600, id: '1001', value: { weightGrams: 80200 } });
  point('weight', { at: at(1, '23:30'), offset: 3600, id: '1002', value: { weightGrams: 79900 } });
  point('body-fat', { at: at(1, '06:31'), offset: 3600, value: { percentage: 21.25 } });
  for (const [hhmm, bpm] of [
    ['08:00', '62'],
    ['12:00', '101'],
    ['20:00', '70'],
  ] as const)
    point('heart-rate', { at: at(1, hhmm), offset: 3600, value: { beatsPerMinute: bpm } });
  point('daily-resting-heart-rate', { at: at(1, '00:00'), offset: 3600, date: date(1), value: { beatsPerMinute: '58' } });
  point('daily-oxygen-saturation', {
    at: at(1, '00:00'),
    offset: 3600,
    date: date(1),
    value: { averagePercentage: 96.4, lowerBoundPercentage: 94, upperBoundPercentage: 98.1 },
  });
  // Thirty nights: more than one page of 25.
  for (let n = 29; n >= 0; n--) {
    point('sleep', {
      at: at(n + 1, '22:00'),
      end: at(n, '06:00'),
      offset: 3600,
      id: `night-${n}`,
      value: {
        type: 'STAGES',
        stages: [
          { startTime: at(n + 1, '22:00'), startUtcOffset: '3600s', endTime: at(n + 1, '23:30'), endUtcOffset: '3600s', type: 'LIGHT' },
          { startTime: at(n + 1, '23:30'), startUtcOffset: '3600s', endTime: at(n, '06:00'), endUtcOffset: '3600s', type: 'DEEP' },
        ],
        summary: {
          minutesInSleepPeriod: '480',
          minutesAsleep: '470',
          minutesAwake: '10',
          stagesSummary: [
            { type: 'LIGHT', minutes: '90', count: '1' },
            { type: 'DEEP', minutes: '380', count: '1' },
          ],
        },
      },
    });
  }
});

describe('setting up with Google', () => {
  it('defaults to the Google Health API, shows each URL with its default, and asks only for read-only scopes', async () => {
    const before = await json(s.request('/plugin/_fitbit/settings'));
    assert.equal(before.provider, '');
    assert.equal(before.defaults.provider, 'google-health');
    assert.equal(before.defaults.authorizeUrl, 'https://accounts.google.com/o/oauth2/v2/auth');
    assert.equal(before.defaults.tokenUrl, 'https://oauth2.googleapis.com/token');
    assert.equal(before.defaults.revokeUrl, 'https://oauth2.googleapis.com/revoke');
    assert.equal(before.defaults.apiBase, 'https://health.googleapis.com');
    assert.deepEqual(before.scopes, [
      SCOPE('activity_and_fitness.readonly'),
      SCOPE('health_metrics_and_measurements.readonly'),
      SCOPE('sleep.readonly'),
    ]);
    const body = JSON.stringify(pluginSettings(google));
    const after = await json(
      s.request('/plugin/_fitbit/settings', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
    assert.equal(after.apiBase, google.url);
    assert.ok(!JSON.stringify(after).includes(google.client.secret));
  });

  it('refuses a bad setting whole, naming it, and changes nothing', async () => {
    const before = await json(s.request('/plugin/_fitbit/settings'));
    for (const body of [
      { apiBase: 'ftp://x', client_id: 'changed' },
      { provider: 'fitbit-2', client_id: 'changed' },
      { backfillDays: '0', client_id: 'changed' },
      { data: 'steps,moods', client_id: 'changed' },
    ]) {
      const r = await s.request('/plugin/_fitbit/settings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(await r.text(), new RegExp(Object.keys(body)[0]!));
    }
    assert.deepEqual(await json(s.request('/plugin/_fitbit/settings')), before);
  });

  it('sends jack to Google for offline access with consent and PKCE, and keeps the refresh token', async () => {
    await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack&create=1', { method: 'POST' }));
    const asked = await authorise();
    assert.equal(asked.origin + asked.pathname, google.authorizeUrl);
    const q = google.lastAuthorize!;
    assert.equal(q['access_type'], 'offline');
    assert.equal(q['prompt'], 'consent');
    assert.equal(q['code_challenge_method'], 'S256');
    assert.match(q['code_challenge']!, /^[\w-]{43}$/);
    assert.deepEqual(q['scope']!.split(' ').sort(), [
      SCOPE('activity_and_fitness.readonly'),
      SCOPE('health_metrics_and_measurements.readonly'),
      SCOPE('sleep.readonly'),
    ]);
    const t = await token();
    assert.match(t.refresh_token, /^1\/\//);
    assert.equal((await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack'))).authorisation, 'authorised');
  });
});

describe("jack's data", () => {
  it('backfills every kind into the shared layout, in local dates and metric units, each series saying its unit', async () => {
    const result = await json(fetchJack());
    assert.equal(result.provider, 'google-health');
    const d = await sensors();
    // The 23:30 UTC walk is the next morning in UTC+1: it counts for that day.
    assert.deepEqual(d['activities-steps'], [
      { dateTime: date(2), value: 4000 },
      { dateTime: date(1), value: 6500 },
    ]);
    assert.deepEqual(
      d['activities-distance'].map((e: any) => e.value),
      [3, 4.9],
    );
    assert.equal(d['activities-floors'].value, 12);
    assert.equal(d['activities-calories'].value, 2346);
    assert.equal(d['activities-minutesLightlyActive'].value, 20);
    assert.equal(d['activities-minutesFairlyActive'].value, 0);
    assert.equal(d['activities-minutesVeryActive'].value, 15);
    assert.deepEqual(d.weight, [
      { logId: 1001, date: date(3), time: '07:30:00', weight: 80.2, source: 'Charge 6' },
      { logId: 1002, date: date(0), time: '00:30:00', weight: 79.9, source: 'Charge 6' },
    ]);
    assert.equal(d.fat.fat, 21.3);
    assert.deepEqual(d['heart-rate'], { dateTime: date(1), average: 77.7, min: 62, max: 101 });
    assert.deepEqual(d['activities-heart'], { dateTime: date(1), restingHeartRate: 58 });
    assert.deepEqual(d.spo2, { dateTime: date(1), average: 96.4, lower: 94, upper: 98.1 });
    assert.equal(d.sleep.length, 30, 'every night, over two pages of 25');
    const lastNight = d.sleep.at(-1);
    assert.equal(lastNight.logId, 'night-0');
    assert.equal(lastNight.dateOfSleep, date(0));
    assert.equal(lastNight.startTime, `${date(1)}T23:00:00`);
    assert.equal(lastNight.minutesAsleep, 470);
    assert.equal(lastNight.minutesDeep, 380);
    assert.deepEqual(lastNight.stage, [
      { type: 'light', startTime: `${date(1)}T23:00:00`, minutes: 90 },
      { type: 'deep', startTime: `${date(0)}T00:30:00`, minutes: 390 },
    ]);
    assert.deepEqual(d.units.weight, { weight: 'kg' });
    assert.deepEqual(d.units['activities-distance'], { value: 'km' });
    assert.deepEqual(d.units.sleep.minutesAsleep, 'min');
    assert.ok(google.requests.filter((r) => r.path.includes('/sleep/dataPoints?')).length >= 2, 'the second page was asked for');
  });

  it('asks next time only for what is newer than the last stored point, and never stores a point twice', async () => {
    const counted = google.requests.length;
    point('weight', { at: at(0, '07:00'), offset: 3600, id: '1003', value: { weightGrams: 79700 } });
    const result = await json(fetchJack());
    assert.equal(result.stored.weight, 1);
    const asked = google.requests.slice(counted).map((r) => decodeURIComponent(r.path.replace(/\+/g, ' ')));
    const weightQuery = asked.find((p) => p.includes('/weight/dataPoints?'))!;
    assert.match(weightQuery, new RegExp(`weight\\.sample_time\\.physical_time >= "${at(1, '23:30')}"`));
    const sleepQuery = asked.find((p) => p.includes('/sleep/dataPoints?'))!;
    assert.match(sleepQuery, new RegExp(`sleep\\.interval\\.end_time >= "${at(0, '06:00')}"`));
    const d = await sensors();
    assert.equal(d.weight.length, 3);
    assert.equal(d.sleep.length, 30);
    assert.equal(d['activities-steps'].length, 2);
  });

  it("follows jack's switch to imperial, converting what is stored so no series mixes units", async () => {
    await json(
      as(JACK, '/plugin/_fitbit/userSettings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"jack","units":"imperial"}',
      }),
    );
    await json(fetchJack());
    const d = await sensors();
    assert.deepEqual(
      d.weight.map((w: any) => w.weight),
      [176.8, 176.1, 175.7],
    );
    assert.deepEqual(d.units.weight, { weight: 'lb' });
    assert.deepEqual(
      d['activities-distance'].map((e: any) => e.value),
      [1.864, 3.045],
    );
    assert.deepEqual(d.units['activities-distance'], { value: 'mi' });
  });

  it('stays authorised across three refreshes that bring no new refresh token', async () => {
    const refreshToken = (await token()).refresh_token;
    const before = google.grants.refresh_token;
    for (let i = 0; i < 3; i++) {
      google.expireAll();
      await json(fetchJack());
    }
    assert.equal(google.grants.refresh_token, before + 3);
    assert.equal((await token()).refresh_token, refreshToken, 'the refresh token is kept');
    assert.equal((await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack'))).authorisation, 'authorised');
  });
});

describe('when Google says no', () => {
  it('retries after Retry-After by itself, says so in status, and clears the status when it worked', async () => {
    google.next = { status: 429, retryAfter: '1' };
    const r = await fetchJack();
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match(await r.text(), /Google Health's rate limit for jack: it will be tried again at .* \(in 1 s\)/);
    assert.match((await status()).errorMessage!, /rate limit for jack/);
    const calls = google.requests.length;
    assert.equal((await fetchJack()).status, 429, 'still waiting');
    assert.equal(google.requests.length, calls, 'Google is left alone meanwhile');
    await waitFor(async () => (await status()).alive === true, 'the retry to succeed and clear the status', 5000);
  });

  it('backs off by a growing, jittered, capped pause when Google gives no Retry-After', () => {
    assert.equal(backoffSeconds(0, 7), 7);
    // A Retry-After of a year (or any number a header can hold) is a day: a timer that long would fire at once.
    assert.equal(backoffSeconds(0, 365 * 86_400), 86_400);
    assert.equal(backoffSeconds(0, Number('9'.repeat(30))), 86_400);
    assert.equal(
      backoffSeconds(0, undefined, () => 0),
      30,
    );
    assert.equal(
      backoffSeconds(0, undefined, () => 1),
      60,
    );
    assert.equal(
      backoffSeconds(3, undefined, () => 1),
      480,
    );
    assert.equal(
      backoffSeconds(20, undefined, () => 1),
      3600,
    );
    assert.equal(
      backoffSeconds(20, undefined, () => 0),
      1800,
    );
  });

  it('words an outage as one sentence, and a success clears it at once', async () => {
    google.next = { status: 503 };
    const r = await fetchJack();
    assert.equal(r.status, 502);
    const said = await r.text();
    assert.match(said, /^Google Health had a problem \(HTTP 503 UNAVAILABLE\); the next fetch tries again/);
    const st = await status();
    assert.equal(st.alive, false);
    assert.match(st.errorMessage!, /jack: Google Health had a problem/);
    assert.ok(!st.errorMessage!.includes('{'), 'no raw JSON');
    await json(fetchJack());
    assert.equal((await status()).alive, true);
  });

  it('skips the data whose scope Google refused, names it, and fetches the rest, now and after', async () => {
    google.next = { status: 403, reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT' };
    const r = await json(fetchJack());
    assert.match(
      r.notGranted,
      /Google did not grant Igor access to steps \(https:\/\/www\.googleapis\.com\/auth\/googlehealth\.activity_and_fitness\.readonly\)/,
    );
    const entry = await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack'));
    assert.equal(entry.authorisation, 'authorised', 'a missing scope skips its data, not the person');
    assert.equal((await status()).alive, true);
    assert.equal((await json(fetchJack())).notGranted, undefined, 'granted again, steps come back');
  });

  it('fetches what jack granted when he unticked sleep, says what is missing, and goes on fetching it', async () => {
    google.grantOnly = ['activity_and_fitness.readonly', 'health_metrics_and_measurements.readonly'];
    await authorise();
    point('weight', { at: at(0, '08:00'), offset: 3600, id: '1004', value: { weightGrams: 79600 } });
    const before = google.requests.length;
    const first = await json(fetchJack());
    assert.match(
      first.notGranted,
      /Google did not grant Igor access to sleep \(.*sleep\.readonly\); to get it, authorise again and allow it, or leave it out/,
    );
    assert.ok(!google.requests.slice(before).some((q) => q.path.includes('/sleep/')), 'sleep is not asked for');
    assert.equal((await sensors()).weight.length, 4, 'the rest came in');
    assert.equal((await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack'))).authorisation, 'authorised');
    point('weight', { at: at(0, '08:30'), offset: 3600, id: '1006', value: { weightGrams: 79400 } });
    await json(s.request('/plugin/_fitbit/all'));
    assert.equal((await sensors()).weight.length, 5, 'and the scheduled fetch goes on getting it');
    google.grantOnly = undefined;
    await authorise();
  });

  it('explains an account without Fitbit data', async () => {
    google.notLinked = true;
    const r = await fetchJack();
    assert.equal(r.status, 403);
    assert.match(
      await r.text(),
      /this Google account has no Fitbit or Google Health data; authorise with the Google account your Fitbit uses/,
    );
    google.notLinked = false;
    await authorise();
    await json(fetchJack());
  });

  it('asks jack to authorise again when Google refuses the refresh, without its JSON', async () => {
    google.refuseRefresh = true;
    google.expireAll();
    const r = await fetchJack();
    assert.equal(r.status, 403);
    const said = await r.text();
    assert.match(
      said,
      /jack must authorise _fitbit again: the provider refused to renew the token \(HTTP 400 invalid_grant: Token has been expired or revoked\.\)/,
    );
    assert.ok(!said.includes('{'));
    google.refuseRefresh = false;
    await authorise();
  });
});

describe('forgetting', () => {
  it('revokes the token at Google when jack asks to be forgotten', async () => {
    const refresh = (await token()).refresh_token;
    const entry = await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack&forget=1', { method: 'POST' }));
    assert.equal(entry.authorisation, 'none');
    assert.equal(entry.revoked, 'revoked at the provider');
    assert.equal(google.refreshTokens.has(refresh), false);
    await authorise();
  });
});

describe('push notifications', () => {
  const notify = (body: unknown, authorization?: string) =>
    as(undefined, '/plugin/_fitbit/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });

  it('are refused until a secret is set, then pass Google verification', async () => {
    assert.equal((await notify({ type: 'verification' }, 'Bearer s3cr3t')).status, 404);
    await json(
      s.request('/plugin/_fitbit/settings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"webhookSecret":"Bearer s3cr3t"}',
      }),
    );
    assert.equal((await notify({ type: 'verification' }, 'Bearer s3cr3t')).status, 201);
    // Write-only, as the readme says: not in an admin's plain read of the plugin's data (issue 33), only raw.
    assert.doesNotMatch(await (await s.request('/data/plugindata/_fitbit')).text(), /s3cr3t|webhookSecret/);
    assert.match(await (await s.request('/data/plugindata/_fitbit?.VARIANT=raw')).text(), /s3cr3t/);
    assert.equal((await notify({ type: 'verification' })).status, 401);
    assert.equal((await notify({ type: 'verification' }, 'Bearer s3cr3T')).status, 401);
  });

  it('fetch only the changed type and interval, once however often Google delivers it', async () => {
    point('weight', { at: at(0, '09:15'), offset: 3600, id: '1005', value: { weightGrams: 79500 } });
    const notification = [
      {
        data: {
          version: 'v4',
          healthUserId: google.healthUserId,
          operation: 'UPSERT',
          dataType: 'weight',
          intervals: [{ physicalTimeInterval: { startTime: at(0, '09:00'), endTime: at(0, '09:30') } }],
        },
      },
    ];
    assert.equal((await notify(notification, 'Bearer wrong')).status, 401);
    const before = google.requests.length;
    assert.equal((await notify(notification, 'Bearer s3cr3t')).status, 204);
    await s.request('/internal/flush');
    const asked = google.requests.slice(before).map((r) => decodeURIComponent(r.path.replace(/\+/g, ' ')));
    assert.deepEqual(
      asked.filter((p) => p.startsWith('/v4/')),
      [
        `/v4/users/me/dataTypes/weight/dataPoints?filter=weight.sample_time.physical_time >= "${at(0, '09:00')}" AND weight.sample_time.physical_time < "${at(0, '09:30')}"&pageSize=1000`,
      ],
    );
    assert.ok((await sensors()).weight.some((w: any) => w.logId === 1005));
    const again = google.requests.length;
    assert.equal((await notify(notification, 'Bearer s3cr3t')).status, 204, 'a redelivery is acknowledged');
    await s.request('/internal/flush');
    assert.equal(google.requests.length, again, 'and not fetched again');
    assert.equal((await notify([{ data: { ...notification[0]!.data, healthUserId: 'someone-else' } }], 'Bearer s3cr3t')).status, 204);
    await s.request('/internal/flush');
    assert.equal(google.requests.length, again, 'nobody here: nothing fetched');
  });
});
