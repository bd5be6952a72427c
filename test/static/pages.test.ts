/**
 * The host's web pages in a real headless Chromium, used as a person would: home and status, the tree
 * editor, actions, live sensor plots and plugins — on a phone-sized screen, without console errors.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { newPage } from '../browser.ts';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
let base: string;

before(async () => {
  s = await startTestServer();
  base = `http://127.0.0.1:${s.port}`;
});

async function logIn(page: Page, returnTo: string): Promise<void> {
  await page.goto(`${base}/login?returnTo=${encodeURIComponent(returnTo)}`);
  await page.fill('#username', 'admin');
  await page.fill('#password', s.adminPassword);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}${returnTo}`);
}

/** Checks the screenshot and that the page logged no errors but the refusals the test provoked (`expected`). */
async function done(page: Page, problems: string[], expected?: RegExp): Promise<void> {
  const shot = await page.screenshot({ fullPage: true });
  assert.ok(shot.length > 2000, `a screenshot of ${shot.length} bytes`);
  // SCREENSHOTS=DIR keeps them, to look at.
  if (process.env['SCREENSHOTS'])
    await writeFile(join(process.env['SCREENSHOTS'], `${new URL(page.url()).pathname.replace(/\W+/g, '_')}.png`), shot);
  assert.deepEqual(
    problems.filter((p) => !expected?.test(p)),
    [],
  );
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page fits a phone's width (${width} px)`);
  await page.context().close();
}

const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();

describe('home', () => {
  it('shows what is alive to anyone, and logs in and out', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('#status li[data-path="igor/start"]');
    assert.equal(await text(page, '#status li[data-path="igor/start"] .alive-true'), 'working');
    await page.click('nav.top >> text=Log in');
    await page.fill('#username', 'admin');
    await page.fill('#password', s.adminPassword);
    await page.keyboard.press('Enter');
    await page.waitForSelector('nav.top .account button');
    assert.match(await text(page, 'nav.top .account'), /^admin \(admin\)/);
    await page.click('nav.top .account button');
    await page.waitForSelector('nav.top >> text=Log in');
    await done(page, problems);
  });
});

describe('tree', () => {
  it("browses, adds, edits and deletes, and shows the server's refusals as they are", async () => {
    const { page, problems } = await newPage();
    await logIn(page, '/tree.html?path=/data/sandbox');
    await page.waitForSelector('#node:not([hidden])');
    await page.fill('#newName', 'note');
    await page.fill('#newValue', '<b>bold?</b>');
    await page.click('#add button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#result')?.textContent === 'Added note.');
    await page.click('#children a[data-to="/data/sandbox/note"]');
    await page.waitForFunction(() => (document.querySelector('#value') as HTMLInputElement).value === '<b>bold?</b>');
    assert.equal(await page.locator('#view b').count(), 0, 'the value is text, not HTML');
    await page.fill('#value', 'plain now');
    await page.click('#edit button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#result')?.textContent === 'Saved.');
    const stored = await (await s.request('/data/sandbox/note', { headers: { accept: 'text/plain' } })).text();
    assert.equal(stored.trim(), 'plain now');
    await page.click('#asXml');
    assert.match(await text(page, '#view'), /^<note>plain now<\/note>/);
    await page.fill('#newName', '1bad');
    await page.click('#add button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#result')?.className === 'error');
    assert.match(await text(page, '#result'), /XPath|tag|name/i);
    await page.click('#delete');
    await page.click('#confirmDelete');
    await page.waitForFunction(() => /^Deleted/.test(document.querySelector('#result')?.textContent ?? ''));
    assert.equal((await s.request('/data/sandbox/note')).status, 404);
    assert.equal(new URL(page.url()).searchParams.get('path'), '/data/sandbox');
    await done(page, problems, /status of 400/);
  });
});

