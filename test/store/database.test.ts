import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InsufficientStorageError } from '../../src/errors.ts';
import { quietLogger } from '../../src/logger.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { Database, DatabaseOpenError } from '../../src/store/database.ts';
import { Journal, scanJournal } from '../../src/store/journal.ts';
import { recoverDatabase } from '../../src/store/recovery.ts';
import { SHOW_ALL } from '../../src/tree/dom.ts';
import { serialize } from '../../src/tree/serialize.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { tempDir } from '../helpers.ts';

const template = join(PACKAGE_DIR, 'template', 'database.xml');
const open = (dir: string, extra: Partial<Parameters<typeof Database.open>[0]> = {}) =>
  Database.open({ dir, template, logger: quietLogger(), ...extra });
const put = (db: Database, path: string, value: unknown) =>
  db.write((t) => t.put(path, elementFromJson(t.doc, path.split('/').pop()!, value as never)));
const value = (db: Database, path: string) => db.tree.select(path).map((n) => n.textContent);

describe('the database directory', () => {
  it('is created from the template on first open, and adopted as is afterwards', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    assert.equal(db.created, true);
    for (const top of ['environment', 'sensors', 'devices', 'status', 'people', 'identities', 'plugindata', 'actions', 'sandbox']) {
      assert.equal(db.tree.select(`/data/${top}`).length, 1, top);
    }
    await db.close();
    const again = await open(dir);
    assert.equal(again.created, false);
    await again.close();
  });

  it('opens an Igor database.xml (tabs, no journal marker) and keeps its content', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'database.xml'),
      '<?xml version="1.0" ?>\n<data xmlns:au="http://jackjansen.nl/igor/authentication" xmlns:own="http://jackjansen.nl/igor/owner">\n\t<sandbox>\n\t\t<v>42</v>\n\t</sandbox>\n\t<identities>\n\t\t<admin>\n\t\t\t<au:capability><cid>root</cid></au:capability>\n\t\t</admin>\n\t</identities>\n</data>\n',
    );
    const db = await open(dir);
    assert.equal(db.created, false);
    assert.deepEqual(value(db, '/data/sandbox/v'), ['42']);
    assert.equal(db.tree.select('/data/identities/admin/au:capability/cid').length, 1);
    await db.close();
  });
});

describe('durability', () => {
  it('has every acknowledged write after reopening, without a clean close', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    await Promise.all(Array.from({ length: 50 }, (_, i) => put(db, `/data/sandbox/v${i}`, i)));
    await db.write((t) => t.delete('/data/sandbox/v7'));
    db.abandon(); // no close: as after kill -9, only what is on disk counts
    const reopened = await open(dir);
    assert.deepEqual(value(reopened, '/data/sandbox/v49'), ['49']);
    assert.deepEqual(value(reopened, '/data/sandbox/v7'), []);
    assert.equal(serialize(reopened.tree.root, { show: SHOW_ALL }), serialize(db.tree.root, { show: SHOW_ALL }));
  });

  it('drops a torn last record and keeps everything before it', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    await put(db, '/data/sandbox/a', 1);
    await put(db, '/data/sandbox/b', 2);
    const journal = join(dir, 'journal.0');
    const good = (await stat(journal)).size;
    await appendFile(journal, '0badc0de {"t":1,"ops":[{"op":"append","parent":"/data/sandbox","xml":"<c>3</c>"}]}'); // no newline: torn
    db.abandon();
    const reopened = await open(dir);
    assert.deepEqual(value(reopened, '/data/sandbox/a'), ['1']);
    assert.deepEqual(value(reopened, '/data/sandbox/c'), []);
    assert.equal((await stat(journal)).size, good, 'the torn tail is cut off');
    await put(reopened, '/data/sandbox/d', 4);
    reopened.abandon();
    const third = await open(dir);
    assert.deepEqual(value(third, '/data/sandbox/d'), ['4'], 'writes after the cut replay fine');
  });

  it('refuses a complete last record whose checksum does not match (damage, not a crash); recover keeps the rest and reports it', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    await put(db, '/data/sandbox/a', 1);
    await put(db, '/data/sandbox/b', 2);
    const journal = join(dir, 'journal.0');
    const text = await readFile(journal, 'utf8');
    await writeFile(journal, text.replace('<b>2</b>', '<b>3</b>'));
    const scan = await scanJournal(journal);
    assert.equal(scan.records.length, 1);
    assert.equal(scan.damaged.length, 1);
    db.abandon();
    await assert.rejects(
      open(dir),
      (err: Error) =>
        err instanceof DatabaseOpenError && /igor db recover --database/.test(err.message) && /Nothing was changed/.test(err.message),
    );
    assert.equal(await readFile(journal, 'utf8'), text.replace('<b>2</b>', '<b>3</b>'), 'the refusal changed nothing');
    const report = await recoverDatabase(dir);
    assert.deepEqual(
      report.lost.map((l) => l.numbers),
      [[2]],
    );
    const reopened = await open(dir);
    assert.deepEqual(value(reopened, '/data/sandbox/a'), ['1']);
    assert.deepEqual(value(reopened, '/data/sandbox/b'), []);
  });

  it('snapshots rotate the journal, keep a few backups, and lose nothing', async () => {
    const dir = await tempDir();
    const db = await open(dir, { backups: 2 });
    for (let i = 0; i < 4; i++) {
      await put(db, `/data/sandbox/s${i}`, i);
      await db.snapshot();
    }
    await put(db, '/data/sandbox/after', 'x');
    const files = await readdir(dir);
    // The journals since the oldest backup stay: with it, they make the whole database again.
    assert.deepEqual(files.filter((f) => f.startsWith('journal.')).sort(), ['journal.3', 'journal.4']);
    assert.equal(files.filter((f) => /^database\.xml\.\d{14}/.test(f)).length, 2);
    assert.match(await readFile(join(dir, 'database.xml'), 'utf8'), /<\?igor-ts journal="4" last="4" sha256="[0-9a-f]{64}"\?>/);
    db.abandon();
    const reopened = await open(dir);
    assert.deepEqual(value(reopened, '/data/sandbox/*'), ['0', '1', '2', '3', 'x']);
  });

  it('ignores a journal the snapshot already holds (a crash between saving and deleting it)', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    await put(db, '/data/sandbox/a', 1);
    const oldJournal = await readFile(join(dir, 'journal.0'));
    await db.snapshot();
    await writeFile(join(dir, 'journal.0'), oldJournal);
    db.abandon();
    const reopened = await open(dir);
    assert.deepEqual(value(reopened, '/data/sandbox/a'), ['1'], 'not applied twice');
    assert.deepEqual(await readFile(join(dir, 'journal.0')), oldJournal, 'and left alone');
  });

  it('takes a snapshot by itself once the journal is big', async () => {
    const dir = await tempDir();
    const db = await open(dir, { snapshotJournalBytes: 2000 });
    for (let i = 0; i < 40; i++) await put(db, `/data/sandbox/v${i}`, 'x'.repeat(50));
    await db.snapshot(); // waits for one under way
    assert.ok((await readdir(dir)).some((f) => /^journal\.[1-9]/.test(f)));
    db.abandon();
    assert.deepEqual((await open(dir)).tree.select('/data/sandbox/*').length, 40);
  });
});

