/**
 * An Igor directory taken over by the store: its database.xml is saved again at once in this server's format (so a
 * crash in the first minutes replays the journal onto it), Igor's own file staying as a backup; and a database.xml
 * Igor wrote after this server ran (someone went back to Igor, then came forward again) is taken as it is, the
 * older journals beside it kept aside instead of replayed over Igor's changes.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { quietLogger } from '../../src/logger.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { Database } from '../../src/store/database.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { FIXTURE, igorDirectory as copyOfFixture } from './igorDirectory.ts';

const open = (dir: string) =>
  Database.open({ dir, template: join(PACKAGE_DIR, 'template', 'database.xml'), logger: quietLogger('silent') });

const text = (db: Database, path: string) => db.tree.select(path)[0]?.textContent;

const igorDirectory = () => copyOfFixture({ plugins: false });

describe("an Igor directory's database.xml", () => {
  it('is taken over at once: saved in this format, Igor’s file kept as a backup, and a crash loses nothing', async () => {
    const dir = await igorDirectory();
    const igors = await readFile(join(dir, 'database.xml'), 'utf8');
    const db = await open(dir);
    assert.equal(db.fromIgor, true);
    assert.equal(db.created, false);
    assert.match(await readFile(join(dir, 'database.xml'), 'utf8'), /^<\?xml[^>]*\?>\n<\?igor-ts journal="0" last="0" sha256="/);
    const backups = (await readdir(dir)).filter((f) => /^database\.xml\.\d{14}/.test(f));
    assert.equal(backups.length, 1);
    assert.equal(text(db, '/data/sandbox/counter'), '5.0', 'the data as Igor left it');
    await db.write((t) => t.put('/data/sandbox/after', elementFromJson(t.doc, 'after', 'adopted')));
    db.abandon(); // kill -9 before any snapshot of ours
    const again = await open(dir);
    try {
      assert.equal(again.fromIgor, false, 'the second start is not an adoption');
      assert.equal(text(again, '/data/sandbox/after'), 'adopted', 'the acknowledged write was replayed');
      assert.equal(text(again, '/data/sensors/temperature/kitchen'), '19.0');
    } finally {
      await again.close();
    }
    assert.ok(igors.includes('<counter>5.0</counter>'));
  });

  it('written by Igor after this server ran here is taken as it is; the older journals go aside, kept', async () => {
    const dir = await igorDirectory();
    const first = await open(dir);
    await first.write((t) => t.put('/data/sandbox/counter', elementFromJson(t.doc, 'counter', '99')));
    await first.close();
    // Someone went back: Igor saved its own database.xml over ours (no <?igor-ts?> line), with a change of its own.
    const igorsAgain = (await readFile(join(FIXTURE, 'database.xml'), 'utf8')).replace('<counter>5.0</counter>', '<counter>7.0</counter>');
    await writeFile(join(dir, 'database.xml'), igorsAgain);
    const journalsBefore = (await readdir(dir)).filter((f) => /^journal\.\d+$/.test(f));
    assert.ok(journalsBefore.length > 0);
    const db = await open(dir);
    try {
      assert.equal(db.fromIgor, true);
      assert.equal(text(db, '/data/sandbox/counter'), '7.0', "Igor's change stands; the journal of ours was not replayed over it");
      const aside = (await readdir(dir)).filter((f) => f.startsWith('journals-before-igor-'));
      assert.equal(aside.length, 1);
      assert.deepEqual((await readdir(join(dir, aside[0]!))).sort(), journalsBefore.sort(), 'kept, every one');
      await db.write((t) => t.put('/data/sandbox/later', elementFromJson(t.doc, 'later', 'yes')));
    } finally {
      await db.close();
    }
    const reopened = await open(dir);
    try {
      assert.equal(text(reopened, '/data/sandbox/later'), 'yes');
      assert.equal(text(reopened, '/data/sandbox/counter'), '7.0');
    } finally {
      await reopened.close();
    }
  });
});
