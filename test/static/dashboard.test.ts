/**
 * The pages a household uses every day (issue #18), in headless Chromium at phone and desktop width, over a tree
 * the test builds: the dashboard's cards (latest value, unit, age, trend; amber when stale, red with the source's
 * sentence and a link to fix it when failing), plots of measurements only (not identifiers or constants), one
 * axis per unit with the latest values in the legend, and on every page: the same header, links that answer 200,
 * nothing wider than its box, and no serious or critical accessibility violation (axe-core, run in the page).
 * SCREENSHOTS=DIR keeps the pictures README shows (npm run screenshots).
 */
import { AxeBuilder } from '@axe-core/playwright';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { logIn, newPage } from '../browser.ts';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
let base: string;

const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
const PHONE = { width: 360, height: 780 };
const DESKTOP = { width: 1200, height: 900 };

async function put(path: string, value: unknown): Promise<void> {
  const res = await s.request(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  if (process.env['SCREENSHOTS']) await mkdir(process.env['SCREENSHOTS'], { recursive: true });
  s = await startTestServer();
  base = `http://127.0.0.1:${s.port}`;
  for (const plugin of ['hello', '_fitbit', 'misfit', 'submit', 'pusher'])
    assert.equal((await s.request(`/internal/plugins/${plugin}`, { method: 'PUT' })).status, 200);
  // A Fitbit-shaped weight series: logId (about 1.8e12) beside weight and BMI, and what the plugin declares.
  await put('/data/sensors/fitbit/jack', {
    jack: {
      weight: [
        { dateTime: ago(72 * HOUR), logId: 1800000000001, weight: 81.2, bmi: 24.1, goal: 75 },
        { dateTime: ago(48 * HOUR), logId: 1800000000002, weight: 80.6, bmi: 23.9, goal: 75 },
        { dateTime: ago(3 * HOUR), logId: 1800000000003, weight: 79.9, bmi: 23.7, goal: 75 },
      ],
      steps: [
        { date: ago(48 * HOUR).slice(0, 10), value: 8012 },
        { date: ago(24 * HOUR).slice(0, 10), value: 10544 },
      ],
      units: { weight: { weight: 'kg', bmi: 'kg/m²' }, steps: { value: 'steps' } },
    },
  });
  // The same shape with nothing declared: the rule picks the measurements.
  await put('/data/sensors/scale/jill', {
    jill: {
      weight: [
        { dateTime: ago(50 * HOUR), logId: 1800000000101, id: 7, weight: 62.5, bmi: 21.8, goal: 60 },
        { dateTime: ago(26 * HOUR), logId: 1800000000102, id: 8, weight: 62.1, bmi: 21.7, goal: 60 },
        { dateTime: ago(2 * HOUR), logId: 1800000000103, id: 9, weight: 61.8, bmi: 21.6, goal: 60 },
      ],
    },
  });
  // A meter that stopped reporting ten days ago, and a thermometer's plain value.
  await put('/data/sensors/meter', {
    meter: {
      power: [
        { time: ago(11 * 24 * HOUR), watts: 310 },
        { time: ago(10 * 24 * HOUR), watts: 290 },
      ],
      // Every minute until an hour ago: stale, although younger than the two days a short series gets.
      gas: Array.from({ length: 10 }, (_, i) => ({ time: ago(HOUR + (10 - i) * 60_000), litres: 100 + i })),
      // Weekly, the last five days ago: not stale.
      water: Array.from({ length: 4 }, (_, i) => ({ time: ago((5 + 7 * (3 - i)) * 24 * HOUR), m3: 10 + i })),
    },
  });
  await s.request('/data/sensors/thermometer/temperature', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '21.5' });
  // hello's source is failing, in the words a plugin uses.
  await put('/data/sensors/hello', {
    hello: {
      visits: [
        { date: ago(29 * HOUR).slice(0, 10), count: 2 },
        { date: ago(5 * HOUR).slice(0, 10), count: 3 },
      ],
    },
  });
  await put('/data/status/sensors/hello', {
    hello: {
      alive: false,
      lastActivity: Math.floor(Date.now() / 1000) - 600,
      errorMessage: 'The greeting service refused the key: set it again.',
    },
  });
});

/** A page at the given size, logged in as admin, at `path`; `prepare` runs before the first request. */
async function open(
  path: string,
  viewport = PHONE,
  prepare?: (page: Page) => Promise<unknown>,
): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await newPage();
  await page.setViewportSize(viewport);
  await prepare?.(page);
  await logIn(page, base, 'admin', s.adminPassword, path);
  return { page, problems };
}