describe('actions', () => {
  it("creates an action with the form, runs it, edits it, and refuses a bad one with the server's reason", async () => {
    const { page, problems } = await newPage();
    await logIn(page, '/actions.html');
    await page.waitForSelector('#form:not([hidden])');
    await page.fill('#name', 'lamp');
    await page.fill('#url', '/data/sandbox/lamp');
    await page.selectOption('#method', 'PUT');
    await page.fill('#data', 'on');
    await page.fill('#representing', 'devices/lamp');
    await page.click('#form button[type=submit]');
    await page.waitForSelector('#actions tr:has-text("lamp") button[data-run]');
    await page.click('#actions tr:has-text("lamp") button[data-run]');
    await page.waitForFunction(() => document.querySelector('#result')?.textContent === 'Ran lamp.');
    await page.waitForFunction(() =>
      /^ran .*: ok$/.test(document.querySelector('#actions tr[data-ref^="/data/actions/action"]:last-child .last')?.textContent ?? ''),
    );
    assert.equal((await (await s.request('/data/sandbox/lamp', { headers: { accept: 'text/plain' } })).text()).trim(), 'on');

    await page.click('#actions tr:has-text("lamp") button[data-edit]');
    assert.equal(await page.inputValue('#data'), 'on');
    await page.fill('#data', 'off');
    await page.click('#form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#result')?.textContent === 'Action saved.');
    await page.click('#actions tr:has-text("lamp") button[data-run]');
    await page.waitForFunction(() => document.querySelector('#result')?.textContent === 'Ran lamp.');
    assert.equal((await (await s.request('/data/sandbox/lamp', { headers: { accept: 'text/plain' } })).text()).trim(), 'off');

    await page.fill('#name', 'broken');
    await page.fill('#url', '/data/sandbox/x');
    await page.fill('#cron', 'not a schedule');
    await page.click('#form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#result')?.className === 'error');
    assert.match(await text(page, '#result'), /cron/);
    await page.click('#clear');

    await page.click('#actions tr:has-text("lamp") button[data-remove]');
    await page.waitForFunction(() => /^Deleted/.test(document.querySelector('#result')?.textContent ?? ''));
    await page.waitForFunction(() => ![...document.querySelectorAll('#actions tr')].some((tr) => tr.textContent?.includes('lamp')));
    await done(page, problems, /status of 400/);
  });
});

describe('sensors', () => {
  it('plots each time series and updates the plot when a reading arrives', async () => {
    for (const [d, v] of [
      ['2026-11-01', 80.2],
      ['2026-11-02', 80],
      ['2026-11-03', 79.8],
    ] as const) {
      await s.request('/data/sensors/scale/jack/weight', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ weight: { dateTime: d, value: v } }),
      });
    }
    await s.request('/data/sensors/thermometer/temperature', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '21.5' });
    const { page, problems } = await newPage();
    await logIn(page, '/sensors.html');
    await page.waitForSelector('figure.chart[data-points="3"] canvas');
    assert.equal(await text(page, 'figure.chart figcaption'), 'sensors/scale/jack/weight');
    await page.waitForSelector('#live[data-connected="true"]');
    await page.waitForSelector('#values td:has-text("sensors/thermometer/temperature")');
    await s.request('/data/sensors/scale/jack/weight', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ weight: { dateTime: '2026-11-04', value: 79.5 } }),
    });
    await page.waitForSelector('figure.chart[data-points="4"]');
    await s.request('/data/sensors/thermometer/temperature', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '22' });
    await page.waitForSelector('#values td:text-is("22")');
    await done(page, problems);
  });

  it('tells a visitor who is not logged in to log in', async () => {
    const { page } = await newPage();
    await page.goto(`${base}/sensors.html`);
    await page.waitForSelector('#problem:not([hidden])');
    assert.match(await text(page, '#problem'), /log in/);
    await page.context().close();
  });
});

describe('plugins', () => {
  it('installs a plugin, again under another name, and removes it', async () => {
    const { page, problems } = await newPage();
    await logIn(page, '/plugins.html');
    await page.click('#available tr[data-source="hello"] button[data-install]');
    await page.waitForSelector('#installed tr[data-name="hello"]');
    assert.match(await text(page, '#installed tr[data-name="hello"]'), /running/);
    await page.fill('#installName', 'hi');
    await page.selectOption('#installSource', 'hello');
    await page.click('#install button[type=submit]');
    await page.waitForSelector('#installed tr[data-name="hi"]');
    assert.equal(await (await s.anonymous('/plugin/hi')).text(), 'Hello from hi!\n');
    await page.click('#installed tr[data-name="hi"] button[data-remove]');
    await page.waitForFunction(() => !document.querySelector('#installed tr[data-name="hi"]'));
    await page.goto(`${base}/`);
    await page.waitForSelector('#plugins a[href="/plugin/hello/page/setup.html"]');
    await done(page, problems);
  });
});
