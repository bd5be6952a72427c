/**
 * host.storeSeries with `keep`: only the newest entries of a series stay in the tree, and the history keeps
 * every one of them.
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Json } from '../../src/plugin-api.ts';
import { sensorChanges } from '../../src/pluginhost/series.ts';
import { okJson, startTestServer, tempDir } from '../helpers.ts';
import { sqliteSkip } from './setup.ts';

const base = '/data/sensors/fit/jack';
const day = (d: number) => `2026-01-${String(d).padStart(2, '0')}`;
const weights = (days: number[]) => days.map((d) => ({ dateTime: day(d), kg: 80 + d / 10 }));

describe('keeping the newest entries of a series in the tree', { skip: sqliteSkip }, () => {
  it('deletes the oldest entries beyond `keep`, by their own time, after writing the new ones', () => {
    const existing = weights([3, 1, 2]);
    const { changes, counts } = sensorChanges(base, { weight: weights([5, 4]) }, () => existing, undefined, { keep: 3, now: 0 });
    assert.deepEqual(counts, { weight: 2 });
    assert.deepEqual(changes, [
      { op: 'post', xpath: `${base}/weight`, value: { dateTime: day(5), kg: 80.5 } },
      { op: 'post', xpath: `${base}/weight`, value: { dateTime: day(4), kg: 80.4 } },
      { op: 'delete', xpath: `${base}/weight[dateTime='${day(1)}']` },
      { op: 'delete', xpath: `${base}/weight[dateTime='${day(2)}']` },
    ]);
  });

  it('keeps the entries of the last days, and entries without a time in the order they came', () => {
    const now = Date.parse(`${day(10)}T12:00:00Z`);
    const byDays = sensorChanges(base, { weight: weights([9, 10]) }, () => weights([1, 8]), undefined, { keep: { days: 3 }, now });
    assert.deepEqual(
      byDays.changes.filter((c) => c.op === 'delete'),
      [{ op: 'delete', xpath: `${base}/weight[dateTime='${day(1)}']` }],
    );
    const untimed = sensorChanges(base, { goals: [{ id: 'c' }, { id: 'd' }] }, () => [{ id: 'a' }, { id: 'b' }], undefined, {
      keep: 3,
      now,
    });
    assert.deepEqual(
      untimed.changes.filter((c) => c.op === 'delete'),
      [{ op: 'delete', xpath: `${base}/goals[id='a']` }],
    );
  });

  it('refuses a keep that is no number of entries or days', () => {
    for (const keep of [0, 2.5, -1, { days: 0 }, { days: Number.NaN }] as const)
      assert.throws(() => sensorChanges(base, { weight: weights([1]) }, () => [], undefined, { keep, now: 0 }), TypeError);
  });

  it('leaves the tree the newest entries and the history all of them, through a plugin', async () => {
    const dir = await tempDir();
    await cp(join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'keeper'), join(dir, 'plugins', 'keeper'), { recursive: true });
    const s = await startTestServer({}, dir);
    assert.equal((await s.request('/internal/plugins/keeper', { method: 'PUT' })).status, 200);
    const store = async (days: number[], keep: number) =>
      okJson(
        s.request(`/plugin/keeper/store?keep=${keep}`, {
          method: 'POST',
          body: JSON.stringify({ weight: weights(days) }),
          headers: { 'content-type': 'application/json' },
        }),
      );
    assert.deepEqual(await store([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3), { weight: 10 });
    assert.deepEqual(await store([11, 12], 3), { weight: 2 });
    const tree = (await okJson(
      s.request('/data/sensors/keeper/jack/weight?.VARIANT=multi', { headers: { accept: 'application/json' } }),
    )) as {
      weight: Json;
    }[];
    assert.deepEqual(
      tree.map((e) => (e.weight as { dateTime: string }).dateTime),
      [day(10), day(11), day(12)],
    );
    const history = await okJson(s.request(`/history/sensors/keeper/jack/weight/kg?from=0&points=100`));
    assert.deepEqual(
      history.series[0].points.map((p: number[]) => p[1]),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((d) => 80 + d / 10),
    );
  });
});
