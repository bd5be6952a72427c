/** `igor history export` and `igor history stats` against a running server. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT, main } from '../../src/cli/main.ts';
import { startTestServer } from '../helpers.ts';
import { sqliteSkip } from './setup.ts';

async function igor(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'igor', ...args], { out: (s) => (out += s), err: (s) => (err += s), stdin: async () => '' });
  return { code, out, err };
}

describe('igor history', { skip: sqliteSkip }, () => {
  it('exports the readings a path names as CSV or JSON, and tells an admin how the history is doing', async () => {
    const s = await startTestServer();
    for (const v of [20, 21]) await (await s.request('/data/sensors/hall/temperature', { method: 'PUT', body: String(v) })).text();
    const admin = ['--url', s.url, '--credentials', `admin:${s.adminPassword}`];
    const csv = await igor(['history', 'export', ...admin, 'sensors/hall']);
    assert.equal(csv.code, EXIT.ok, csv.err);
    assert.deepEqual(
      csv.out
        .trim()
        .split('\n')
        .map((l) => l.replace(/,\d{4}-[^,]+,/, ',TIME,')),
      ['path,time,value,min,max,count', 'sensors/hall/temperature,TIME,20,,,', 'sensors/hall/temperature,TIME,21,,,'],
    );
    const json = await igor(['history', 'export', ...admin, '--json', '--from', '0', '--points', '10', '/data/sensors/hall/temperature']);
    assert.deepEqual(
      JSON.parse(json.out).series[0].points.map((p: number[]) => p[1]),
      [20, 21],
    );
    const stats = await igor(['history', 'stats', ...admin]);
    assert.equal(stats.code, EXIT.ok, stats.err);
    assert.match(stats.out, /^state: live$/m);
    assert.match(stats.out, /^ {2}sensors\/hall\/temperature {2}number {2}2 readings {2}latest 21 at /m);
    assert.match(stats.out, /^missed: nothing$/m);
    const refused = await igor(['history', 'export', '--url', s.url, 'sensors/hall']);
    assert.equal(refused.code, EXIT.failed);
    assert.match(refused.err, /^igor: 401: log in to get/);
  });
});
