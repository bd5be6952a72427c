/** A headless Chromium (Debian's, driven by playwright-core) for page tests; closed when the test file ends. */
import { after } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
});

export async function launchBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return browser;
}

/** A new page whose console errors and uncaught exceptions are collected in `problems`. */
export async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await (await launchBrowser()).newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { page, problems };
}

/** Logs in through the login page and waits until it has gone back to `returnTo`. */
export async function logIn(page: Page, base: string, user: string, password: string, returnTo: string): Promise<void> {
  await page.goto(`${base}/login?returnTo=${encodeURIComponent(returnTo)}`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}${returnTo}`);
}
