/**
 * Exactly the acknowledged writes: what the recorder had not written when the process died is read back from
 * the journal by number; the journal files it has not taken are kept through snapshots; what it could not get
 * back (journals gone before the history file was there) is noted as a gap; a database rebuilt with fewer
 * writes than the history has recorded is followed on from its own numbers.
 */
import assert from 'node:assert/strict';
import { readdir, unlink } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { Database } from '../../src/store/database.ts';
import { scanJournal } from '../../src/store/journal.ts';
import { quietLogger } from '../../src/logger.ts';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { tempDir } from '../helpers.ts';
import { recorded, TEMPLATE, sqliteSkip } from './setup.ts';

const values = (rows: [string, number, unknown][]) => rows.map(([path, , v]) => `${path}=${v}`);

async function journals(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith('journal.')).sort();
}

describe('catching up from the journal', { skip: sqliteSkip }, () => {
  it('records after a crash what had been acknowledged but not yet written, once', async () => {
    const dir = await tempDir();
    const first = await recorded(dir, { flushDelayMs: 3_600_000 });
    await first.put('/data/sensors/t', 1);
    first.history.flush();
    await first.put('/data/sensors/t', 2);
    await first.put('/data/sensors/t', 3);
    await first.post('/data/sensors/fitbit/jack/weight', { dateTime: '2026-01-02', weight: 80 });
    first.crash(); // 2, 3 and the weight were queued, never written
    const again = await recorded(dir);
    assert.deepEqual(values(await again.readings()), ['sensors/fitbit/jack/weight/weight=80', 'sensors/t=1', 'sensors/t=2', 'sensors/t=3']);
    const { store } = await again.history.reader();
    assert.equal(store.lastRecorded, again.db.lastWrite);
    assert.deepEqual(store.gaps(), []);
  });

  it('reads the journal with the write times, so a reading caught up has the time it was made', async () => {
    const dir = await tempDir();
    const first = await recorded(dir, { flushDelayMs: 3_600_000 });
    const before = Date.now();
    await first.put('/data/sensors/t', 1);
    const after = Date.now();
    first.crash();
    const again = await recorded(dir);
    const [[, time]] = (await again.readings()) as [[string, number, unknown]];
    assert.ok(time >= before && time <= after, `${time} is when the write was made`);
  });

  it('keeps the journal files the recorder has not taken and checkpointed through snapshots, and lets them go after', async () => {
    const dir = await tempDir();
    const h = await recorded(dir, { flushDelayMs: 3_600_000 });
    await h.put('/data/sensors/t', 0);
    const firstJournal = (await journals(dir))[0]!;
    // Seven snapshots: with five backups kept, the first journal would otherwise be removed.
    for (let i = 1; i <= 7; i++) {
      await h.put('/data/sensors/t', i);
      await h.db.snapshot();
    }
    assert.ok((await journals(dir)).includes(firstJournal), 'the journal with untaken records is kept');
    h.history.flush();
    await h.db.snapshot();
    assert.ok((await journals(dir)).includes(firstJournal), 'taken but not yet on disk for certain (checkpointed): still kept');
    (await h.history.reader()).store.checkpoint();
    await h.db.snapshot();
    assert.ok(!(await journals(dir)).includes(firstJournal), 'once on disk, it goes as before');
    h.crash();
    const again = await recorded(dir);
    assert.deepEqual(
      values(await again.readings()),
      [0, 1, 2, 3, 4, 5, 6, 7].map((v) => `sensors/t=${v}`),
    );
  });

  it('starts a new history file with what the journal files still hold', async () => {
    const dir = await tempDir();
    const db = await Database.open({ dir, template: TEMPLATE, logger: quietLogger() });
    for (let i = 1; i <= 3; i++) await db.write((t) => t.put('/data/sensors/t', elementFromJson(t.doc, 't', i)));
    await db.close(); // a snapshot: the journal of those writes stays, as the backups need it
    const h = await recorded(dir);
    assert.deepEqual(values(await h.readings()), ['sensors/t=1', 'sensors/t=2', 'sensors/t=3']);
    assert.deepEqual((await h.history.reader()).store.gaps(), []);
  });

  it('notes the writes it cannot get back as a gap, and records on', async () => {
    const dir = await tempDir();
    const h = await recorded(dir);
    await h.put('/data/sensors/t', 1);
    await h.close();
    // The server runs without the recorder (say, an older version) while snapshots remove the journals.
    const db = await Database.open({ dir, template: TEMPLATE, logger: quietLogger() });
    const missed = { from: db.lastWrite + 1, to: 0 };
    for (let i = 2; i <= 8; i++) {
      await db.write((t) => t.put('/data/sensors/t', elementFromJson(t.doc, 't', i)));
      await db.snapshot();
    }
    // The last two writes are in the live journal and its predecessor: those are still there to read.
    const kept = (await journals(dir)).length;
    assert.ok(kept >= 1);
    missed.to = db.lastWrite;
    await db.close();
    const again = await recorded(dir);
    await again.put('/data/sensors/t', 9);
    const { store } = await again.history.reader();
    const gaps = store.gaps();
    assert.equal(gaps.length, 1);
    assert.equal(gaps[0]!.from, missed.from);
    assert.ok(gaps[0]!.to < missed.to, 'only what the journals no longer hold is missed');
    const got = values(await again.readings());
    assert.equal(got[0], 'sensors/t=1');
    assert.equal(got[got.length - 1], 'sensors/t=9');
    assert.ok(!got.includes('sensors/t=2'), 'the first writes after it were in journals that are gone');
  });

  it('follows a database rebuilt with fewer writes than the history has, from its own numbers', async () => {
    const dir = await tempDir();
    const h = await recorded(dir);
    await h.put('/data/sensors/t', 1);
    await h.db.snapshot();
    const kept = h.db.lastWrite;
    await h.put('/data/sensors/t', 2);
    await h.put('/data/sensors/t', 3);
    await h.close();
    // Roll the database back to the snapshot, as restoring a backup by hand (or `igor db recover`) may.
    for (const j of await journals(dir)) {
      const scan = await scanJournal(`${dir}/${j}`);
      if (scan.records.some((r) => (r.record.n ?? 0) > kept)) await unlink(`${dir}/${j}`);
    }
    const again = await recorded(dir);
    assert.ok(again.db.lastWrite < 4);
    await again.put('/data/sensors/t', 4);
    const { store } = await again.history.reader();
    assert.equal(store.lastRecorded, again.db.lastWrite);
    assert.deepEqual(values(await again.readings()), ['sensors/t=1', 'sensors/t=2', 'sensors/t=3', 'sensors/t=4']);
  });
});
