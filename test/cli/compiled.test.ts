/**
 * The compiled server (issue #21): `npm install` compiles src/ and the shipped plugins into dist/ (tools/build.js,
 * npm's `prepare`), and `igor` runs that, falling back to the TypeScript sources when dist/ is missing or older
 * than them. Built here in a copy of the package, so the test neither depends on nor disturbs this checkout's
 * dist/. In the copy, src/cli/main.ts is replaced by a stub that says so: whatever runs the real server ran dist/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { PACKAGE_DIR } from '../../src/server.ts';
import { basic, startServerProcess, tempDir } from '../helpers.ts';

const SOURCES_RAN = 'the TypeScript sources ran';
let copy: string;

function igor(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return spawnSync(process.execPath, [join(copy, 'bin/igor.js'), ...args], { env, encoding: 'utf8' });
}

describe('the compiled server', () => {
  before(async () => {
    copy = await tempDir('igor-package-');
    for (const part of ['package.json', 'tsconfig.json', 'bin', 'tools', 'src', 'plugins', 'template', 'static']) {
      cpSync(join(PACKAGE_DIR, part), join(copy, part), { recursive: true });
    }
    symlinkSync(join(PACKAGE_DIR, 'node_modules'), join(copy, 'node_modules'));
    const built = spawnSync(process.execPath, ['tools/build.js'], { cwd: copy, encoding: 'utf8' });
    assert.equal(built.status, 0, `tools/build.js failed: ${built.stdout}${built.stderr}`);
    const stub = join(copy, 'src/cli/main.ts');
    writeFileSync(stub, `export async function main(): Promise<number> {\n  console.log('${SOURCES_RAN}');\n  return 0;\n}\n`);
    const longAgo = new Date(Date.now() - 3600_000);
    utimesSync(stub, longAgo, longAgo); // as old as the other sources: dist/ stays current
  });

  it('serves the shipped plugins from dist/: their code, pages and readmes, and a person’s own plugin.ts', async () => {
    const dir = await tempDir();
    cpSync(join(PACKAGE_DIR, 'plugins/hello'), join(dir, 'plugins/mine'), { recursive: true });
    const { url, password } = await startServerProcess(dir, [], { bin: join(copy, 'bin/igor.js'), expectPassword: true });
    const auth = basic('admin', password!);
    const get = (path: string, init: RequestInit = {}) => fetch(url + path, { ...init, headers: { authorization: auth, ...init.headers } });
    for (const plugin of ['hello', '_fitbit', 'mine']) {
      const installed = await get(`/internal/plugins/${plugin}`, { method: 'PUT' });
      assert.equal(installed.status, 200, `installing ${plugin}: ${await installed.text()}`);
    }
    for (const plugin of ['hello', 'mine']) {
      const greeting = await get(`/plugin/${plugin}`);
      assert.equal(greeting.status, 200);
      assert.equal(await greeting.text(), `Hello from ${plugin}!\n`);
    }
    const setup = await get('/plugin/_fitbit/page/setup.html');
    assert.equal(setup.status, 200);
    assert.match(await setup.text(), /Google/);
    const readme = await get('/plugin/hello/page/readme.md');
    assert.equal(readme.status, 200);
    assert.match(await readme.text(), /<h1/);
  });

  it('runs the sources, and says why, when a source is newer than dist/; and quietly when there is no dist/', () => {
    const current = igor(['--version']);
    assert.equal(current.status, 0, current.stderr);
    assert.doesNotMatch(current.stdout, new RegExp(SOURCES_RAN));
    assert.equal(current.stderr, '');

    const edited = join(copy, 'plugins/hello/plugin.ts');
    const later = new Date(Date.now() + 60_000);
    utimesSync(edited, later, later);
    const stale = igor(['--version']);
    assert.match(stale.stdout, new RegExp(SOURCES_RAN));
    assert.match(stale.stderr, /dist\/ is older than the sources/);

    rmSync(join(copy, 'dist'), { recursive: true });
    const none = igor(['--version']);
    assert.match(none.stdout, new RegExp(SOURCES_RAN));
    assert.equal(none.stderr, '');
  });
});
