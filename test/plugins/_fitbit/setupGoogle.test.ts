/**
 * The setup.html journey on the Google Health provider, in a real headless Chromium: an admin enters the Google
 * Cloud OAuth client and picks the data; jack starts using Fitbit, authorises at a local Google and comes back,
 * chooses his units, gets his data; the page explains an account without Fitbit data and how to fix it; and
 * forgetting revokes his authorisation at Google.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { setPassword } from '../../../src/auth/users.ts';
import { logIn as logInAt, newPage } from '../../browser.ts';
import { startTestServer, type TestServer } from '../../helpers.ts';
import { startFakeGoogle, type FakeGoogle } from './fakeGoogleHealth.ts';

let s: TestServer;
let base: string;
let google: FakeGoogle;
/** A time `minutes` ago, to the minute: readings in the past whatever the hour the test runs at. */
const ago = (minutes: number) => new Date(Math.floor(Date.now() / 60_000 - minutes) * 60_000).toISOString().replace('.000Z', 'Z');

before(async () => {
  google = await startFakeGoogle();
  google.points.set('weight', [
    { at: ago(180), offset: 0, id: '501', value: { weightGrams: 81200 } },
    { at: ago(120), offset: 0, id: '502', value: { weightGrams: 81000 } },
  ]);
  google.points.set('steps', [{ at: ago(90), end: ago(60), offset: 0, value: { count: '3200' } }]);
  s = await startTestServer();
  base = `http://127.0.0.1:${s.port}`;
  await setPassword(s.db, 'jack', 'jack-password');
  assert.equal((await s.request('/internal/plugins/_fitbit', { method: 'PUT' })).status, 200);
});

const logIn = (page: Page, user: string, password: string, returnTo: string) => logInAt(page, base, user, password, returnTo);

const visible = (page: Page, selector: string) => page.isVisible(selector);

