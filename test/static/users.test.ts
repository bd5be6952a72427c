/**
 * The users page (issue #18) in headless Chromium: an admin adds a family member, makes and unmakes an admin,
 * sets a password and deletes a user; the family member changes their own password (staying logged in) and makes
 * and revokes an API token, shown once, and sees where they are logged in and logs out there or everywhere. All through the REST routes `igor user` and `igor token` use: what the page did is checked
 * by logging in and by using the token, and the server's refusals appear as it words them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { logIn, newPage } from '../browser.ts';
import { basic, startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
let base: string;

before(async () => {
  s = await startTestServer();
  base = `http://127.0.0.1:${s.port}`;
});

const row = (name: string) => `#users tr[data-user="${name}"]`;
const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();
const canLogIn = async (user: string, password: string) =>
  (await s.anonymous('/data/environment', { headers: { authorization: basic(user, password) } })).status;

describe('the users page', () => {
  it('lets an admin add a family member, make and unmake an admin, set a password and delete a user', async () => {
    const { page, problems } = await newPage();
    await logIn(page, base, 'admin', s.adminPassword, '/users.html');
    await page.waitForSelector(row('admin'));
    assert.equal(await text(page, 'nav.top a[href="/users.html"]'), 'Users');

    await page.fill('#newName', 'jill');
    await page.fill('#newPassword', 'Blue-harbour-7');
    await page.click('#addUser button[type=submit]');
    await page.waitForSelector(row('jill'));
    assert.equal(await text(page, '#result'), 'jill can now log in.');
    assert.equal(await text(page, `${row('jill')} td:nth-child(2)`), 'no');
    assert.equal(await canLogIn('jill', 'Blue-harbour-7'), 200);

    // A weak password: the server's reason, as it says it, and nothing added.
    await page.fill('#newName', 'kid');
    await page.fill('#newPassword', 'short');
    await page.click('#addUser button[type=submit]');
    await page.waitForSelector('#result.error');
    assert.equal(await text(page, '#result'), 'a password needs at least 8 characters');
    assert.equal(await page.locator(row('kid')).count(), 0);

    await page.fill('#newPassword', 'Quiet-river-9');
    await page.click('#addUser button[type=submit]');
    await page.waitForSelector(row('kid'));
    await page.click(`${row('kid')} button[data-admin]`);
    await page.waitForFunction((sel) => document.querySelector(`${sel} td:nth-child(2)`)?.textContent === 'yes', row('kid'));
    await page.click(`${row('kid')} button[data-admin]`);
    await page.waitForFunction((sel) => document.querySelector(`${sel} td:nth-child(2)`)?.textContent === 'no', row('kid'));

    page.once('dialog', (d) => void d.accept('Green-meadow-8'));
    await page.click(`${row('jill')} button[data-password]`);
    await page.waitForFunction(() => document.getElementById('result')?.textContent === 'The password of jill is changed.');
    assert.equal(await canLogIn('jill', 'Green-meadow-8'), 200);
    assert.equal(await canLogIn('jill', 'Blue-harbour-7'), 401);

    page.once('dialog', (d) => void d.accept());
    await page.click(`${row('kid')} button[data-remove]`);
    await page.waitForFunction((sel) => !document.querySelector(sel), row('kid'));
    assert.equal(await canLogIn('kid', 'Quiet-river-9'), 401);
    assert.deepEqual(
      problems.filter((p) => !/status of 400/.test(p)),
      [],
    );
    await page.context().close();
  });

  it('lets a user change their own password and make and revoke a token, shown once', async () => {
    await s.request('/internal/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'jack', password: 'Red-lantern-4' }),
    });
    const { page, problems } = await newPage();
    await logIn(page, base, 'jack', 'Red-lantern-4', '/users.html');
    await page.waitForSelector('#tokenList li');
    assert.equal(await text(page, 'nav.top a[href="/users.html"]'), 'My account');
    assert.equal(await page.isHidden('#everyone'), true, 'only an admin sees everyone');

    await page.fill('#oldPassword', 'not-my-password');
    await page.fill('#password1', 'Tall-cedar-5');
    await page.click('#password button[type=submit]');
    await page.waitForSelector('#result.error');
    assert.equal(await text(page, '#result'), 'the old password is not right');
    await page.fill('#oldPassword', 'Red-lantern-4');
    await page.fill('#password1', 'Tall-cedar-5');
    await page.click('#password button[type=submit]');
    await page.waitForFunction(() => document.getElementById('result')?.textContent === 'Your password is changed.');
    assert.equal(await canLogIn('jack', 'Tall-cedar-5'), 200);

    await page.fill('#tokenPath', '/data/sensors/kitchen');
    await page.check('#newToken input[value="put"]');
    await page.fill('#tokenComment', 'kitchen thermometer');
    await page.click('#newToken button[type=submit]');
    await page.waitForSelector('#made:not([hidden])');
    const token = await text(page, '#madeToken');
    assert.match(token, /^igor_/);
    await page.waitForSelector('#tokenList li[data-token]');
    assert.match(
      (await page.locator('#tokenList li[data-token]').innerText()).replace(/\s+/g, ' '),
      /^\/data\/sensors\/kitchen get,put · jack · no expiry · kitchen thermometer Revoke$/,
    );
    const bearer = { authorization: `Bearer ${token}` };
    await s.request('/data/sensors/kitchen', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '20.5' });
    const read = () => s.anonymous('/data/sensors/kitchen', { headers: bearer });
    const first = await read();
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal((await s.anonymous('/data/environment', { headers: bearer })).status, 403, 'only its path');
    // The token is nowhere on the page once it is reloaded.
    await page.reload();
    await page.waitForSelector('#tokenList li[data-token]');
    assert.equal((await page.content()).includes(token), false);

    await page.click('#tokenList li[data-token] button[data-revoke]');
    await page.waitForFunction(() => !document.querySelector('#tokenList li[data-token]'));
    assert.equal((await read()).status, 401);
    assert.deepEqual(
      problems.filter((p) => !/status of 403/.test(p)),
      [],
    );
    await page.context().close();
  });

  it('shows a user where they are logged in, and logs them out there, or everywhere', async () => {
    await s.request('/internal/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'joan', password: 'Slow-comet-3' }),
    });
    const laptop = await newPage();
    const phone = await newPage();
    await logIn(phone.page, base, 'joan', 'Slow-comet-3', '/users.html');
    await logIn(laptop.page, base, 'joan', 'Slow-comet-3', '/users.html');
    await laptop.page.waitForSelector('#sessionList li[data-session] >> nth=1');
    assert.match(await text(laptop.page, '#sessionList'), /this one/);
    await laptop.page.click('#sessionList button[data-end]');
    await laptop.page.waitForFunction(() => document.getElementById('result')?.textContent === 'That browser is logged out.');
    await phone.page.goto(`${base}/users.html`);
    await phone.page.waitForSelector('#login:not([hidden])');
    laptop.page.once('dialog', (dialog) => void dialog.accept());
    await laptop.page.click('#everywhere');
    await laptop.page.waitForURL(/\/login/);
    await laptop.page.goto(`${base}/users.html`);
    await laptop.page.waitForSelector('#login:not([hidden])');
    await laptop.page.context().close();
    await phone.page.context().close();
  });
});
