/**
 * misfit end to end: authorisation at a real OAuth2 server on 127.0.0.1 (also via `igor plugin misfit
 * authorize`), the Resource API of a local fake Misfit, and SNS notifications from a local sender that signs
 * with a test key and serves its certificate over https — forged, misdirected, unsigned and replayed ones too.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../../src/auth/users.ts';
import { newPage } from '../../browser.ts';
import { basic, requestAs, startTestServer, type TestServer } from '../../helpers.ts';
import { startOAuthProvider, type StrictProvider } from '../../oauthProvider.ts';
import { PROFILE, startFakeMisfit, type FakeMisfit } from './fakeMisfit.ts';
import { startSnsSender, type SnsSender } from './snsSender.ts';

const CLIENT = { id: 'misfit-app-key', secret: 'misfit-app-secret' };
const JACK = basic('jack', 'jack-password');

let s: TestServer;
let provider: StrictProvider;
let misfit: FakeMisfit;
let sns: SnsSender;

const as = (auth: string | undefined, path: string, init?: RequestInit) => requestAs(s, auth, path, init);

async function ok(res: Response | Promise<Response>): Promise<any> {
  const r = await res;
  const text = await r.text();
  assert.ok(r.status < 300, `${r.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function sensors(): Promise<any> {
  return (await ok(s.request('/data/sensors/misfit/jack', { headers: { accept: 'application/json' } }))).jack;
}

/** Follows an authorize URL through the provider back to auth2, as the browser does. */
async function completeAuthorisation(authorizeUrl: string): Promise<void> {
  const provided = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = new URL(provided.headers.get('location')!);
  const done = await as(undefined, callback.pathname + callback.search);
  assert.equal(done.status, 303, await done.text());
  assert.match(done.headers.get('location') ?? '', /^\/plugin\/misfit\/page\/setup\.html\?user=\w+&authorised=1$/);
}

