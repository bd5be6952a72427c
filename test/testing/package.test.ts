/**
 * The plugin kit as a stranger gets it: the package packed with `npm pack` (in a copy of this checkout, so that
 * neither its dist/ nor its types/ are touched), unpacked into a plugin's own folder as npm would install it, then a
 * plugin there type-checked with tsc against igor-ts/plugin-api and tested with igor-ts/testing — never reading our
 * sources. And types/, which that relies on, matches the sources.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PACKAGE_DIR } from '../../src/packageDir.ts';
import { tempDir } from '../helpers.ts';

const MODULES = join(PACKAGE_DIR, 'node_modules');
const TSC = join(MODULES, 'typescript', 'bin', 'tsc');
const TSX = fileURLToPath(import.meta.resolve('tsx'));

function run(command: string, args: string[], cwd: string) {
  const env = { ...process.env };
  // What runs this test (its loader, its test runner) is not what a plugin author's tools run with.
  delete env['NODE_OPTIONS'];
  delete env['NODE_TEST_CONTEXT'];
  return spawnSync(command, args, { cwd, env, encoding: 'utf8' });
}

/** The files README's "Writing a plugin" shows: its code blocks whose first line names one (`// plugin.ts`). */
function readmeFiles(): Record<string, string> {
  const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
  const start = readme.indexOf('### Writing a plugin');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const files: Record<string, string> = {};
  for (const m of section.matchAll(/```\w*\n(\/\/ ([\w.]+)\n[\s\S]*?)```/g)) files[m[2]!] = m[1]!;
  return files;
}

const README = readmeFiles();

/** A plugin's folder with igor-ts installed from `tarball`, and @types/node as an author installs it. */
function pluginFolder(dir: string, unpacked: string, files: Record<string, string | undefined>): string {
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(unpacked, join(dir, 'node_modules', 'igor-ts'));
  symlinkSync(join(MODULES, '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-plugin', type: 'module', private: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text ?? '');
  return dir;
}

describe('the plugin kit, installed from the packed package', () => {
  let unpacked: string;
  let packed: string[];

  before(async () => {
    const copy = await tempDir('igor-pack-');
    for (const part of ['package.json', 'README.md', 'tsconfig.json', 'bin', 'tools', 'src', 'plugins', 'template', 'static', 'types']) {
      cpSync(join(PACKAGE_DIR, part), join(copy, part), { recursive: true });
    }
    symlinkSync(MODULES, join(copy, 'node_modules'));
    const out = await tempDir('igor-tarball-');
    const pack = run('npm', ['pack', '--json', '--pack-destination', out], copy);
    assert.equal(pack.status, 0, `npm pack failed: ${pack.stderr}`);
    packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    unpacked = join(await tempDir('igor-installed-'), 'igor-ts');
    mkdirSync(unpacked);
    const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'))!;
    const untar = run('tar', ['-xzf', join(out, tarball), '-C', unpacked, '--strip-components=1'], out);
    assert.equal(untar.status, 0, untar.stderr);
    // Its dependencies, as npm would have put them beside it.
    symlinkSync(MODULES, join(unpacked, 'node_modules'));
  });

  it('holds the compiled declarations and the compiled kit, and none of our tests', () => {
    for (const file of ['types/plugin-api.d.ts', 'types/testing/index.d.ts', 'dist/src/testing/index.js', 'template/database.xml']) {
      assert.ok(packed.includes(file), `${file} is in the package`);
    }
    assert.ok(!packed.some((f) => f.startsWith('test/')), 'no tests');
  });

  it("shows a plugin, its test and its tsconfig.json in README's Writing a plugin", () => {
    assert.deepEqual(Object.keys(README).sort(), ['plugin.test.ts', 'plugin.ts', 'tsconfig.json']);
  });

  it('type-checks a plugin in a folder of its own against igor-ts/plugin-api and igor-ts/testing, and only them', async () => {
    const dir = pluginFolder(await tempDir('my-plugin-'), unpacked, README);
    const tsc = run(process.execPath, [TSC, '-p', '.', '--listFiles'], dir);
    assert.equal(tsc.status, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    const ours = tsc.stdout.split('\n').filter((f) => f.includes('/igor-ts/'));
    assert.ok(
      ours.some((f) => f.endsWith('/types/plugin-api.d.ts')),
      ours.join('\n'),
    );
    assert.deepEqual(
      ours.filter((f) => !/\/igor-ts\/types\//.test(f)),
      [],
      'nothing but the declarations in types/',
    );
  });

  it('refuses a plugin that uses the API wrongly', async () => {
    const plugin = README['plugin.ts'] ?? '';
    const wrong = plugin.replace("host.every('0 0 * * *',", 'host.every({ hours: 24 },').replace("access: 'public'", "access: 'everyone'");
    assert.equal(wrong.split('\n').filter((line, i) => line !== plugin.split('\n')[i]).length, 2, 'both mistakes made');
    const dir = pluginFolder(await tempDir('my-plugin-'), unpacked, { 'tsconfig.json': README['tsconfig.json'], 'plugin.ts': wrong });
    const tsc = run(process.execPath, [TSC, '-p', '.'], dir);
    assert.notEqual(tsc.status, 0, 'tsc accepted it');
    assert.match(tsc.stdout, /plugin\.ts\(\d+,\d+\): error TS\d+: .*hours/);
    assert.match(tsc.stdout, /"everyone"/);
  });

  it("runs the plugin's own test with createTestHost from the package, no server", async () => {
    const dir = pluginFolder(await tempDir('my-plugin-'), unpacked, README);
    // TAP named: Node 24's default reporter away from a terminal is spec, Node 20's TAP.
    const test = run(process.execPath, ['--import', TSX, '--test', '--test-reporter=tap', 'plugin.test.ts'], dir);
    assert.equal(test.status, 0, `${test.stdout}${test.stderr}`);
    assert.match(test.stdout, /# pass 2\n# fail 0/);
  });
});

describe('types/', () => {
  it('matches the sources (npm run types writes it)', () => {
    const check = run(process.execPath, [join(PACKAGE_DIR, 'tools', 'types.js'), '--check'], PACKAGE_DIR);
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  });
});
