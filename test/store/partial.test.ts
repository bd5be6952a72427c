/**
 * What a power cut (or a disk) can leave in a database directory, crafted file by file: each start either opens
 * with every write that made it to disk, or refuses with a sentence naming `igor db check` / `igor db recover` —
 * never an exception with a stack trace, and never a new database over an old one (issue #32).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { link, mkdir, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { quietLogger } from '../../src/logger.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { Database, DatabaseOpenError } from '../../src/store/database.ts';
import { listBackups } from '../../src/store/files.ts';
import { recoverDatabase } from '../../src/store/recovery.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { startServerProcess, tempDir } from '../helpers.ts';

const template = join(PACKAGE_DIR, 'template', 'database.xml');
const open = (dir: string) => Database.open({ dir, template, logger: quietLogger() });
const put = (db: Database, path: string, value: unknown) =>
  db.write((t) => t.put(path, elementFromJson(t.doc, path.split('/').pop()!, value as never)));
const value = (db: Database, path: string) => db.tree.select(path).map((n) => n.textContent);

/** A database with three saves behind it and writes after the last one, left as `kill -9` leaves it. */
async function used(): Promise<string> {
  const dir = await tempDir();
  const db = await open(dir);
  for (let i = 0; i < 3; i++) {
    await put(db, `/data/sandbox/saved${i}`, i);
    await db.snapshot();
  }
  await put(db, '/data/sandbox/after', 'journal');
  db.abandon();
  // Its lock entry names this process, which lives on: gone, as the process that died would be.
  for (const name of await readdir(dir)) if (name.startsWith('igor.lock')) await unlink(join(dir, name));
  return dir;
}

/** Opening refuses, saying what to do, and changes nothing. */
async function refuses(dir: string, why: RegExp): Promise<void> {
  const files = async () => (await readdir(dir)).filter((n) => !n.startsWith('igor.lock')).sort();
  const before = await files();
  await assert.rejects(open(dir), (err: Error) => {
    assert.ok(err instanceof DatabaseOpenError, `a DatabaseOpenError, not ${err.stack}`);
    assert.match(err.message, why);
    assert.match(err.message, /igor db recover --database/);
    return true;
  });
  assert.deepEqual(await files(), before, 'nothing was changed');
}