const card = (path: string) => `article.card[data-path="${path}"]`;
const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();

describe('the dashboard', () => {
  for (const [size, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`shows each sensor's latest value with its unit, how long ago, and a trend (${size})`, async () => {
      const { page, problems } = await open('/', viewport);
      await page.waitForSelector(card('sensors/fitbit/jack/weight'));
      const shown = async (path: string): Promise<[string, string]> => [
        await text(page, `${card(path)} .value`),
        await text(page, `${card(path)} .about`),
      ];
      assert.deepEqual(await shown('sensors/fitbit/jack/weight'), ['79.9 kg', 'weight · 3 hr. ago']);
      const [steps, stepsAbout] = await shown('sensors/fitbit/jack/steps');
      assert.equal(steps, '10,544 steps');
      assert.match(stepsAbout, /^value · (yesterday|\d+ hr\. ago)$/);
      assert.deepEqual(await shown('sensors/scale/jill/weight'), ['61.8', 'weight · 2 hr. ago']);
      assert.deepEqual(await shown('sensors/meter/power'), ['290', 'watts · 10 days ago']);
      assert.equal(await text(page, `${card('sensors/thermometer/temperature')} .value`), '21.5');
      const colour = await page.evaluate(
        (sel) => getComputedStyle(document.querySelector(sel)!).color,
        `${card('sensors/fitbit/jack/weight')} .value`,
      );
      assert.equal(colour, 'rgb(0, 0, 0)', 'a value in the text colour');
      assert.equal(await page.locator(`${card('sensors/fitbit/jack/weight')} svg.trend polyline`).count(), 1);
      assert.equal(await page.getAttribute(card('sensors/fitbit/jack/weight'), 'data-state'), 'ok');
      if (process.env['SCREENSHOTS'] && size === 'desktop')
        await writeFile(join(process.env['SCREENSHOTS'], 'dashboard.png'), await page.screenshot({ fullPage: true }));
      assert.deepEqual(problems, []);
      await page.context().close();
    });
  }

  it('turns a failing source red with its sentence and a link to fix it, and a stale one amber', async () => {
    const { page, problems } = await open('/');
    const failing = card('sensors/hello/visits');
    await page.waitForSelector(failing);
    assert.equal(await page.getAttribute(failing, 'data-state'), 'failing');
    assert.match(await text(page, `${failing} .problem`), /^The greeting service refused the key: set it again\. Open hello setup$/);
    const fix = page.locator(`${failing} .problem a`);
    assert.equal(await fix.getAttribute('href'), '/plugin/hello/page/setup.html');
    const stale = card('sensors/meter/power');
    assert.equal(await page.getAttribute(stale, 'data-state'), 'stale');
    assert.match(await text(page, `${stale} .problem`), /^No new reading 10 days ago\.$/);
    assert.equal(await page.getAttribute(card('sensors/meter/gas'), 'data-state'), 'stale', 'a minute meter silent for an hour');
    assert.equal(await page.getAttribute(card('sensors/meter/water'), 'data-state'), 'ok', 'a weekly reading five days old');
    const colours = await page.evaluate(
      ([a, b]) => [a, b].map((sel) => getComputedStyle(document.querySelector(sel!)!).borderLeftColor),
      [failing, stale],
    );
    assert.deepEqual(colours, ['rgb(170, 0, 0)', 'rgb(187, 119, 0)']);
    await fix.click();
    await page.waitForURL(`${base}/plugin/hello/page/setup.html`);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

describe('the sensors page', () => {
  it('plots measurements, not identifiers or constants, one axis per unit (per field without one), the latest values in the legend', async () => {
    // The meters come after the weights: their history is held back until a range is picked, so that the range
    // is picked while the page is still drawing (a change it once missed until the first drawing had ended).
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const { page, problems } = await open('/sensors.html', DESKTOP, (p) =>
      p.route('**/history/sensors/meter/**', async (route) => {
        await held;
        await route.continue();
      }),
    );
    const jack = 'figure.chart[data-path="sensors/fitbit/jack/weight"]';
    const jill = 'figure.chart[data-path="sensors/scale/jill/weight"]';
    // A chart draws its canvas first and says what it shows once the history has answered: wait for that, on both.
    await Promise.all([jack, jill].map((chart) => page.waitForSelector(`${chart}[data-fields] canvas`)));
    // Declared: weight and BMI in their units. Undeclared: logId, id and the constant goal are left out.
    assert.equal(await page.getAttribute(jack, 'data-fields'), 'weight bmi');
    assert.equal(await page.getAttribute(jill, 'data-fields'), 'weight bmi');
    const legend = await text(page, `${jack} .legend`);
    assert.match(legend, /weight \(kg\) 79\.9 kg/);
    assert.match(legend, /bmi \(kg\/m²\) 23\.7 kg\/m²/);
    assert.doesNotMatch(legend, /–|logId|goal/);
    assert.equal(await page.locator(`${jack} .u-axis`).count(), 3, 'time, kg and kg/m² axes');
    // Without units nothing says weight and BMI read alike: each its own axis, so neither is flattened (issue 33:
    // one axis ran from 18 to 88 for weights of 78.8 to 81.9).
    assert.equal(await page.locator(`${jill} .u-axis`).count(), 3, 'time, weight and bmi axes');
    const axes = (await page.getAttribute(jill, 'data-axes')) ?? '';
    const span = (label: string) =>
      /(\S+)–(\S+)/
        .exec(axes.split('; ').find((a) => a.startsWith(`${label} `)) ?? '')
        ?.slice(1)
        .map(Number) ?? [];
    const [weightTicks, bmiTicks] = [span('weight'), span('bmi')];
    assert.ok(weightTicks.length === 2 && weightTicks.every((t) => t > 55 && t < 70), `the weight axis: ${axes}`);
    assert.ok(bmiTicks.length === 2 && bmiTicks.every((t) => t > 15 && t < 30), `the BMI axis: ${axes}`);
    // The range picker: in the last day only the latest weighing is left.
    assert.equal(await page.locator('figure.chart[data-path="sensors/meter/power"]').count(), 1);
    await page.selectOption('#range', 'day');
    release();
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('data-shown') === '1', jack);
    if (process.env['SCREENSHOTS']) {
      await page.selectOption('#range', 'all');
      await writeFile(join(process.env['SCREENSHOTS'], 'sensors.png'), await page.screenshot({ fullPage: true }));
    }
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

describe('the actions page', () => {
  it('says whose each action is, when it runs in words, and how its last run went', async () => {
    for (const xml of [
      '<action><name>lights</name><cron>0 4 * * *</cron><url>/data/sandbox/lights</url><method>PUT</method><data>on</data></action>',
      '<action><name>weekly</name><cron>30 7 * * 1</cron><url>/data/sandbox/weekly</url><method>PUT</method><data>1</data></action>',
      '<action><name>copyTemp</name><xpath>/data/sensors/thermometer/temperature</xpath><url>/data/sandbox/temp</url><method>PUT</method><data>{.}</data></action>',
      '<action><name>broken</name><url>/plugin/nosuch/x</url></action>',
    ]) {
      const res = await s.request('/data/actions/action', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml });
      assert.equal(res.status, 200, await res.text());
    }
    for (const name of ['lights', 'broken']) assert.equal((await s.request(`/action/${name}`)).status, 200);
    await s.request('/internal/flush');
    const { page, problems } = await open('/actions.html', DESKTOP);
    const row = (name: string) => `#actions tr:has(td:first-child:text-matches("^${name}"))`;
    await page.waitForSelector(row('broken'));
    const cells = async (name: string) => (await page.locator(`${row(name)} td`).allInnerTexts()).slice(0, 4).map((t) => t.trim());
    assert.deepEqual(await cells('fetch'), ['fetch · _fitbit', 'every 10 h', 'GET /plugin/_fitbit/all', (await cells('fetch'))[3]]);
    assert.match((await cells('fetch'))[3]!, /^ran .* ago: ok$|^ran now: ok$/);
    assert.deepEqual((await cells('lights')).slice(0, 2), ['lights', 'daily at 04:00']);
    assert.match((await cells('lights'))[3]!, /^ran .*: ok$/);
    assert.deepEqual((await cells('weekly')).slice(1, 2), ['on Mondays at 07:30']);
    assert.equal((await cells('weekly'))[3], 'not run yet');
    assert.deepEqual((await cells('copyTemp')).slice(1, 2), ['when sensors/thermometer/temperature changes']);
    assert.match((await cells('broken'))[3]!, /^failed .*: 404 .*nosuch/);
    assert.equal((await cells('broken'))[1], 'only when run by name');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

/** The pages a person reaches, logged in as admin: the host's and the plugins' own. */
const PAGES = [
  '/',
  '/sensors.html',
  '/sensors.html?path=sensors/thermometer/temperature',
  '/tree.html',
  '/actions.html',
  '/plugins.html',
  '/users.html',
  '/plugin/hello/page/setup.html',
  '/plugin/hello/page/readme.md',
  '/plugin/_fitbit/page/setup.html',
  '/plugin/_fitbit/page/readme.md',
  '/plugin/misfit/page/setup.html',
  '/plugin/misfit/page/readme.md',
  '/plugin/submit/page/readme.md',
  '/plugin/pusher/page/readme.md',
  '/login',
];

/** Elements whose content is wider than their box (scrolling containers aside), and buttons whose label wraps. */
function overflowing(): string[] {
  const found: string[] = [];
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || ['auto', 'scroll', 'hidden'].includes(style.overflowX)) continue;
    if (el.closest('table, pre, .u-wrap, svg')) continue; // scroll on their own, or drawn to size
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
      found.push(`${el.tagName.toLowerCase()}: ${el.textContent?.slice(0, 40)}`);
    if (
      el.tagName === 'BUTTON' &&
      el.getClientRects().length &&
      el.getBoundingClientRect().height > parseFloat(style.lineHeight || '20') * 1.9 + 20
    )
      found.push(`button wraps: ${el.textContent}`);
  }
  return found;
}

/**
 * Words broken across lines inside table cells ("copy-tree" at 1280 px, "/internal/started" over four lines at
 * 360 px), and tables wider than the screen: each found word with the cell it is in.
 */
function brokenWords(): string[] {
  const found: string[] = [];
  for (const table of document.querySelectorAll('table')) {
    if (!table.checkVisibility()) continue;
    if (table.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      found.push(`table wider than the screen: ${table.id}`);
    const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const cell = n.parentElement?.closest('td, th');
      if (!cell) continue;
      const room = cell.clientWidth - parseFloat(getComputedStyle(cell).paddingLeft) - parseFloat(getComputedStyle(cell).paddingRight);
      for (const m of (n.nodeValue ?? '').matchAll(/\S{4,}/g)) {
        const range = document.createRange();
        range.setStart(n, m.index!);
        range.setEnd(n, m.index! + m[0].length);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        const width = rects.reduce((sum, r) => sum + r.width, 0);
        // Broken over lines although a line of the cell could hold it whole.
        if (new Set(rects.map((r) => Math.round(r.top))).size > 1 && width <= room + 1)
          found.push(`"${m[0]}" broken in ${table.id || 'a table'}`);
      }
    }
  }
  return found;
}

describe('every table', () => {
  for (const [size, viewport] of [
    ['360 px', PHONE],
    ['1280 px', { width: 1280, height: 800 }],
  ] as const) {
    it(`keeps its words whole and fits the screen at ${size}`, async () => {
      const { page } = await open('/', viewport);
      for (const path of ['/actions.html', '/plugins.html', '/users.html', '/sensors.html']) {
        await page.goto(base + path);
        await page.waitForSelector('table tbody tr');
        await page.waitForLoadState('networkidle');
        assert.deepEqual(await page.evaluate(brokenWords), [], `${path} at ${size}`);
      }
      await page.context().close();
    });
  }
});

describe('every page', () => {
  it('has the shared header, links that answer 200, nothing overflowing at 360 px, and no serious accessibility problem', async () => {
    const { page, problems } = await open('/');
    const checked = new Set<string>();
    for (const path of PAGES) {
      await page.goto(base + path);
      await page.waitForSelector('nav.top .account');
      assert.match(await page.title(), / — Igor-TS$/, `${path} has a title in the house style`);
      assert.equal(await page.locator('nav.top a[href="/plugins.html"]').count(), 1, `${path} has the header`);
      await page.waitForLoadState('networkidle');
      assert.deepEqual(await page.evaluate(overflowing), [], `${path} fits 360 px`);
      const axe = await new AxeBuilder({ page }).analyze();
      const serious = axe.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      assert.deepEqual(serious, [], `${path}: accessibility`);
      const links = await page.evaluate(() =>
        [...document.querySelectorAll('a[href]')].filter((a) => a.checkVisibility()).map((a) => (a as HTMLAnchorElement).href),
      );
      for (const link of links) {
        const url = new URL(link);
        if (url.origin !== base || checked.has(url.pathname + url.search)) continue;
        checked.add(url.pathname + url.search);
        const res = await page.request.get(link, { maxRedirects: 0 });
        assert.ok([200, 303].includes(res.status()), `${link} on ${path} answers ${res.status()}`);
      }
      if (process.env['SCREENSHOTS'] && path === '/plugin/_fitbit/page/setup.html')
        await writeFile(join(process.env['SCREENSHOTS'], 'fitbit-setup.png'), await page.screenshot({ fullPage: true }));
    }
    assert.ok(checked.size > 10, `${checked.size} links checked`);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
