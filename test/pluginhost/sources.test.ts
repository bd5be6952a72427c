/**
 * Plugin sources in a database directory as Igor's `addstd` leaves it: plugins/NAME are symbolic links. A link to
 * a plugin folder is followed; an Igor (Python) plugin is listed but never hides the shipped plugin of its name
 * (the shipped one is used, the Python one listed as replaced); a link to nothing is listed as such.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { PYTHON_PLUGIN } from '../../src/pluginhost/registry.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { startTestServer, tempDir, type TestServer } from '../helpers.ts';

let s: TestServer;
let elsewhere: string;

/** A folder that looks like one of Igor's Python plugins. */
async function pythonPlugin(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'igorplugin.py'), 'def igorPlugin(igor, pluginName, pluginData):\n    return None\n');
}

before(async () => {
  const dir = await tempDir();
  elsewhere = await tempDir('plugin-sources-');
  await mkdir(join(dir, 'plugins'));
  for (const name of ['user', 'copytree', 'home']) {
    await pythonPlugin(join(elsewhere, 'std-plugins', name));
    await symlink(join(elsewhere, 'std-plugins', name), join(dir, 'plugins', name));
  }
  await cp(join(PACKAGE_DIR, 'plugins', 'hello'), join(elsewhere, 'mine'), { recursive: true });
  await symlink(join(elsewhere, 'mine'), join(dir, 'plugins', 'mine'));
  await symlink(join(elsewhere, 'not-there'), join(dir, 'plugins', 'gone'));
  s = await startTestServer({}, dir);
});

const plugins = async () =>
  (await (await s.request('/internal/plugins', { headers: { accept: 'application/json' } })).json()) as {
    installed: { name: string; running: boolean }[];
    available: { source: string; description: string; replaces?: string }[];
  };

describe("plugin sources beside Igor's", () => {
  it('runs the shipped plugin where Igor’s Python plugin of that name is, and lists the Python one as replaced', async () => {
    const { installed, available } = await plugins();
    assert.deepEqual(
      installed.find((p) => p.name === 'user'),
      { name: 'user', source: 'user', running: true },
      'the user plugin a new database installs runs',
    );
    const put = await s.request('/internal/plugins/copytree', { method: 'PUT', headers: { accept: 'text/plain' } });
    assert.equal(put.status, 200, await put.text());
    const copytree = available.find((p) => p.source === 'copytree')!;
    assert.match(copytree.description, /Igor's copytree/);
    assert.equal(copytree.replaces, join(s.dir, 'plugins', 'copytree'));
  });

  it('follows a link to a plugin folder', async () => {
    const { available } = await plugins();
    assert.match(available.find((p) => p.source === 'mine')?.description ?? '', /^Example plugin/);
    assert.equal((await s.request('/internal/plugins/mine', { method: 'PUT' })).status, 200);
    assert.equal(await (await s.request('/plugin/mine', { headers: { accept: 'text/plain' } })).text(), 'Hello from mine!\n');
  });

  it('lists what does not run here, and says why when asked to install it', async () => {
    const { available } = await plugins();
    assert.deepEqual(
      available.find((p) => p.source === 'home'),
      { source: 'home', description: PYTHON_PLUGIN },
    );
    assert.deepEqual(
      available.find((p) => p.source === 'gone'),
      { source: 'gone', description: `a link to ${join(elsewhere, 'not-there')}, which is not there` },
    );
    const home = await s.request('/internal/plugins/home', { method: 'PUT', headers: { accept: 'text/plain' } });
    assert.equal(home.status, 400);
    assert.match(await home.text(), /home in .* is an Igor plugin written in Python: Python plugin, not runnable here/);
    const list = await (await s.request('/internal/plugins', { headers: { accept: 'text/plain' } })).text();
    assert.match(list, /^user {2}\(in place of Igor's Python plugin user\)$/m);
    assert.match(list, /^copytree {2}\(in place of Igor's Python plugin copytree\)$/m);
    assert.match(list, /^mine$/m);
    assert.match(list, /^home {2}\(Python plugin, not runnable here\)$/m);
    assert.match(list, /^gone {2}\(a link to .*not-there, which is not there\)$/m);
  });
});
