/** The recorder: which values of the tree it keeps, with what time, and that writes never wait for it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { valueOf } from '../../src/history/values.ts';
import { basic, okJson, startTestServer, tempDir } from '../helpers.ts';
import { recorded, sqliteSkip } from './setup.ts';

const values = (rows: [string, number, unknown][]) => rows.map(([path, , v]) => [path, v]);

describe('what the recorder keeps', { skip: sqliteSkip }, () => {
  it('reads numbers, booleans and short strings; nothing else is a value', () => {
    assert.equal(valueOf(' 21.5 '), 21.5);
    assert.equal(valueOf('-3e2'), -300);
    assert.equal(valueOf('true'), true);
    assert.equal(valueOf('heat'), 'heat');
    assert.equal(valueOf('007'), '007', 'a number with a leading zero is an identifier, kept as written');
    assert.equal(valueOf(''), undefined);
    assert.equal(valueOf('x'.repeat(101)), undefined);
    assert.equal(valueOf('two\nlines'), undefined);
  });

  it('records each change of a value under sensors/, devices/ and environment/, and nothing elsewhere', async () => {
    const h = await recorded(await tempDir());
    await h.put('/data/sensors/thermo/temperature', 21.5);
    await h.put('/data/sensors/thermo/temperature', 21.5); // the same again: no change
    await h.put('/data/sensors/thermo/temperature', 21.7);
    await h.put('/data/devices/lamp', { on: true, mode: 'warm', name: 'x'.repeat(200) });
    await h.put('/data/environment/night', false);
    await h.put('/data/sandbox/counter', 1);
    await h.put('/data/people/jack/weight', 80);
    assert.deepEqual(values(await h.readings()), [
      ['devices/lamp/mode', 'warm'],
      ['devices/lamp/on', true],
      ['environment/night', false],
      ['sensors/thermo/temperature', 21.5],
      ['sensors/thermo/temperature', 21.7],
    ]);
  });

  it('records only the values that changed when a whole element is replaced', async () => {
    const h = await recorded(await tempDir());
    await h.put('/data/sensors/plug', { power: 12.5, energy: 1000 });
    await h.put('/data/sensors/plug', { power: 13, energy: 1000 });
    assert.deepEqual(values(await h.readings()), [
      ['sensors/plug/energy', 1000],
      ['sensors/plug/power', 12.5],
      ['sensors/plug/power', 13],
    ]);
  });

  it('never records a secret, hidden data or anything under identities/, whatever history/include says', async () => {
    const h = await recorded(await tempDir());
    await h.put('/data/history', '<history><include>sensors</include><include>identities</include><include>plugindata</include></history>');
    await h.put('/data/sensors/cloud', { temperature: 20, token: 'abc', client_secret: 'def', password: 'ghi' });
    await h.put(
      '/data/sensors/lamp',
      '<lamp xmlns:own="http://jackjansen.nl/igor/owner"><level>3</level><own:plugin>x</own:plugin><au:capability xmlns:au="http://jackjansen.nl/igor/authentication">1</au:capability></lamp>',
    );
    await h.put('/data/identities/jack/steps', 1000);
    await h.put('/data/plugindata/fitbit/access_token', 'secret');
    await h.put('/data/plugindata/fitbit/interval', 60);
    assert.deepEqual(values(await h.readings()), [
      ['plugindata/fitbit/interval', 60],
      ['sensors/cloud/temperature', 20],
      ['sensors/lamp/level', 3],
    ]);
  });

  it('follows history/include and history/exclude as they change', async () => {
    const h = await recorded(await tempDir());
    await h.put('/data/history', '<history><include>sensors/*/temperature</include><exclude>sensors/attic</exclude></history>');
    await h.put('/data/sensors/hall', { temperature: 20, humidity: 50 });
    await h.put('/data/sensors/attic', { temperature: 30 });
    await h.put('/data/devices/lamp/on', true);
    await h.put('/data/history/include', '<include/>'); // records nothing now
    await h.put('/data/sensors/hall/temperature', 21);
    assert.deepEqual(values(await h.readings()), [['sensors/hall/temperature', 20]]);
  });

  it('keeps the own time of entries of a series, as the pages read it', async () => {
    const h = await recorded(await tempDir());
    await h.post('/data/sensors/fitbit/jack/weight', { dateTime: '2026-01-02', weight: 80.5, bmi: 24.1, logId: 7 });
    await h.post('/data/sensors/fitbit/jack/steps', { date: '2026-01-02', time: '10:15:00', value: 120 });
    await h.post('/data/sensors/misfit/jack/sessions', { id: 'a1', timestamp: 1767225600, points: 30 });
    // The same entry again with a new value replaces its reading at that time.
    await h.put("/data/sensors/fitbit/jack/weight[dateTime='2026-01-02']", { dateTime: '2026-01-02', weight: 80.4, bmi: 24.1, logId: 7 });
    assert.deepEqual(await h.readings(), [
      ['sensors/fitbit/jack/steps/value', Date.parse('2026-01-02T10:15:00'), 120],
      ['sensors/fitbit/jack/weight/bmi', Date.parse('2026-01-02'), 24.1],
      ['sensors/fitbit/jack/weight/weight', Date.parse('2026-01-02'), 80.4],
      ['sensors/misfit/jack/sessions/points', 1767225600_000, 30],
    ]);
  });

  it('keeps two changes made within one millisecond, a millisecond apart', async () => {
    const h = await recorded(await tempDir());
    await Promise.all([1, 2, 3].map((v) => h.put('/data/sensors/fast/v', v)));
    const rows = await h.readings();
    assert.deepEqual(values(rows), [
      ['sensors/fast/v', 1],
      ['sensors/fast/v', 2],
      ['sensors/fast/v', 3],
    ]);
    assert.ok(rows[0]![1] < rows[1]![1] && rows[1]![1] < rows[2]![1], 'times strictly increase');
  });

  it('acknowledges a write before its readings are written, and writes them in one batch later', async () => {
    const h = await recorded(await tempDir(), { flushDelayMs: 3_600_000 });
    const { store } = await h.history.reader();
    const before = store.lastRecorded;
    await h.put('/data/sensors/a', 1);
    await h.put('/data/sensors/b', 2);
    assert.equal(store.lastRecorded, before, 'nothing written yet: the writes did not wait');
    assert.equal(store.series.size, 0);
    h.history.flush();
    assert.equal(store.lastRecorded, h.db.lastWrite);
    assert.equal(store.series.size, 2);
  });
});

describe('history/ in the tree', { skip: sqliteSkip }, () => {
  it('is written by admins only', async () => {
    const s = await startTestServer();
    await okJson(
      s.request('/internal/users', {
        method: 'POST',
        body: JSON.stringify({ name: 'jill', password: 'correct horse battery staple' }),
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      }),
    );
    const jill = basic('jill', 'correct horse battery staple');
    const put = (auth: string | undefined) =>
      s.anonymous('/data/history/include', {
        method: 'PUT',
        body: 'identities',
        headers: { 'content-type': 'text/plain', ...(auth ? { authorization: auth } : {}) },
      });
    assert.equal((await put(jill)).status, 403);
    assert.equal((await put(undefined)).status, 401);
    assert.equal(
      (await s.request('/data/history/include', { method: 'PUT', body: 'sensors', headers: { 'content-type': 'text/plain' } })).status,
      200,
    );
  });
});