describe('failures', () => {
  it('refuses a damaged database.xml, and recover rebuilds it from the backup before and the journals since, losing nothing', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    await put(db, '/data/sandbox/a', 1);
    const backup = await db.snapshot();
    await put(db, '/data/sandbox/b', 2);
    await db.snapshot();
    await put(db, '/data/sandbox/c', 3);
    db.abandon();
    const bytes = await readFile(join(dir, 'database.xml'));
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x04; // also damages the newest backup: same inode
    await writeFile(join(dir, 'database.xml'), bytes);
    await assert.rejects(open(dir), (err: Error) => {
      assert.ok(err instanceof DatabaseOpenError);
      assert.match(err.message, /does not match its checksum.*igor db recover/s);
      return true;
    });
    const report = await recoverDatabase(dir);
    assert.equal(report.base, join(dir, backup.split('/').pop()!), 'the backup before');
    assert.deepEqual(report.lost, []);
    const reopened = await open(dir);
    assert.deepEqual(value(reopened, '/data/sandbox/*'), ['1', '2', '3']);
  });

  it('refuses a second opening of a directory in use, and takes over a lock left by a crash', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    await assert.rejects(open(dir), /in use/);
    db.abandon(); // the lock entry stays, as a crash leaves it
    assert.ok((await readdir(dir)).some((n) => n.startsWith('igor.lock.')));
    const again = await open(dir);
    await again.close();
    assert.ok(!(await readdir(dir)).some((n) => n.startsWith('igor.lock')));
  });

  it('undoes a write the disk cannot take, answers 507, and keeps serving reads', async () => {
    const dir = await tempDir();
    const db = await open(dir);
    await put(db, '/data/sandbox/a', 'before');
    const before = serialize(db.tree.root, { show: SHOW_ALL });
    await symlink('/dev/full', join(dir, 'journal.1')); // the next journal is a full disk
    await db.snapshot();
    const results = await Promise.allSettled([
      put(db, '/data/sandbox/a', 'after'),
      put(db, '/data/sandbox/b', 'new'),
      db.write((t) => t.delete('/data/sandbox/a')),
    ]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok((r as PromiseRejectedResult).reason instanceof InsufficientStorageError);
      assert.match((r as PromiseRejectedResult).reason.message, /disk .* is full; the write was not made/);
    }
    assert.equal(serialize(db.tree.root, { show: SHOW_ALL }), before, 'the tree is exactly as before');
    assert.deepEqual(value(db, '/data/sandbox/a'), ['before']);
    await unlink(join(dir, 'journal.1'));
    await writeFile(join(dir, 'journal.1'), '');
    db.abandon();
    assert.deepEqual(value(await open(dir), '/data/sandbox/a'), ['before']);
  });
});

describe('the journal', () => {
  it('commits concurrent appends in groups, in order', async () => {
    const dir = await tempDir();
    const journal = await Journal.open(join(dir, 'j'));
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.append({ i }, () => {})));
    await journal.close();
    const { records, damaged, tail } = await scanJournal(join(dir, 'j'));
    assert.deepEqual(
      records.map((r) => r.record),
      Array.from({ length: 200 }, (_, i) => ({ n: i + 1, i })),
      'numbered, in order',
    );
    assert.deepEqual([damaged, tail], [[], undefined]);
  });

  it('on a failed write undoes every pending record, last first, and rejects them all', async () => {
    const journal = await Journal.open('/dev/full');
    const undone: number[] = [];
    const results = await Promise.allSettled([1, 2, 3].map((i) => journal.append({ i }, () => undone.push(i))));
    assert.deepEqual(undone, [3, 2, 1]);
    assert.ok(results.every((r) => r.status === 'rejected' && /ENOSPC/.test(String(r.reason))));
  });
});
