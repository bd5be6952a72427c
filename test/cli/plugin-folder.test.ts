/**
 * A person's own plugin in the database's plugins/ folder, and an Igor database directory with its Python
 * plugins, through the real `igor` command in a child process, started the way README says (plain `node
 * bin/igor.js`, which is what `npx igor` runs: no --import flags). The in-process tests cannot see how
 * modules load there: a plugin.ts outside this package once failed with ERR_REQUIRE_CYCLE_MODULE.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PYTHON_PLUGIN } from '../../src/pluginhost/registry.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { basic, startServerProcess, tempDir } from '../helpers.ts';

describe('plugins in the database folder, under the igor command', () => {
  it("load a person's own plugin (a copy of hello, nothing but its files) and list Igor's Python plugins", async () => {
    const dir = await tempDir();
    // An Igor database directory: its database.xml as Igor writes it, and its plugins/ folder.
    await writeFile(
      join(dir, 'database.xml'),
      '<?xml version="1.0" ?>\n<data xmlns:own="http://jackjansen.nl/igor/owner" xmlns:au="http://jackjansen.nl/igor/authentication"><environment><location>home</location></environment><sensors/><devices/><status/><people/><identities/><plugindata/><actions/><sandbox/></data>\n',
    );
    await cp(join(PACKAGE_DIR, 'plugins/hello'), join(dir, 'plugins/testPlugin'), { recursive: true });
    await mkdir(join(dir, 'plugins/lan'));
    await writeFile(join(dir, 'plugins/lan/igorplugin.py'), 'class LanPlugin:\n    pass\n');

    // An Igor directory has no users this server knows: the start makes the admin and prints the password.
    const { url, password } = await startServerProcess(dir, [], { expectPassword: true });
    const auth = basic('admin', password!);
    const get = (path: string, init: RequestInit = {}) =>
      fetch(url + path, { ...init, headers: { authorization: auth, accept: 'application/json', ...init.headers } });

    const { available } = (await (await get('/internal/plugins')).json()) as { available: { source: string; description: string }[] };
    assert.deepEqual(
      available.find((p) => p.source === 'lan'),
      { source: 'lan', description: PYTHON_PLUGIN },
    );
    assert.match(available.find((p) => p.source === 'testPlugin')!.description, /^Example plugin/, 'loaded to read its description');

    const install = await get('/internal/plugins/testPlugin', { method: 'PUT' });
    assert.equal(install.status, 200, await install.clone().text());
    assert.equal(await (await get('/plugin/testPlugin', { headers: { accept: 'text/plain' } })).text(), 'Hello from testPlugin!\n');

    const python = await get('/internal/plugins/lan', { method: 'PUT' });
    assert.equal(python.status, 400);
    assert.match(await python.text(), /Python plugin, not runnable here/);
    assert.equal(
      await (await get('/data/environment/location', { headers: { accept: 'text/plain' } })).text(),
      'home\n',
      'the Igor database opened as it is, and the server runs on',
    );
  });
});
