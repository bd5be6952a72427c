/**
 * GET /history/XPATH, GET /history and GET /metrics on a running server: the points asked for (raw where few,
 * buckets where many), the series alone (points=0), JSON and CSV, several series in one request, and the same visibility as /data — for
 * anonymous clients, users and tokens, for series in the tree and for series that are no longer there.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { basic, okJson, startTestServer, type TestServer } from '../helpers.ts';
import { sqliteSkip } from './setup.ts';

const DAY = 86_400;
let s: TestServer;
let jill: string;
let token: string;
let firstDay: number;

const json = (body: unknown) => ({ method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

interface Answer {
  series: { path: string; kind: string; level: string; columns: string[]; points: (number | string | boolean)[][] }[];
}

/** A write (or set-up request) that must succeed. */
async function ok(res: Promise<Response>): Promise<string> {
  const r = await res;
  const text = await r.text();
  assert.ok(r.status < 300, `${r.status}: ${text}`);
  return text;
}

async function history(path: string, auth?: string): Promise<Response> {
  return s.anonymous(path, auth ? { headers: { authorization: auth } } : {});
}

before(async () => {
  if (sqliteSkip) return;
  s = await startTestServer();
  await ok(s.request('/internal/users', { ...json({ name: 'jill', password: 'correct horse battery staple' }), method: 'POST' }));
  jill = basic('jill', 'correct horse battery staple');
  const made = await s.anonymous('/internal/tokens', {
    method: 'POST',
    headers: { authorization: jill, 'content-type': 'application/json' },
    body: JSON.stringify({ path: '/data/sensors/hall', rights: 'get' }),
  });
  token = `Bearer ${(await ok(Promise.resolve(made))).trim()}`;
  // A year of daily weights, as a plugin stores them (entries with their own time), in one write.
  firstDay = Math.floor(Date.now() / 1000 / DAY) * DAY - 364 * DAY;
  const weight = Array.from({ length: 365 }, (_, i) => ({
    dateTime: new Date((firstDay + i * DAY) * 1000).toISOString().slice(0, 10),
    kg: 80 + (i % 10) / 10,
  }));
  await ok(s.request('/data/sensors/fit/jack', json({ weight })));
  for (const v of [20, 21, 22]) await ok(s.request('/data/sensors/hall/temperature', json(v)));
  await ok(s.request('/data/sensors/attic/temperature', json(30)));
  await ok(s.request('/data/sensors/old/temperature', json(5)));
  await ok(s.request('/data/environment/night', json(true)));
  await ok(
    s.request('/data/history', {
      method: 'PUT',
      body: '<history><include>sensors</include><include>environment</include><include>plugindata</include></history>',
      headers: { 'content-type': 'application/xml' },
    }),
  );
  await ok(s.request('/data/plugindata/meter/interval', json(60)));
  assert.equal((await s.request('/data/sensors/old', { method: 'DELETE' })).status, 200);
});

