/** The hello plugin's setup page in a real browser: log in, read the setting, change it, see it escaped. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { newPage } from '../../browser.ts';
import { startTestServer, type TestServer } from '../../helpers.ts';

let s: TestServer;
let base: string;

before(async () => {
  s = await startTestServer();
  base = `http://127.0.0.1:${s.port}`;
  assert.equal((await s.request('/internal/plugins/hello', { method: 'PUT' })).status, 200);
});

describe('hello setup page', () => {
  it('lets an admin who logs in change the greeting, and shows what was typed as text', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${base}/login?returnTo=${encodeURIComponent('/plugin/hello/page/setup.html')}`);
    await page.fill('#username', 'admin');
    await page.fill('#password', s.adminPassword);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/plugin/hello/page/setup.html`);
    await page.waitForFunction(() => (document.querySelector('#greeting') as HTMLInputElement).value === 'Hello');
    assert.equal(await page.textContent('h1'), 'hello setup');

    const nasty = '<img src=x onerror="window.pwned=1">Hoi & welkom';
    await page.fill('#greeting', nasty);
    await page.keyboard.press('Enter'); // submitting with the keyboard works
    await page.waitForFunction((text) => document.querySelector('#now')?.textContent === text, nasty);
    assert.equal(await page.textContent('[data-result]'), 'Saved.');
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator('img').count(), 0, 'the value was not turned into HTML');
    assert.equal(await (await s.anonymous('/plugin/hello')).text(), `${nasty} from hello!\n`);

    const shot = await page.screenshot({ fullPage: true });
    assert.ok(shot.length > 2000, `screenshot of ${shot.length} bytes`);
    assert.deepEqual(problems, []);
  });

  it('tells a visitor who is not logged in what to do, and changes nothing', async () => {
    const { page } = await newPage();
    await page.goto(`${base}/plugin/hello/page/setup.html`);
    await page.waitForSelector('[data-result]:not([hidden])');
    assert.match((await page.textContent('[data-result]')) ?? '', /log in/);
    await page.fill('#greeting', 'Changed by a stranger');
    await page.click('button[type=submit]');
    await page.waitForFunction(
      () =>
        /log in/.test(document.querySelector('[data-result]')?.textContent ?? '') &&
        document.querySelector('[data-result]')?.className === 'error',
    );
    assert.notEqual(await (await s.anonymous('/plugin/hello')).text(), 'Changed by a stranger from hello!\n');
  });
});
