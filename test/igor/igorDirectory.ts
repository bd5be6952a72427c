/**
 * An Igor database directory as a person has it after `igorSetup initialize` and `addstd user copytree
 * systemHealth home`: the database Igor 0.99.2 wrote (test/fixtures/igor-0.99.2-database, see its README), and
 * plugins/NAME as symbolic links to ../std-plugins/NAME, folders that look like Igor's Python plugins (an
 * igorplugin.py and a database-fragment.xml of our own making; no Igor code).
 */
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_DIR } from '../../src/server.ts';
import { tempDir } from '../helpers.ts';

export const FIXTURE = join(PACKAGE_DIR, 'test', 'fixtures', 'igor-0.99.2-database');

/** The plugins the fixture's Igor had installed (its `addstd`). */
export const IGOR_PLUGINS = ['copytree', 'home', 'systemHealth', 'user'];

/** A copy of the fixture in a new directory; with `plugins`, Igor's plugins/ of symbolic links beside it. */
export async function igorDirectory({ plugins = true }: { plugins?: boolean } = {}): Promise<string> {
  const dir = await tempDir('igor-dir-');
  await cp(FIXTURE, dir, { recursive: true });
  if (!plugins) return dir;
  // Igor's std-plugins is itself a link to its installed package's folder; a folder of our own stands in for it.
  const installed = await tempDir('igor-std-plugins-');
  for (const name of IGOR_PLUGINS) {
    await mkdir(join(installed, name));
    await writeFile(
      join(installed, name, 'igorplugin.py'),
      `# stands in for Igor's ${name} plugin\ndef igorPlugin(igor, pluginName, pluginData):\n    return None\n`,
    );
    await writeFile(join(installed, name, 'database-fragment.xml'), `<data><plugindata><{plugin}/></plugindata></data>\n`);
  }
  await symlink(installed, join(dir, 'std-plugins'));
  await mkdir(join(dir, 'plugins'));
  for (const name of IGOR_PLUGINS) await symlink(join('..', 'std-plugins', name), join(dir, 'plugins', name));
  return dir;
}

/** passlib's adapted base64 read back: '.' for '+', no padding. */
const ab64 = (s: string) => Buffer.from(s.replace(/\./g, '+'), 'base64');

/** Whether Igor would let `password` in: the hash checked as passlib's pbkdf2_sha256.verify does, from the string alone. */
export function passlibVerifies(password: string, hash: string): boolean {
  const m = /^\$pbkdf2-sha256\$(\d+)\$([A-Za-z0-9./]+)\$([A-Za-z0-9./]+)$/.exec(hash);
  assert.ok(m, `${hash} is in passlib's pbkdf2-sha256 format`);
  const [, rounds, salt, checksum] = m;
  return pbkdf2Sync(Buffer.from(password, 'utf8'), ab64(salt!), Number(rounds), 32, 'sha256').equals(ab64(checksum!));
}