describe('GET /history/XPATH', { skip: sqliteSkip }, () => {
  it('answers the raw readings where there are few', async () => {
    const a = (await okJson(history('/history/sensors/hall/temperature', jill))) as Answer;
    assert.equal(a.series.length, 1);
    assert.deepEqual(a.series[0]!.columns, ['time', 'value']);
    assert.deepEqual(
      a.series[0]!.points.map((p) => p[1]),
      [20, 21, 22],
    );
  });

  it('answers min/mean/max buckets where there are more readings than points, from statistics for long ranges', async () => {
    const a = (await okJson(history(`/history/sensors/fit/jack/weight/kg?from=${firstDay}&points=12`, jill))) as Answer;
    const [series] = a.series;
    assert.equal(series!.level, '1h');
    assert.deepEqual(series!.columns, ['time', 'min', 'mean', 'max', 'count']);
    assert.ok(series!.points.length <= 12 && series!.points.length >= 11, `${series!.points.length} buckets`);
    assert.equal(
      series!.points.reduce((n, p) => n + (p[4] as number), 0),
      365,
      'every reading is in a bucket',
    );
    for (const [, min, mean, max] of series!.points as number[][]) assert.ok(min! <= mean! && mean! <= max!);
    const raw = (await okJson(history(`/history/sensors/fit/jack/weight/kg?from=${firstDay}&points=365`, jill))) as Answer;
    assert.equal(raw.series[0]!.level, 'raw');
    assert.equal(raw.series[0]!.points.length, 365);
  });

  it('answers an empty history where nothing is recorded that the reader may read', async () => {
    assert.deepEqual(((await okJson(history('/history/sensors/nothing', jill))) as Answer).series, []);
    assert.deepEqual(((await okJson(history('/history/sensors/*/nothing?points=0', jill))) as Answer).series, []);
  });

  it('lists the series with their first and latest readings for points=0', async () => {
    const listed = (await okJson(history('/history/sensors/hall?points=0', jill))) as {
      series: { path: string; first: number; latest: [number, number] }[];
    };
    assert.equal(listed.series.length, 1);
    assert.equal(listed.series[0]!.path, 'sensors/hall/temperature');
    assert.equal(listed.series[0]!.latest[1], 22);
    assert.ok(listed.series[0]!.first < listed.series[0]!.latest[0]);
  });

  it('takes times as ISO 8601 or seconds since 1970', async () => {
    const from = new Date((firstDay + 10 * DAY) * 1000).toISOString();
    const iso = (await okJson(history(`/history/sensors/fit/jack/weight/kg?from=${from}&to=${firstDay + 20 * DAY}`, jill))) as Answer;
    assert.equal(iso.series[0]!.points.length, 10);
    assert.equal(iso.series[0]!.points[0]![0], firstDay + 10 * DAY);
  });

  it('answers several series for one path, and for an XPath evaluated in the tree', async () => {
    const all = (await okJson(history('/history/sensors/*/temperature', jill))) as Answer;
    assert.deepEqual(
      all.series.map((x) => x.path),
      ['sensors/attic/temperature', 'sensors/hall/temperature', 'sensors/old/temperature'],
      'a plain path is matched by names: sensors/old is no longer in the tree, its history is',
    );
    const warm = (await okJson(history('/history/sensors/*[temperature > 25]', jill))) as Answer;
    assert.deepEqual(
      warm.series.map((x) => x.path),
      ['sensors/attic/temperature'],
    );
  });

  it('answers CSV', async () => {
    const res = await history('/history/sensors/hall/temperature?format=csv', jill);
    assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
    const lines = (await res.text()).trim().split('\n');
    assert.equal(lines[0], 'path,time,value,min,max,count');
    assert.match(lines[1]!, /^sensors\/hall\/temperature,\d{4}-\d\d-\d\dT[\d:.]+Z,20,,,$/);
    const accepted = await s.request('/history/sensors/hall/temperature', { headers: { accept: 'text/csv' } });
    assert.equal(accepted.headers.get('content-type'), 'text/csv; charset=utf-8');
  });

  it('gives a reader the history of what it may read now, as /data does', async () => {
    assert.equal((await history('/history/sensors/hall/temperature')).status, 401, 'anonymous: log in');
    assert.equal((await history('/history/environment/night')).status, 200, 'anonymous may read environment/');
    assert.equal((await history('/history/plugindata/meter/interval', jill)).status, 403);
    const everything = (await okJson(history('/history/*', jill))) as Answer;
    assert.ok(everything.series.every((x) => !x.path.startsWith('plugindata/')));
    assert.ok(everything.series.some((x) => x.path === 'environment/night'));
    const admin = (await okJson(s.request('/history/*'))) as Answer;
    assert.ok(admin.series.some((x) => x.path === 'plugindata/meter/interval'));
    // A token for sensors/hall gets that and nothing else, by plain path or XPath.
    assert.deepEqual(
      ((await okJson(history('/history/sensors', token))) as Answer).series.map((x) => x.path),
      ['sensors/hall/temperature'],
    );
    assert.deepEqual(
      ((await okJson(history('/history/sensors//temperature', token))) as Answer).series.map((x) => x.path),
      ['sensors/hall/temperature'],
    );
    assert.equal((await history('/history/sensors/attic', token)).status, 403);
  });

  it('refuses what it cannot answer with a clear 4xx, naming the problem', async () => {
    const code = async (path: string, init: RequestInit = {}) => {
      const res = await s.request(path, init);
      return [res.status, res.headers.get('igor-error-code')];
    };
    assert.deepEqual(await code('/history/sensors?from=yesterday'), [400, 'bad_time']);
    assert.deepEqual(await code('/history/sensors?from=10&to=5'), [400, 'bad_time']);
    assert.deepEqual(await code('/history/sensors?points=-1'), [400, 'bad_points']);
    assert.deepEqual(await code('/history/sensors?points=100000'), [400, 'bad_points']);
    assert.deepEqual(await code('/history/sensors[', {}), [400, 'xpath_syntax']);
    assert.deepEqual(await code('/history/sensors', { method: 'POST', body: '1' }), [405, 'method_not_allowed']);
    assert.deepEqual(await code('/history/sensors', { headers: { accept: 'image/png' } }), [406, 'not_acceptable']);
  });
});

describe('GET /history', { skip: sqliteSkip }, () => {
  it('tells an admin how the history is doing, and no one else', async () => {
    const stats = await okJson(s.request('/history'));
    assert.equal(stats.state, 'live');
    assert.equal(stats.lastRecorded, stats.lastWrite);
    assert.ok(stats.readings >= 365 + 3);
    assert.deepEqual(stats.settings.include, ['sensors', 'environment', 'plugindata']);
    assert.equal((await history('/history', jill)).status, 403);
  });
});

describe('GET /metrics', { skip: sqliteSkip }, () => {
  it('gives the latest values as Prometheus gauges, of what the reader may read and is still in the tree', async () => {
    assert.equal((await history('/metrics')).status, 401);
    const res = await history('/metrics', token);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    assert.match(text, /^# TYPE igor_value gauge$/m);
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('igor_value{')),
      ['igor_value{path="sensors/hall/temperature"} 22'],
    );
    const all = await (await s.request('/metrics')).text();
    assert.match(all, /^igor_value\{path="environment\/night"\} 1$/m);
    assert.match(all, /^igor_value\{path="sensors\/fit\/jack\/weight\/kg"\} 80\.4$/m);
    assert.doesNotMatch(all, /sensors\/old/, 'no longer in the tree');
  });
});
