/**
 * The whole path as people take it, in a real headless Chromium: an admin registers the app on setup.html;
 * jack creates his entry, follows the authorise link to a real OAuth2 server on 127.0.0.1 and back, gets his
 * data, and sees body weight in GET /data/sensors/fitbit/jack; later the page tells him to re-authorise.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { setPassword } from '../../../src/auth/users.ts';
import { logIn as logInAt, newPage } from '../../browser.ts';
import { startTestServer, type TestServer } from '../../helpers.ts';
import { startOAuthProvider, type StrictProvider } from '../../oauthProvider.ts';
import { startFakeFitbit, type FakeFitbit } from './fakeFitbit.ts';

const CLIENT = { id: '23BROWSER', secret: 'browser-client-secret' };

let s: TestServer;
let base: string;
let provider: StrictProvider;
let fitbit: FakeFitbit;

before(async () => {
  provider = await startOAuthProvider(CLIENT, { authorize: '/oauth2/authorize', token: '/oauth2/token' });
  fitbit = await startFakeFitbit(provider);
  fitbit.weights.set('2026-11-20', 81.5).set('2026-11-21', 81.2);
  s = await startTestServer();
  base = `http://127.0.0.1:${s.port}`;
  await setPassword(s.db, 'jack', 'jack-password');
  assert.equal((await s.request('/internal/plugins/_fitbit', { method: 'PUT' })).status, 200);
});

const logIn = (page: Page, user: string, password: string, returnTo: string) => logInAt(page, base, user, password, returnTo);

async function screenshotIsReal(page: Page): Promise<void> {
  const shot = await page.screenshot({ fullPage: true });
  assert.ok(shot.length > 3000, `a screenshot of ${shot.length} bytes`);
}

describe('_fitbit setup.html', () => {
  it('lets an admin register the app', async () => {
    const { page, problems } = await newPage();
    await logIn(page, 'admin', s.adminPassword, '/plugin/_fitbit/page/setup.html');
    await page.waitForSelector('#app:not([hidden])');
    assert.equal(await page.textContent('#callbackUrl'), `${s.url}/plugin/_fitbit/auth2`);
    assert.equal(await page.textContent('#secretState'), '(not set)');
    await page.selectOption('#provider', 'fitbit-legacy');
    await page.fill('#client_id', CLIENT.id);
    await page.fill('#client_secret', CLIENT.secret);
    await page.click('details summary');
    await page.fill('#apiBase', fitbit.url);
    await page.fill('#authorizeUrl', provider.authorizeUrl);
    await page.fill('#tokenUrl', provider.tokenUrl);
    await page.click('#appForm button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#secretState')?.textContent === '(set; leave empty to keep it)');
    assert.equal(await page.inputValue('#client_secret'), '', 'the secret is not shown back');
    assert.equal(await page.inputValue('#client_id'), CLIENT.id);
    await screenshotIsReal(page);
    assert.deepEqual(problems, []);
  });

  it('takes jack from creating his entry through authorising to seeing his weight', async () => {
    const { page, problems } = await newPage();
    await logIn(page, 'jack', 'jack-password', '/plugin/_fitbit/page/setup.html');
    await page.waitForSelector('#person:not([hidden])');
    assert.equal(await page.isHidden('#app'), true, 'the app settings are for admins');
    await page.click('#createUser');
    await page.waitForSelector('#entry:not([hidden])');
    assert.equal(await page.textContent('#authState'), 'not authorised yet');

    await page.click('#authorise'); // off to the OAuth2 server and back
    await page.waitForURL(/\/plugin\/_fitbit\/page\/setup\.html\?user=jack&authorised=1$/);
    await page.waitForFunction(() => document.querySelector('#authState')?.textContent === 'authorised');
    assert.equal(provider.grants.authorization_code, 1);

    await page.click('#fetchNow');
    await page.waitForFunction(() => /^Done\./.test(document.querySelector('#fetchResult')?.textContent ?? ''));
    assert.equal(await page.textContent('#fetchResult'), 'Done. weight: 2 new or changed');
    await screenshotIsReal(page);
    assert.deepEqual(problems, []);

    const r = await s.request('/data/sensors/fitbit/jack', { headers: { accept: 'application/json' } });
    const weights = ((await r.json()) as { jack: { weight: { date: string; weight: number }[] } }).jack.weight;
    assert.deepEqual(
      weights.map((w) => [w.date, w.weight]),
      [
        ['2026-11-20', 81.5],
        ['2026-11-21', 81.2],
      ],
    );
    assert.ok(fitbit.requests.every((q) => q.authorised));
  });

  it('lets jack change his defaults, and the periodic action uses them', async () => {
    const { page, problems } = await newPage();
    await logIn(page, 'jack', 'jack-password', '/plugin/_fitbit/page/setup.html?user=jack');
    await page.waitForSelector('#entry:not([hidden])');
    await page.fill('#methods', 'time_series');
    await page.fill('#resource', 'body/weight');
    await page.fill('#period', '7d');
    await page.click('#userForm button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#userForm [data-result]')?.textContent === 'Saved.');
    assert.equal((await s.request('/action/_fitbit/fetch')).status, 200);
    await s.request('/internal/flush');
    const r = await s.request('/data/sensors/fitbit/jack/body-weight?.VARIANT=multi', { headers: { accept: 'application/json' } });
    assert.equal(((await r.json()) as unknown[]).length, 2);
    assert.deepEqual(problems, []);
  });

  it('tells jack to re-authorise when Fitbit refuses to refresh his token', async () => {
    provider.refuseRefresh = true;
    await s.request('/data/identities/jack/plugindata/_fitbit/token/expires_at?.VARIANT=raw', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: '1000',
    });
    const { page } = await newPage();
    await logIn(page, 'jack', 'jack-password', '/plugin/_fitbit/page/setup.html');
    await page.waitForSelector('#entry:not([hidden])');
    await page.click('#fetchNow');
    await page.waitForFunction(() => document.querySelector('#fetchResult')?.className === 'error');
    assert.match((await page.textContent('#fetchResult')) ?? '', /must authorise _fitbit again/);
    await page.reload();
    await page.waitForFunction(() => /re-authorise/.test(document.querySelector('#authState')?.textContent ?? ''));
    assert.equal(await page.textContent('#authorise'), 'Authorise Igor at Fitbit again');
  });
});
