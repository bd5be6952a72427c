/**
 * Igor's systemHealth over HTTP: status/ errors become messages in environment/systemHealth/messages, ignoring
 * one hides it until its time passes or the entry next succeeds, a quiet sensor counts as failing, and only
 * someone who may change status/ may ignore. Its durations read as Igor's (niceDelta).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../../src/auth/users.ts';
import { niceDelta, problemOf } from '../../../plugins/systemHealth/plugin.ts';
import { basic, startTestServer, type TestServer } from '../../helpers.ts';

let s: TestServer;
const JACK = basic('jack', 'a good long phrase');

before(async () => {
  s = await startTestServer();
  assert.equal((await s.request('/internal/plugins/systemHealth', { method: 'PUT' })).status, 200);
  await setPassword(s.db, 'jack', 'a good long phrase');
});

const json = async (path: string) => (await s.request(path, { headers: { accept: 'application/json' } })).json();
const messages = async () => (await json('/data/environment/systemHealth/messages')).messages;
const report = async (representing: string, body: object) => {
  const r = await s.request(`/internal/updateStatus/${representing}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200);
};
/** Runs systemHealth as its action does (GET /plugin/systemHealth), with `query`, as admin unless `auth` says. */
const health = (query = '', auth?: string) =>
  (auth ? s.anonymous : s.request)(`/plugin/systemHealth${query}`, {
    redirect: 'manual',
    headers: { accept: 'text/plain', ...(auth ? { authorization: auth } : {}) },
  });
const now = () => Date.now() / 1000;

describe("systemHealth's words", () => {
  it('says how long as Igor does, by whole units', () => {
    const cases: [number, string][] = [
      [0, '0 seconds'],
      [59.9, '59 seconds'],
      [60, '1 minutes'],
      [3599, '59 minutes'],
      [3600, '1 hours'],
      [48 * 3600 - 1, '47 hours'],
      [48 * 3600, '2 days'],
      [14 * 86400 - 1, '13 days'],
      [14 * 86400, '2 weeks'],
      [100 * 86400, '14 weeks'],
    ];
    for (const [seconds, words] of cases) assert.equal(niceDelta(seconds), words, String(seconds));
  });

  it('finds the problem of one entry: its error, a quiet sensor, unless ignored for now', () => {
    const t = 1_800_000_000;
    assert.equal(problemOf('/data/status/services/a', { alive: false, errorMessage: 'down' }, {}, t), 'down');
    assert.equal(problemOf('/data/status/services/a', { alive: true, errorMessage: {} }, {}, t), undefined);
    assert.equal(problemOf('/data/status/services/a', { errorMessage: 'down', ignoreErrorUntil: t + 1 }, {}, t), undefined);
    assert.equal(problemOf('/data/status/services/a', { errorMessage: 'down', ignoreErrorUntil: t - 1 }, {}, t), 'down');
    const quiet = { alive: true, lastActivity: t - 7200 };
    assert.equal(problemOf('/data/status/sensors/th', quiet, { th: 3600 }, t), 'No activity from th sensors for 2 hours');
    assert.equal(problemOf('/data/status/sensors/th', quiet, { th: 9000 }, t), undefined);
    assert.equal(problemOf('/data/status/devices/th', quiet, { th: 3600 }, t), undefined, 'sensors only, as in Igor');
  });
});

describe('systemHealth', () => {
  it('copies each error to environment/systemHealth/messages and removes it when the entry recovers', async () => {
    await report('services/backup', { alive: false, resultData: 'the disk is full' });
    await report('devices/lamp', { alive: true });
    assert.equal((await health()).status, 200);
    assert.deepEqual(await messages(), { backup: 'the disk is full' });
    await report('services/backup', { alive: true });
    assert.equal((await health()).status, 200);
    assert.deepEqual(await messages(), {});
  });

  it('hides an ignored error until its time passes, or until the entry next succeeds', async () => {
    await report('services/mail', { alive: false, resultData: 'no route to host' });
    const asked = now();
    assert.equal((await health('?ignore=services/mail&duration=3600')).status, 200);
    const until = (await json('/data/status/services/mail/ignoreErrorUntil')).ignoreErrorUntil as number;
    assert.ok(Number.isInteger(until) && Math.abs(until - (asked + 3600)) < 5, `whole seconds, an hour on: ${until}`);
    assert.deepEqual(await messages(), {});
    // Its time has passed: the error shows again.
    await s.request('/data/status/services/mail/ignoreErrorUntil', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: String(Math.floor(now()) - 10),
    });
    await health();
    assert.deepEqual(await messages(), { mail: 'no route to host' });
    // Ignored again, then the service succeeds: the ignoring ends with it, so its next failure shows at once.
    await health('?ignore=services/mail&duration=3600');
    assert.deepEqual(await messages(), {});
    await report('services/mail', { alive: true });
    assert.deepEqual((await json('/data/status/services/mail/ignoreErrorUntil')).ignoreErrorUntil, {});
    await report('services/mail', { alive: false, resultData: 'refused' });
    await health();
    assert.deepEqual(await messages(), { mail: 'refused' });
    // ignore without a duration shows it again; one that is not there is no error.
    await health('?ignore=services/mail&duration=3600');
    assert.equal((await health('?ignore=services/mail')).status, 200);
    assert.deepEqual(await messages(), { mail: 'refused' });
    assert.equal((await health('?ignore=services/nothing')).status, 200);
    await report('services/mail', { alive: true });
    await health();
  });

  it('reports a sensor quiet for longer than its sensorMaxInterval, in words', async () => {
    await s.request('/data/plugindata/systemHealth/sensorMaxInterval/thermometer', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: '3600',
    });
    await report('sensors/thermometer', { alive: true, lastActivity: now() - 3 * 3600 - 60 });
    await health();
    assert.deepEqual(await messages(), { thermometer: 'No activity from thermometer sensors for 3 hours' });
    await report('sensors/thermometer', { alive: true });
    await health();
    assert.deepEqual(await messages(), {});
  });

  it('lets only someone who may change status/ ignore; goes back to a page of this server with returnTo', async () => {
    await report('services/web', { alive: false, resultData: 'down' });
    const refused = await health('?ignore=services/web&duration=3600', JACK);
    assert.equal(refused.status, 403, await refused.text());
    assert.deepEqual((await json('/data/status/services/web')).web.ignoreErrorUntil, undefined, 'nothing changed');
    assert.equal((await health('', JACK)).status, 200, 'a user may bring the messages up to date');
    assert.deepEqual(await messages(), { web: 'down' });
    const back = await health('?ignore=services/web&duration=60&returnTo=/index.html');
    assert.equal(back.status, 303);
    assert.equal(back.headers.get('location'), '/index.html');
    assert.equal((await health('?returnTo=https://elsewhere.example/')).status, 200, 'never to another site');
    assert.equal((await health('?ignore=../identities')).status, 400);
    await report('services/web', { alive: true });
    await health();
  });

  it('is not stopped by an entry that is not a record', async () => {
    await s.request('/data/status/igor/odd', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'text' });
    await report('services/dns', { alive: false, resultData: 'no answer' });
    assert.equal((await health()).status, 200);
    assert.deepEqual(await messages(), { dns: 'no answer' });
  });
});
