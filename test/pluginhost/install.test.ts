/** Installing a plugin is all or nothing, with an error that says why (issue #15), and its actions wait for it (#16). */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, tempDir, waitFor, type TestServer } from '../helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/plugins', import.meta.url));
let s: TestServer;

before(async () => {
  const dir = await tempDir();
  for (const name of ['brokenstart', 'badwrites', 'nocreate', 'badcode', 'slowstart'])
    await cp(join(FIXTURES, name), join(dir, 'plugins', name), { recursive: true });
  s = await startTestServer({}, dir);
});

const tree = async () => (await s.request('/data?.VARIANT=raw')).text();
const installed = async () =>
  ((await (await s.request('/internal/plugins', { headers: { accept: 'application/json' } })).json()) as { installed: { name: string }[] })
    .installed;

describe('a plugin install that fails', () => {
  for (const [source, status, reason] of [
    ['brokenstart', 502, /did not start: the frobnicator is not plugged in/],
    ['badwrites', 400, /declares it writes "identities\/admin"/],
    ['nocreate', 400, /must export default \{ description, create\(host\) \}/],
    ['badcode', 502, /cannot be loaded: this module is broken/],
  ] as const) {
    it(`(${source}) is a ${status} that says why, leaves nothing behind, and can be tried again`, async () => {
      const before = await tree();
      for (let attempt = 0; attempt < 2; attempt++) {
        const r = await s.request(`/internal/plugins/${source}`, { method: 'PUT' });
        assert.equal(r.status, status, `attempt ${attempt + 1}`);
        assert.match(await r.text(), reason);
        assert.equal(await tree(), before, 'the tree is as it was: no record, no fragment');
        assert.deepEqual(
          (await installed()).map((p) => p.name),
          ['user'],
          'only what a new database has',
        );
      }
    });
  }
});

describe('a plugin that starts slowly', () => {
  it('does not have its own action run before it can answer (no 404 in its status)', async () => {
    const r = await s.request('/internal/plugins/slowstart', { method: 'PUT' });
    assert.equal(r.status, 200, await r.text());
    type Status = { alive: boolean; errorMessage?: string };
    const status = await waitFor(async (): Promise<Status | undefined> => {
      const res = await s.request('/data/status/sensors/slowstart', { headers: { accept: 'application/json' } });
      return res.status === 200 ? ((await res.json()) as { slowstart: Status }).slowstart : undefined;
    }, "the plugin's action to have run");
    assert.equal(status.alive, true, status.errorMessage);
  });
});
