/**
 * _fitbit over HTTP, the way a home uses it: an admin registers the app, jack authorises at a real OAuth2
 * server on 127.0.0.1, the plugin pulls his data from a local Fitbit API into sensors/fitbit/jack — through
 * expired tokens, rate limits, revoked refresh tokens and bad arguments.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../../src/auth/users.ts';
import { basic, okJson, requestAs, startTestServer, type TestServer, waitFor } from '../../helpers.ts';
import { startOAuthProvider, type StrictProvider } from '../../oauthProvider.ts';
import { startFakeFitbit, type FakeFitbit } from './fakeFitbit.ts';

const CLIENT = { id: '22ABCD', secret: 'fitbit-client-secret' };
const JACK = basic('jack', 'jack-password');
const JILL = basic('jill', 'jill-password');

let s: TestServer;
let provider: StrictProvider;
let fitbit: FakeFitbit;

const as = (auth: string | undefined, path: string, init?: RequestInit) => requestAs(s, auth, path, init);

const json = okJson;

async function sensors(user = 'jack'): Promise<any> {
  return (await json(s.request(`/data/sensors/fitbit/${user}`, { headers: { accept: 'application/json' } })))[user];
}

async function authorise(auth = JACK, user = 'jack'): Promise<void> {
  const start = await as(auth, `/plugin/_fitbit/auth1?user=${user}`);
  assert.equal(start.status, 303, await start.text());
  const provided = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  const callback = new URL(provided.headers.get('location')!);
  const done = await as(undefined, callback.pathname + callback.search);
  assert.equal(done.status, 303, await done.text());
  assert.equal(done.headers.get('location'), `/plugin/_fitbit/page/setup.html?user=${user}&authorised=1`);
}

before(async () => {
  provider = await startOAuthProvider(CLIENT, { authorize: '/oauth2/authorize', token: '/oauth2/token' });
  fitbit = await startFakeFitbit(provider);
  fitbit.weights.set('2026-11-01', 80.2).set('2026-11-02', 80);
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
  assert.equal((await s.request('/internal/plugins/_fitbit', { method: 'PUT' })).status, 200);
});

describe('setting up', () => {
  it('says what is missing before the app is registered', async () => {
    const r = await as(JACK, '/plugin/_fitbit?user=jack');
    assert.equal(r.status, 400);
    assert.match(
      await r.text(),
      /not set up: an admin enters the Google Health client id and secret on \/plugin\/_fitbit\/page\/setup.html/,
    );
  });

  it('lets an admin register the app, and never shows the secret back', async () => {
    assert.equal(
      (
        await as(JACK, '/plugin/_fitbit/settings', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"client_id":"x"}',
        })
      ).status,
      403,
    );
    const body = JSON.stringify({
      provider: 'fitbit-legacy',
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
      authorizeUrl: provider.authorizeUrl,
      tokenUrl: provider.tokenUrl,
      apiBase: fitbit.url,
    });
    const settings = await json(
      s.request('/plugin/_fitbit/settings', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
    assert.equal(settings.provider, 'fitbit-legacy');
    assert.equal(settings.client_id, CLIENT.id);
    assert.deepEqual(settings.secrets, { client_secret: true, webhookSecret: false });
    assert.equal(settings.apiBase, fitbit.url);
    assert.equal(settings.authorizeUrl, provider.authorizeUrl);
    assert.equal(settings.tokenUrl, provider.tokenUrl);
    assert.equal(settings.defaults.revokeUrl, 'https://api.fitbit.com/oauth2/revoke', 'each URL shows its default');
    assert.equal(settings.callbackUrl, `${s.url}/plugin/_fitbit/auth2`);
    assert.deepEqual(settings.scopes, ['activity', 'heartrate', 'nutrition', 'profile', 'settings', 'sleep', 'weight']);
    assert.ok(!JSON.stringify(settings).includes(CLIENT.secret));
    const again = await json(
      s.request('/plugin/_fitbit/settings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"client_secret":""}',
      }),
    );
    assert.equal(again.secrets.client_secret, true, 'an empty secret field keeps the secret');
    const bad = await s.request('/plugin/_fitbit/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"apiBase":"ftp://x"}',
    });
    assert.equal(bad.status, 400);
    assert.ok(!(await (await s.request('/data/plugindata/_fitbit')).text()).includes(CLIENT.secret));
  });

  it("makes a person's entry, which only they (or an admin) may see and change", async () => {
    assert.equal((await as(JACK, '/plugin/_fitbit?user=jack')).status, 404);
    const made = await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack&create=1', { method: 'POST' }));
    assert.deepEqual(made, {
      user: 'jack',
      exists: true,
      authorisation: 'none',
      settings: { methods: 'get_bodyweight' },
      provider: 'fitbit-legacy',
      providerName: 'Fitbit',
    });
    assert.equal((await as(JILL, '/plugin/_fitbit/userSettings?user=jack')).status, 403);
    const back = await as(JACK, '/plugin/_fitbit/userSettings?user=jack&returnTo=/plugin/_fitbit/page/setup.html', { method: 'POST' });
    assert.equal(back.status, 303, 'a form goes back to its page');
    assert.equal(back.headers.get('location'), '/plugin/_fitbit/page/setup.html');
    const away = await as(JACK, `/plugin/_fitbit/userSettings?user=jack&returnTo=${encodeURIComponent('/\\evil.example/')}`, {
      method: 'POST',
    });
    assert.equal(away.status, 200, 'never to another site');
    const r = await as(JACK, '/plugin/_fitbit?user=jack');
    assert.equal(r.status, 403);
    assert.match(await r.text(), /jack has not authorised _fitbit yet/);
  });

  it('authorises jack at the provider and stores his token', async () => {
    await authorise();
    assert.equal((await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack'))).authorisation, 'authorised');
    assert.equal(provider.grants.authorization_code, 1);
  });
});

describe('getting data', () => {
  it('stores body weight logs with the Bearer token, in metric unless told otherwise', async () => {
    const result = await json(as(JACK, '/plugin/_fitbit?user=jack'));
    assert.deepEqual(result, { user: 'jack', methods: ['get_bodyweight'], stored: { weight: 2 } });
    const last = fitbit.requests.at(-1)!;
    assert.match(last.path, /^\/1\/user\/-\/body\/log\/weight\/date\/\d{4}-\d{2}-\d{2}\.json$/);
    assert.ok(!['en_US', 'en_GB'].includes(last.acceptLanguage ?? ''), last.acceptLanguage); // fetch's own '*': metric
    assert.ok(last.authorised);
    const data = await sensors();
    assert.deepEqual(
      data.weight.map((w: { date: string; weight: number }) => [w.date, w.weight]),
      [
        ['2026-11-01', 80.2],
        ['2026-11-02', 80],
      ],
    );
  });

  it('sends the units setting as Accept-Language', async () => {
    await json(
      s.request('/plugin/_fitbit/settings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"system":"en_US"}',
      }),
    );
    const result = await json(as(JACK, '/plugin/_fitbit?user=jack&methods=time_series&resource=body/weight&period=7d'));
    assert.deepEqual(result.stored, { 'body-weight': 2 });
    assert.equal(fitbit.requests.at(-1)!.acceptLanguage, 'en_US');
    assert.deepEqual((await sensors())['body-weight'], [
      { dateTime: '2026-11-01', value: 176.8 },
      { dateTime: '2026-11-02', value: 176.4 },
    ]);
    await json(
      s.request('/plugin/_fitbit/settings', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"system":""}' }),
    );
  });

  it('merges new readings into the series and keeps the history', async () => {
    await json(as(JACK, '/plugin/_fitbit?user=jack&methods=time_series&resource=body/weight&period=7d')); // metric again: both change
    fitbit.weights.delete('2026-11-01'); // the API's window moved on
    fitbit.weights.set('2026-11-03', 79.7);
    const result = await json(as(JACK, '/plugin/_fitbit?user=jack&methods=time_series&resource=body/weight&period=7d'));
    assert.deepEqual(result.stored, { 'body-weight': 1 });
    assert.deepEqual((await sensors())['body-weight'], [
      { dateTime: '2026-11-01', value: 80.2 },
      { dateTime: '2026-11-02', value: 80 },
      { dateTime: '2026-11-03', value: 79.7 },
    ]);
  });

  it("uses the person's defaults, and lets a call override them", async () => {
    await json(
      as(JACK, '/plugin/_fitbit/userSettings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"jack","methods":"time_series,activities","resource":"body/weight","period":"30d"}',
      }),
    );
    const result = await json(as(JACK, '/plugin/_fitbit?user=jack'));
    assert.deepEqual(result.methods, ['time_series', 'activities']);
    const paths = fitbit.requests.slice(-2).map((r) => r.path);
    assert.match(paths[0]!, /\/body\/weight\/date\/today\/30d\.json$/);
    assert.match(paths[1]!, /\/activities\/date\/\d{4}-\d{2}-\d{2}\.json$/);
    assert.equal((await sensors())['activities-summary'].steps, 6543);
    await json(as(JACK, '/plugin/_fitbit?user=jack&period=1m&methods=time_series'));
    assert.match(fitbit.requests.at(-1)!.path, /\/today\/1m\.json$/);
  });

  it('keeps what every method stored: no method overwrites another (summary, goals)', async () => {
    const methods = [
      'activities',
      'sleep',
      'body',
      'heart',
      'foods_log',
      'foods_log_water',
      'heart_rate',
      'get_bodyfat',
      'user_profile_get',
    ];
    // One at a time, as a person changing their methods setting would: each later one must leave the earlier ones' data.
    for (const method of methods) await json(as(JACK, `/plugin/_fitbit?user=jack&methods=${method}`));
    await json(as(JACK, '/plugin/_fitbit?user=jack&methods=time_series&resource=activities/steps&period=7d'));
    const data = await sensors();
    assert.equal(data['activities-summary'].steps, 6543);
    assert.equal(data['activities-goals'].steps, 10000);
    assert.equal(data['sleep-summary'].totalMinutesAsleep, 431);
    assert.equal(data.sleep.minutesAsleep, 431);
    assert.equal(data.body.fat, 21.3);
    assert.equal(data['body-goals'].weight, 78);
    assert.equal(data['heart-average'].average.heartRate, 61);
    assert.equal(data['foods-log-summary'].calories, 1850);
    assert.equal(data['foods-log-water-summary'].water, 1200);
    assert.equal(data['activities-heart'].restingHeartRate, 58, 'the resting rate beside its date, as Google Health gives it');
    assert.equal(data['activities-steps'].value, 8012);
    assert.equal(data.fat.fat, 21.3);
    assert.equal(data.profile.displayName, 'Jack');
    assert.equal(data.weight.length, 2, "get_bodyweight's logs are still there");
    assert.equal(data.units.weight.weight, 'kg', 'series say their units');
    assert.equal(data.units['activities-steps'].value, 'steps');
  });

  it('refuses bad arguments with a 400 before calling Fitbit', async () => {
    const before = fitbit.requests.length;
    for (const query of ['methods=time_series&period=2d', 'methods=launch_rockets', 'methods=get_bodyweight&base_date=yesterday']) {
      const r = await as(JACK, `/plugin/_fitbit?user=jack&${query}`);
      assert.equal(r.status, 400, query);
    }
    assert.equal(fitbit.requests.length, before);
  });

  it('refreshes an expired token once and goes on', async () => {
    const token = (
      await json(s.request('/data/identities/jack/plugindata/_fitbit/token?.VARIANT=raw', { headers: { accept: 'application/json' } }))
    ).token;
    provider.liveAccessTokens.delete(token.access_token);
    const refreshes = provider.grants.refresh_token;
    await json(as(JACK, '/plugin/_fitbit?user=jack&methods=user_profile_get'));
    assert.equal(provider.grants.refresh_token, refreshes + 1);
    assert.deepEqual(
      fitbit.requests.slice(-2).map((r) => r.authorised),
      [false, true],
    );
    assert.equal((await sensors()).profile.displayName, 'Jack');
  });
});

describe('rate limits', () => {
  it('answers 429 with when it will retry, leaves Fitbit alone until then, and retries by itself', async () => {
    fitbit.rateLimitNext = 1;
    fitbit.weights.set('2026-11-04', 79.5);
    const first = await as(JACK, '/plugin/_fitbit?user=jack&methods=time_series&resource=body/weight&period=7d');
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    assert.match(await first.text(), /Fitbit's rate limit for jack: it will be tried again at \d{4}-\d\d-\d\dT[\d:.]+Z \(in 1 s\)/);
    const calls = fitbit.requests.length;
    const second = await as(JACK, '/plugin/_fitbit?user=jack&methods=time_series&resource=body/weight&period=7d');
    assert.equal(second.status, 429);
    assert.match(await second.text(), /\(still\)/);
    assert.equal(fitbit.requests.length, calls, 'no call while the limit holds');
    await waitFor(
      async () => (await sensors())['body-weight'].some((w: { dateTime: string }) => w.dateTime === '2026-11-04'),
      'the retry to store the new reading',
      5000,
    );
    // The retry records how it went just after storing: wait for that too.
    await waitFor(
      async () =>
        (await json(s.request('/data/status/sensors/_fitbit', { headers: { accept: 'application/json' } })))._fitbit.alive === true,
      "the retry's status",
    );
  });
});

describe('the periodic action', () => {
  it('fetches for every authorised user and records how it went', async () => {
    fitbit.weights.set('2026-11-05', 79.4);
    await json(
      as(JACK, '/plugin/_fitbit/userSettings', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"jack","methods":"time_series","resource":"body/weight","period":"7d"}',
      }),
    );
    assert.equal((await s.request('/action/_fitbit/fetch')).status, 200);
    await s.request('/internal/flush');
    assert.ok((await sensors())['body-weight'].some((w: { dateTime: string }) => w.dateTime === '2026-11-05'));
    const status = await json(s.request('/data/status/sensors/_fitbit', { headers: { accept: 'application/json' } }));
    assert.equal(status._fitbit.alive, true);
  });
});

describe('a revoked authorisation', () => {
  it('marks jack for re-authorisation, in status/ and on his settings, until he authorises again', async () => {
    provider.refuseRefresh = true;
    await s.request('/data/identities/jack/plugindata/_fitbit/token/expires_at?.VARIANT=raw', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: '1000',
    });
    const r = await as(JACK, '/plugin/_fitbit?user=jack');
    assert.equal(r.status, 403);
    assert.match(await r.text(), /jack must authorise _fitbit again/);
    assert.equal((await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack'))).authorisation, 'reauthorise');
    const status = await json(s.request('/data/status/sensors/_fitbit', { headers: { accept: 'application/json' } }));
    assert.equal(status._fitbit.alive, false);
    assert.match(status._fitbit.errorMessage, /jack must authorise _fitbit again/);
    assert.equal((await s.request('/action/_fitbit/fetch')).status, 200);
    await s.request('/internal/flush'); // the action skips him rather than failing again and again
    provider.refuseRefresh = false;
    await authorise();
    assert.equal((await json(as(JACK, '/plugin/_fitbit/userSettings?user=jack'))).authorisation, 'authorised');
    assert.equal((await as(JACK, '/plugin/_fitbit?user=jack')).status, 200);
  });
});