describe('_fitbit setup.html with Google', () => {
  it('lets an admin enter the Google Cloud client and choose the data', async () => {
    const { page, problems } = await newPage();
    await logIn(page, 'admin', s.adminPassword, '/plugin/_fitbit/page/setup.html');
    await page.waitForSelector('#app:not([hidden])');
    assert.equal(await page.inputValue('#provider'), 'google-health');
    assert.equal(await visible(page, 'text=Create a project, and enable the'), true, "Google's steps are shown");
    assert.equal(await visible(page, '#system'), false, 'the legacy units are not');
    assert.equal(await page.textContent('#callbackUrl'), `${s.url}/plugin/_fitbit/auth2`);
    assert.match((await page.textContent('#scopes')) ?? '', /googlehealth\.sleep\.readonly/);
    assert.equal(await page.getAttribute('#authorizeUrl', 'placeholder'), 'https://accounts.google.com/o/oauth2/v2/auth');
    await page.fill('#client_id', google.client.id);
    await page.fill('#client_secret', google.client.secret);
    await page.uncheck('#kinds input[value="spo2"]');
    await page.click('details summary');
    await page.fill('#authorizeUrl', google.authorizeUrl);
    await page.fill('#tokenUrl', google.tokenUrl);
    await page.fill('#revokeUrl', google.revokeUrl);
    await page.fill('#apiBase', google.url);
    await page.click('#appForm button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#secretState')?.textContent === '(set; leave empty to keep it)');
    const settings = (await (await s.request('/plugin/_fitbit/settings')).json()) as { data: string; apiBase: string };
    assert.equal(settings.apiBase, google.url);
    assert.ok(!settings.data.split(',').includes('spo2') && settings.data.split(',').includes('sleep'), settings.data);
    assert.deepEqual(problems, []);
  });

  it('takes jack from starting through authorising at Google to his data in his units', async () => {
    const { page, problems } = await newPage();
    await logIn(page, 'jack', 'jack-password', '/plugin/_fitbit/page/setup.html');
    await page.waitForSelector('#person:not([hidden])');
    await page.click('#createUser');
    await page.waitForSelector('#entry:not([hidden])');
    assert.equal(await page.textContent('#authState'), 'not authorised yet');
    assert.equal(await visible(page, '#units'), true);
    assert.equal(await visible(page, '#methods'), false, 'the legacy methods are not for Google');
    assert.equal(await page.textContent('#authorise'), 'Authorise Igor at Google');
    await page.click('#authorise'); // off to Google and back
    await page.waitForURL(/\/plugin\/_fitbit\/page\/setup\.html\?user=jack&authorised=1$/);
    await page.waitForFunction(() => document.querySelector('#authState')?.textContent === 'authorised');
    assert.equal(google.lastAuthorize?.['prompt'], 'consent');
    assert.ok(!google.lastAuthorize?.['scope']?.includes('location'));

    await page.selectOption('#units', 'imperial');
    await page.click('#userForm button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#userForm [data-result]')?.textContent === 'Saved.');
    await page.click('#fetchNow');
    await page.waitForFunction(() => /^Done\./.test(document.querySelector('#fetchResult')?.textContent ?? ''));
    assert.match((await page.textContent('#fetchResult')) ?? '', /weight: 2 new or changed/);
    const r = await s.request('/data/sensors/fitbit/jack/weight?.VARIANT=multi', { headers: { accept: 'application/json' } });
    assert.deepEqual(
      ((await r.json()) as { weight: { weight: number } }[]).map((w) => w.weight.weight),
      [179, 178.6],
    );
    assert.ok(!google.requests.some((q) => q.path.includes('oxygen')), 'SpO2 was left out');
    // And on his dashboard: the latest weighing, in his unit, with when.
    await page.goto(`${base}/`);
    const card = 'article.card[data-path="sensors/fitbit/jack/weight"]';
    await page.waitForSelector(card);
    assert.equal(await page.textContent(`${card} .value`), '178.6 lb');
    assert.match((await page.textContent(`${card} .about`)) ?? '', /^weight · \d+ (hr|min)\. ago$/);
    assert.equal(await page.getAttribute(card, 'data-state'), 'ok');
    assert.deepEqual(problems, []);
  });

  it('explains an account without Fitbit data in one sentence, and the fix', async () => {
    const { page } = await newPage();
    await logIn(page, 'jack', 'jack-password', '/plugin/_fitbit/page/setup.html');
    await page.waitForSelector('#entry:not([hidden])');
    google.notLinked = true;
    await page.click('#fetchNow');
    await page.waitForFunction(() => document.querySelector('#fetchResult')?.className === 'error');
    const said = (await page.textContent('#fetchResult')) ?? '';
    assert.match(said, /this Google account has no Fitbit or Google Health data; authorise with the Google account your Fitbit uses/);
    assert.ok(!said.includes('{'), 'no JSON from Google');
    await page.reload();
    await page.waitForSelector('#authProblem:not([hidden])');
    assert.match((await page.textContent('#authProblem')) ?? '', /has no Fitbit or Google Health data/);
    assert.equal(await page.textContent('#authorise'), 'Authorise Igor at Google again');
    google.notLinked = false;
    await page.click('#authorise');
    await page.waitForFunction(() => document.querySelector('#authState')?.textContent === 'authorised');
    assert.equal(await page.isHidden('#authProblem'), true);
  });

  it('forgets jack at Google when he asks', async () => {
    const { page, problems } = await newPage();
    await logIn(page, 'jack', 'jack-password', '/plugin/_fitbit/page/setup.html');
    await page.waitForSelector('#entry:not([hidden])');
    const revoked = google.grants.revoke;
    const raw = await s.request('/data/identities/jack/plugindata/_fitbit/token/refresh_token?.VARIANT=raw', {
      headers: { accept: 'text/plain' },
    });
    const refreshToken = (await raw.text()).trim();
    assert.ok(google.refreshTokens.has(refreshToken), refreshToken);
    await page.click('#forget');
    await page.waitForFunction(() => document.querySelector('#authState')?.textContent === 'not authorised yet');
    assert.equal(await page.textContent('#fetchResult'), 'Forgotten: revoked at the provider.');
    assert.equal(google.grants.revoke, revoked + 1);
    assert.equal(google.refreshTokens.has(refreshToken), false, 'Google no longer honours it');
    assert.deepEqual(problems, []);
  });
});
