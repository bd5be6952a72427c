/**
 * Faults over HTTP: a full disk and a disk that fails writes (507 / 503 with a clear message, reads go on,
 * nothing corrupt after a restart), and a damaged snapshot (the server refuses to start, saying how to recover,
 * and recovery loses nothing).
 * SIGKILL during writes is test/store/crash.test.ts; hanging and resetting services are in the action and
 * plugin tests.
 */
import assert from 'node:assert/strict';
import { rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recoverDatabase } from '../../src/store/recovery.ts';
import { startTestServer, tempDir } from '../helpers.ts';

const text = { 'content-type': 'text/plain' };

describe('disk faults', () => {
  for (const [name, target, status, message] of [
    ['a full disk', '/dev/full', 507, /disk .* is full; the write was not made/],
    ['a disk that fails writes', '/proc/version', 503, /cannot be written \(EIO\); the write was not made/],
  ] as const) {
    it(`answers ${status} on ${name}, keeps serving reads, and loses nothing acknowledged`, async () => {
      const dir = await tempDir();
      const s = await startTestServer({}, dir);
      assert.equal((await s.request('/data/sandbox/kept', { method: 'PUT', headers: text, body: 'before' })).status, 200);
      await symlink(target, join(dir, 'journal.1')); // the journal the next snapshot starts
      assert.equal((await s.request('/internal/save')).status, 200);
      const refused = await s.request('/data/sandbox/kept', { method: 'PUT', headers: text, body: 'after' });
      assert.equal(refused.status, status);
      assert.match(await refused.text(), message);
      assert.equal((await s.request('/data/sandbox/new', { method: 'POST', headers: text, body: 'x' })).status, status);
      const read = await s.request('/data/sandbox/kept', { headers: { accept: 'text/plain' } });
      assert.equal((await read.text()).trim(), 'before', 'the refused write was undone in memory too');
      assert.equal((await s.anonymous('/data/environment')).status, 200);
      await s.close();
      await rm(join(dir, 'journal.1'));
      await writeFile(join(dir, 'journal.1'), '');
      const again = await startTestServer({}, dir);
      assert.equal((await (await again.request('/data/sandbox/kept', { headers: { accept: 'text/plain' } })).text()).trim(), 'before');
      assert.equal((await again.request('/data/sandbox/new')).status, 404);
    });
  }

  it('refuses to start on a damaged snapshot, saying how to recover; recovery loses nothing', async () => {
    const dir = await tempDir();
    const s = await startTestServer({}, dir);
    await s.request('/data/sandbox/kept', { method: 'PUT', headers: text, body: 'v1' });
    await s.request('/internal/save');
    await s.request('/data/sandbox/later', { method: 'PUT', headers: text, body: 'v2' });
    await s.close();
    await rm(join(dir, 'database.xml'));
    await writeFile(join(dir, 'database.xml'), '<data><sandbox>');
    await assert.rejects(startTestServer({}, dir), /not well-formed.*Nothing was changed.*igor db recover --database/s);
    const report = await recoverDatabase(dir);
    assert.deepEqual(report.lost, []);
    const again = await startTestServer({}, dir);
    for (const [path, value] of [
      ['kept', 'v1'],
      ['later', 'v2'],
    ]) {
      assert.equal((await (await again.request(`/data/sandbox/${path}`, { headers: { accept: 'text/plain' } })).text()).trim(), value);
    }
  });
});
