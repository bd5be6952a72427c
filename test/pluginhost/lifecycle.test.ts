/**
 * What a plugin registers with its host goes with it, in a running server: its onChange handlers hear nothing
 * after it is uninstalled, and neither they nor its schedules are left holding the database, though the plugin
 * itself stops nothing (after Zigbee2MQTT's extensions).
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, tempDir, type TestServer } from '../helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/plugins', import.meta.url));
let s: TestServer;

before(async () => {
  const dir = await tempDir();
  await cp(join(FIXTURES, 'watcher'), join(dir, 'plugins', 'watcher'), { recursive: true });
  s = await startTestServer({}, dir);
});

const put = (path: string, body: string) => s.request(path, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body });
const value = async (path: string) => {
  const r = await s.request(path, { headers: { accept: 'text/plain' } });
  return r.status === 200 ? (await r.text()).trim() : r.status;
};

describe("a plugin's watches in a running server", () => {
  it('hear the changes while it is installed, and nothing once it is uninstalled', async () => {
    const listening = s.db.listenerCount('change');
    assert.equal((await s.request('/internal/plugins/watcher', { method: 'PUT' })).status, 200);
    assert.equal(s.db.listenerCount('change'), listening + 1, 'its watch listens');
    await put('/data/sandbox/watched', 'one');
    await put('/data/sandbox/watched', 'two');
    await s.request('/internal/flush');
    assert.equal(await value('/data/sensors/watcher/changes'), '2');

    assert.equal((await s.request('/internal/plugins/watcher', { method: 'DELETE' })).status, 200);
    assert.equal(s.db.listenerCount('change'), listening, 'nothing of it listens any more');
    await put('/data/sandbox/watched', 'three');
    await s.request('/internal/flush');
    assert.equal(await value('/data/sensors/watcher/changes'), '2');
  });
});