describe('a start after a power cut', () => {
  it('opens when the cut came between the new backup and its link into place (database.xml.linking is left)', async () => {
    const dir = await used();
    const [newest] = await listBackups(join(dir, 'database.xml'));
    await link(join(dir, newest!), join(dir, 'database.xml.linking'));
    const db = await open(dir);
    assert.deepEqual(value(db, '/data/sandbox/after'), ['journal']);
    await db.snapshot(); // and the next save gets past the leftover
    await db.close();
  });

  it('opens when a save had made the next journal and a write was under way: a record cut short, then an empty journal', async () => {
    // A save makes the next journal (durably) before it waits for the writes under way to reach the disk: a cut
    // then leaves the last record of one journal cut short, and an empty one after it. That record was never
    // acknowledged; it is a crash's, not damage.
    const dir = await used();
    const journals = (await readdir(dir)).filter((n) => n.startsWith('journal.')).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
    const last = Number(journals.at(-1)!.slice(8));
    await writeFile(join(dir, `journal.${last}`), '0badc0de {"n":99,"t":1,"op', { flag: 'a' });
    await writeFile(join(dir, `journal.${last + 1}`), '');
    const db = await open(dir);
    assert.deepEqual(value(db, '/data/sandbox/after'), ['journal']);
    await put(db, '/data/sandbox/next', 1);
    await db.close();
    const again = await open(dir);
    assert.deepEqual(value(again, '/data/sandbox/next'), ['1']);
    await again.close();
  });

  it('still refuses a record cut short with records in a later journal: that is damage', async () => {
    const dir = await used();
    const journals = (await readdir(dir)).filter((n) => n.startsWith('journal.')).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
    const last = Number(journals.at(-1)!.slice(8));
    await writeFile(join(dir, `journal.${last + 1}`), await readFile(join(dir, `journal.${last}`)));
    await writeFile(join(dir, `journal.${last}`), '0badc0de {"n":99,"t":1,"op', { flag: 'a' });
    await refuses(dir, /ends in an incomplete record, yet later journals hold records/);
  });

  it('opens from the snapshot before when the newest backup was written but never linked into place', async () => {
    const dir = await used();
    const dbFile = join(dir, 'database.xml');
    // A backup named later than database.xml's, which the cut kept from becoming database.xml: its journals are
    // still there, so database.xml and those journals are the whole database.
    const [newest] = await listBackups(dbFile);
    await writeFile(join(dir, `database.xml.29991231235959`), await readFile(join(dir, newest!)));
    const db = await open(dir);
    assert.deepEqual(value(db, '/data/sandbox/saved2'), ['2']);
    assert.deepEqual(value(db, '/data/sandbox/after'), ['journal']);
    await db.close();
  });

  it('refuses a database.xml that is empty or cut short, and `igor db recover` brings it back from a backup', async () => {
    for (const length of [0, 100]) {
      const dir = await used();
      const dbFile = join(dir, 'database.xml');
      // database.xml shares its inode with the newest backup: a copy stands in for a file the disk lost.
      const bytes = await readFile(dbFile);
      await unlink(dbFile);
      await writeFile(dbFile, bytes);
      await truncate(dbFile, length);
      await refuses(dir, length === 0 ? /database\.xml/ : /checksum/);
      const report = await recoverDatabase(dir);
      assert.deepEqual(report.lost, []);
      const db = await open(dir);
      assert.deepEqual(value(db, '/data/sandbox/saved2'), ['2']);
      assert.deepEqual(value(db, '/data/sandbox/after'), ['journal']);
      await db.close();
    }
  });

  it('refuses, rather than starting afresh from the template, when database.xml is gone but its backups are there', async () => {
    const dir = await used();
    await unlink(join(dir, 'database.xml'));
    for (const j of (await readdir(dir)).filter((n) => n.startsWith('journal.'))) await unlink(join(dir, j));
    await refuses(dir, /database\.xml is missing, but .* has its backups/);
  });

  it('refuses with a sentence, not a stack trace, when a file cannot be read (database.xml or a journal a directory)', async () => {
    const dir = await used();
    await rm(join(dir, 'database.xml'));
    await mkdir(join(dir, 'database.xml'));
    await assert.rejects(open(dir), (err: Error) => {
      assert.ok(err instanceof DatabaseOpenError, String(err));
      assert.match(err.message, /cannot be opened: EISDIR .*database\.xml.*Check that this user can read and write/);
      return true;
    });
    const other = await used();
    await mkdir(join(other, 'journal.99'));
    await assert.rejects(open(other), (err: Error) => err instanceof DatabaseOpenError && /EISDIR .*journal\.99/.test(err.message));
  });

  it('`igor serve` on a damaged directory exits with the sentence and the commands, and no stack trace', { timeout: 60_000 }, async () => {
    const dir = await used();
    await writeFile(join(dir, 'database.xml.tmp'), '');
    const bytes = await readFile(join(dir, 'database.xml'));
    await unlink(join(dir, 'database.xml'));
    await writeFile(join(dir, 'database.xml'), bytes.subarray(0, bytes.length - 10));
    const said = await startServerProcess(dir).then(
      () => assert.fail('the server started on a damaged database'),
      (err: Error) => err.message,
    );
    assert.match(said, /exited with 1 before serving/);
    assert.match(said, /igor: .*does not match its checksum.*igor db check --database .*igor db recover --database/s);
    assert.doesNotMatch(said, /\n\s+at |Node\.js v\d/, 'no stack trace, no crash');
    const check = spawnSync(process.execPath, [join(PACKAGE_DIR, 'bin/igor.js'), 'db', 'check', '--database', dir], { encoding: 'utf8' });
    assert.match(check.stdout + check.stderr, /igor db recover/);
  });
});
