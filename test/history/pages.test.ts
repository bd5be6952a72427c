/**
 * The history on the pages, in headless Chromium: an MQTT thermometer (zigbee2mqtt-shaped, through the embedded
 * broker, each message with its own timestamp) has its last week on the sensors page; a meter with thousands of
 * readings is plotted at about one point per pixel, and zooming in asks /history again, down to raw readings;
 * the dashboard's cards draw their trend from the history and open a page of the sensor's past.
 * SCREENSHOTS=DIR keeps the sensors page's picture README shows.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { logIn, newPage } from '../browser.ts';
import { onCleanup, startTestServer, waitFor, type TestServer } from '../helpers.ts';
import { sqliteSkip } from './setup.ts';

let s: TestServer;
let base: string;
const HOUR = 3600;
const now = Math.floor(Date.now() / 1000);
const DESKTOP = { width: 1200, height: 900 };

async function points(path: string, from: number): Promise<number> {
  const res = await s.request(`/history/${path}?from=${from}&points=10000`, { headers: { accept: 'application/json' } });
  const answer = (await res.json()) as { series: { points: unknown[] }[] };
  return answer.series[0]?.points.length ?? 0;
}

before(async () => {
  if (sqliteSkip) return;
  // The meter below comes as one body of 15,121 elements: more than --max-body-elements' default allows.
  s = await startTestServer({ mqttBroker: '0', maxBodyElements: '20000' });
  base = `http://127.0.0.1:${s.port}`;
  const sub = await s.request('/data/mqtt/subscription', {
    method: 'PUT',
    headers: { 'content-type': 'application/xml' },
    body: '<subscription><topic>zigbee2mqtt/+</topic><dst>/data/sensors/zigbee/{1}</dst><mimetype>application/json</mimetype></subscription>',
  });
  assert.equal(sub.status, 200, await sub.text());
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, {
    username: 'admin',
    password: s.adminPassword,
    reconnectPeriod: 0,
  });
  onCleanup(() => client.endAsync(true));
  // A week of hourly readings, the newest now.
  for (let i = 0; i < 168; i++) {
    const reading = { temperature: 20 + (i % 24) / 4, humidity: 50 + (i % 10), timestamp: now - (167 - i) * HOUR };
    await client.publishAsync('zigbee2mqtt/thermo', JSON.stringify(reading), { qos: 1 });
  }
  await waitFor(async () => (await points('sensors/zigbee/thermo/temperature', now - 8 * 24 * HOUR)) === 168, 'the week to be recorded');
  // A meter as a plugin stores it: 5,040 readings, one every two minutes for the week.
  const power = Array.from({ length: 5040 }, (_, i) => ({
    time: new Date((now - (5039 - i) * 120) * 1000).toISOString(),
    watts: 100 + (i % 60),
  }));
  const res = await s.request('/data/sensors/meter', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meter: { power } }),
  });
  assert.equal(res.status, 200, await res.text());
  // A plug and a lamp too: a page of several plots.
  for (const [path, value] of [
    ['/data/devices/plug', { power: 12.5, on: true }],
    ['/data/devices/lamp', { level: 40 }],
  ] as const) {
    const put = await s.request(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
    assert.equal(put.status, 200, await put.text());
  }
  const jill = await s.request('/internal/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'jill', password: 'correct horse battery staple' }),
  });
  assert.equal(jill.status, 200, await jill.text());
});

async function open(path: string, user = 'admin', password = s.adminPassword): Promise<{ page: Page; problems: string[] }> {
  const { page, problems } = await newPage();
  await page.setViewportSize(DESKTOP);
  await logIn(page, base, user, password, path);
  return { page, problems };
}

const chart = (path: string) => `figure.chart[data-path="${path}"]`;
const attr = (page: Page, selector: string, name: string) => page.getAttribute(selector, `data-${name}`);

describe('the sensors page, from the history', { skip: sqliteSkip }, () => {
  it("plots an MQTT thermometer's last week", async () => {
    const { page, problems } = await open('/sensors.html');
    const thermo = chart('sensors/zigbee/thermo');
    await page.selectOption('#range', 'week');
    await page.waitForSelector(`${thermo}[data-points="168"] canvas`);
    assert.equal(await attr(page, thermo, 'fields'), 'humidity temperature');
    assert.equal(await attr(page, thermo, 'level'), 'raw');
    assert.match(((await page.textContent(`${thermo} .legend`)) ?? '').replace(/\s+/g, ' '), /temperature 25\.75/);
    if (process.env['SCREENSHOTS'])
      await writeFile(join(process.env['SCREENSHOTS'], 'history.png'), await page.screenshot({ fullPage: true }));
    // The last day of it: 24 readings and the one on its first second.
    await page.selectOption('#range', 'day');
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-points')) <= 25, thermo);
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  it('asks for about one point per pixel, and again for what a drag zooms into, down to raw readings', async () => {
    const { page, problems } = await open('/sensors.html');
    const meter = chart('sensors/meter/power');
    await page.selectOption('#range', 'week');
    await page.waitForSelector(`${meter}[data-level="5m"] canvas`);
    const width = (await page.locator(`${meter} .u-over`).boundingBox())!.width;
    const weekPoints = Number(await attr(page, meter, 'points'));
    // About one a pixel: the page may have laid out a little wider (before its scroll bar) when it asked.
    assert.ok(weekPoints <= width * 1.1 && weekPoints > width / 2, `${weekPoints} points for ${width} pixels, not 5,040`);
    // Drag across the last twentieth of the week: about eight hours, 250 raw readings.
    const box = (await page.locator(`${meter} .u-over`).boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.95, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector(`${meter}[data-level="raw"]`);
    const from = Number(await attr(page, meter, 'from'));
    const to = Number(await attr(page, meter, 'to'));
    assert.ok(to - from < 10 * HOUR && to - from > 6 * HOUR, `zoomed to ${(to - from) / HOUR} hours`);
    const zoomed = Number(await attr(page, meter, 'points'));
    assert.ok(zoomed > 150 && zoomed < 320, `${zoomed} raw readings`);
    await page.dblclick(`${meter} .u-over`);
    await page.waitForSelector(`${meter}[data-level="5m"]`);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

describe('the sensors page for someone who is not an admin', { skip: sqliteSkip }, () => {
  it('draws every plot, asking for one at a time (a client has only a few expensive reads under way)', async () => {
    const { page, problems } = await open('/sensors.html', 'jill', 'correct horse battery staple');
    await page.selectOption('#range', 'week');
    for (const path of ['sensors/meter/power', 'sensors/zigbee/thermo', 'devices/plug', 'devices/lamp'])
      await page.waitForSelector(`${chart(path)}[data-level] canvas`);
    // The week picked may reach the thermometer after a first drawing of everything: wait for the week's.
    await page.waitForSelector(`${chart('sensors/zigbee/thermo')}[data-points="168"]`);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});

describe('the dashboard, from the history', { skip: sqliteSkip }, () => {
  it("draws a thermometer's trend from its history, and its card opens a page of its past", async () => {
    const { page, problems } = await open('/');
    const card = 'article.card[data-path="sensors/zigbee/thermo/temperature"]';
    await page.waitForSelector(`${card} svg.trend polyline`);
    await page.click(`${card} h3 a`);
    await page.waitForURL(`${base}/sensors.html?path=sensors%2Fzigbee%2Fthermo%2Ftemperature`);
    const only = chart('sensors/zigbee/thermo');
    await page.waitForSelector(`${only}[data-points="168"] canvas`);
    assert.equal(await attr(page, only, 'fields'), 'temperature');
    assert.equal(await page.textContent('h1'), 'sensors/zigbee/thermo/temperature');
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