function post(body: unknown): Promise<Response> {
  return s.anonymous('/plugin/misfit/notification', {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

before(async () => {
  provider = await startOAuthProvider(CLIENT, { authorize: '/auth/dialog/authorize', token: '/auth/tokens/exchange/' }, 'body');
  misfit = await startFakeMisfit(provider);
  sns = await startSnsSender();
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  assert.equal((await s.request('/internal/plugins/misfit', { method: 'PUT' })).status, 200);
  const settings = {
    client_id: CLIENT.id,
    client_secret: CLIENT.secret,
    apiBase: misfit.url,
    snsHostPattern: '^127\\.0\\.0\\.1$',
    snsCa: sns.tlsCa,
  };
  const saved = await ok(
    s.request('/plugin/misfit/settings', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    }),
  );
  assert.equal(saved.notificationUrl, `${s.url}/plugin/misfit/notification`);
  await ok(as(JACK, '/plugin/misfit/userSettings?user=jack&create=1', { method: 'POST' }));
});

describe('authorising', () => {
  it('prints the URL to open for `igor plugin misfit authorize --user jack`, which works once', async () => {
    const r = await s.request('/plugin/misfit/command/authorize?user=jack');
    const text = await r.text();
    assert.equal(r.status, 200, text);
    const url = new URL(text.split('\n')[1]!);
    assert.equal(url.origin + url.pathname, `${misfit.url}/auth/dialog/authorize`);
    assert.equal(url.searchParams.get('scope'), 'public birthday email');
    assert.equal(url.searchParams.get('redirect_uri'), `${s.url}/plugin/misfit/auth2`);
    await completeAuthorisation(url.href);
    assert.equal((await ok(as(JACK, '/plugin/misfit/userSettings?user=jack'))).authorisation, 'authorised');
    assert.equal((await s.request('/plugin/misfit/command/authorize?user=nobody')).status, 404);
    assert.equal((await as(JACK, '/plugin/misfit/command/authorize?user=jack')).status, 403, 'an admin command');
  });
});

describe('the setup page', () => {
  it('shows an admin the URLs to enter at Misfit, and jack that he is authorised', async () => {
    const { page, problems } = await newPage();
    const base = `http://127.0.0.1:${s.port}`;
    const logIn = async (user: string, password: string) => {
      await page.goto(`${base}/login?returnTo=${encodeURIComponent('/plugin/misfit/page/setup.html')}`);
      await page.fill('#username', user);
      await page.fill('#password', password);
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/plugin/misfit/page/setup.html`);
    };
    await logIn('admin', s.adminPassword);
    await page.waitForSelector('#app:not([hidden])');
    assert.equal(await page.textContent('[data-field=notificationUrl]'), `${s.url}/plugin/misfit/notification`);
    assert.equal(await page.inputValue('#client_id'), CLIENT.id);
    assert.equal(await page.inputValue('#client_secret'), '');
    await page.context().clearCookies();
    await logIn('jack', 'jack-password');
    await page.waitForFunction(() => document.querySelector('#authState')?.textContent === 'authorised');
    assert.equal(await page.textContent('#authorise'), 'Authorise Igor at Misfit again');
    assert.equal(await page.isHidden('#app'), true);
    assert.deepEqual(problems, []);
  });
});

describe('the Resource API', () => {
  it("pulls every resource of the last week into sensors/misfit/jack, and learns jack's Misfit id", async () => {
    const result = await ok(as(JACK, '/plugin/misfit?user=jack'));
    assert.deepEqual(result.stored, { profile: 1, device: 1, goals: 3, summary: 2, sessions: 1, sleeps: 1 });
    const data = await sensors();
    assert.equal(data.profile.name, 'Jack');
    assert.equal(data.goals.length, 3);
    assert.deepEqual(data.goals[0], {
      id: '51a4189acf12e53f81000001',
      date: '2014-10-05',
      points: 500,
      targetPoints: 1000,
      timeZoneOffset: -8,
    });
    assert.deepEqual(
      data.summary.map((d: { date: string }) => d.date),
      ['2014-10-05', '2014-10-06'],
    );
    assert.equal(data.sleeps.sleepDetails.value, 2);
    const raw = await ok(s.request('/data/identities/jack/plugindata/misfit/userId', { headers: { accept: 'application/json' } }));
    assert.equal(raw.userId, PROFILE.userId);
    const paths = misfit.requests.slice(-6);
    assert.ok(
      paths.every((p) => p.endsWith('/') || p.includes('/?')),
      'trailing slashes, as python-misfit sends',
    );
    assert.match(
      paths.find((p) => p.includes('summary'))!,
      /activity\/summary\/\?start_date=\d{4}-\d\d-\d\d&end_date=\d{4}-\d\d-\d\d&detail=true$/,
    );
  });

  it('checks date ranges and object ids before calling Misfit', async () => {
    const before = misfit.requests.length;
    for (const [query, message] of [
      ['resources=goal&start_date=2014-10-01&end_date=2014-12-01', /at most 30 days/],
      ['resources=goal&start_date=2014-10-07&end_date=2014-10-01', /must not be after/],
      ['resources=summary&object_id=x1', /summary takes a date range/],
      ['resources=goal&object_id=..%2Fx', /not a Misfit object id/],
      ['resources=steps', /unknown resource steps/],
    ] as const) {
      const r = await as(JACK, `/plugin/misfit?user=jack&${query}`);
      assert.equal(r.status, 400, query);
      assert.match(await r.text(), message, query);
    }
    assert.equal(misfit.requests.length, before);
    const total = await ok(as(JACK, '/plugin/misfit?user=jack&resources=summary&detail=false&start_date=2014-10-01&end_date=2014-10-07'));
    assert.deepEqual(total.stored, { summaryTotal: 1 });
  });

  it("answers Misfit's rate limit with when it resets", async () => {
    misfit.rateLimitNext = true;
    const r = await as(JACK, '/plugin/misfit?user=jack&resources=profile');
    assert.equal(r.status, 429);
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry > 2500 && retry <= 2577, String(retry));
    assert.match(await r.text(), /rate limit \(150 calls an hour\) is used up; it resets at \d{4}-\d\d-\d\dT/);
  });
});

describe('notifications', () => {
  it('confirms a subscription by visiting its SubscribeURL, after checking the signature', async () => {
    const message = sns.message('SubscriptionConfirmation');
    const r = await post(message);
    assert.equal(r.status, 200, await r.text());
    assert.equal(sns.confirmations.length, 1);
    assert.equal(sns.confirmations[0]!.searchParams.get('Token'), message['Token']);
  });

  it('answers a notification at once and then re-fetches the changed goal for its owner', async () => {
    const goal = misfit.goals.get('51a4189acf12e53f81000002')!;
    goal.points = 950;
    let release!: () => void;
    misfit.holdGoalFetch = new Promise<void>((resolve) => (release = resolve));
    const change = [{ type: 'goals', id: goal.id, ownerId: PROFILE.userId, action: 'updated', updatedAt: new Date().toISOString() }];
    const r = await post(sns.message('Notification', { Message: JSON.stringify(change) }, '2'));
    assert.equal(r.status, 200, 'answered while the goal fetch is still held');
    assert.equal(await r.text(), '');
    assert.equal((await sensors()).goals[1].points, 600);
    release();
    misfit.holdGoalFetch = undefined;
    await s.request('/internal/flush');
    assert.equal((await sensors()).goals[1].points, 950);
    assert.ok(misfit.requests.at(-1)!.endsWith(`/activity/goals/${goal.id}/`));
  });

  it('processes a redelivered message once', async () => {
    const change = [{ type: 'goals', id: '51a4189acf12e53f81000001', ownerId: PROFILE.userId, action: 'updated' }];
    const message = sns.message('Notification', { Message: JSON.stringify(change) });
    assert.equal((await post(message)).status, 200);
    await s.request('/internal/flush');
    const calls = misfit.requests.length;
    assert.equal((await post(message)).status, 200);
    await s.request('/internal/flush');
    assert.equal(misfit.requests.length, calls);
  });

  it('removes a deleted object, and says so in status/ when a change is for someone unknown', async () => {
    const change = [
      { type: 'goals', id: '51a4189acf12e53f81000003', ownerId: PROFILE.userId, action: 'deleted' },
      { type: 'goals', id: '51a4189acf12e53f81000001', ownerId: 'someoneelse01', action: 'updated' },
    ];
    assert.equal((await post(sns.message('Notification', { Message: JSON.stringify(change) }))).status, 200);
    await s.request('/internal/flush');
    assert.deepEqual(
      (await sensors()).goals.map((g: { id: string }) => g.id),
      ['51a4189acf12e53f81000001', '51a4189acf12e53f81000002'],
    );
    const status = await ok(s.request('/data/status/sensors/misfit', { headers: { accept: 'application/json' } }));
    assert.equal(status.misfit.alive, false);
    assert.match(status.misfit.errorMessage, /Misfit user someoneelse01, who has not authorised this Igor/);
  });

  it('refuses forged, misdirected, unsigned and malformed messages with 403 or 400, and writes nothing', async () => {
    const before = JSON.stringify(await sensors());
    const calls = misfit.requests.length;
    const confirmations = sns.confirmations.length;
    const change = JSON.stringify([{ type: 'goals', id: '51a4189acf12e53f81000002', ownerId: PROFILE.userId, action: 'deleted' }]);
    const good = sns.message('Notification', { Message: change });
    const { Signature: _s, SignatureVersion: _v, ...unsigned } = good;
    const cases: [unknown, number, RegExp][] = [
      [{ ...good, Message: change.replace('deleted', 'created') }, 403, /signature does not match/],
      [{ ...good, Signature: 'BAD_SIGNATURE' }, 403, /signature does not match/],
      [sns.sign({ ...good, SigningCertURL: 'https://evil.example/SimpleNotificationService-test.pem' }), 403, /not on an SNS host/],
      [sns.sign({ ...good, SigningCertURL: sns.certUrl.replace('https:', 'http:') }), 403, /must be https/],
      [unsigned, 403, /unsigned/],
      [
        sns.message('SubscriptionConfirmation', { SubscribeURL: 'https://evil.example/?Action=ConfirmSubscription' }),
        403,
        /SubscribeURL is not on an SNS host/,
      ],
      ['{"Type": "Notification"', 400, /not JSON/],
      [sns.message('Notification', { Message: 'not a list' }), 400, /JSON list/],
    ];
    for (const [body, status, reason] of cases) {
      const r = await post(body);
      const text = await r.text();
      assert.equal(r.status, status, text);
      assert.match(text, reason);
    }
    await s.request('/internal/flush');
    assert.equal(JSON.stringify(await sensors()), before);
    assert.equal(misfit.requests.length, calls, 'nothing was fetched');
    assert.equal(sns.confirmations.length, confirmations, 'no evil SubscribeURL was visited');
    const failures = await s.request('/data/plugindata/misfit', { headers: { accept: 'application/json' } });
    assert.ok(!(await failures.text()).includes('misfit-app-secret'));
  });

  it('does not visit the SubscribeURL of an UnsubscribeConfirmation (that would subscribe again)', async () => {
    const confirmations = sns.confirmations.length;
    assert.equal((await post(sns.message('UnsubscribeConfirmation'))).status, 200);
    assert.equal(sns.confirmations.length, confirmations);
  });
});
