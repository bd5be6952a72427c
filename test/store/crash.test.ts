/**
 * Kills a real server process with SIGKILL while clients write to it, then checks that every write that
 * was acknowledged is in the database when it is opened again, and that the database loads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { quietLogger } from '../../src/logger.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { Database, DatabaseOpenError } from '../../src/store/database.ts';
import { scanJournal } from '../../src/store/journal.ts';
import { startServerProcess, tempDir } from '../helpers.ts';

/** More kills for a longer run: CRASH_ROUNDS=20 node test/run.js crash */
const ROUNDS = Number(process.env['CRASH_ROUNDS'] ?? 3);

/**
 * Resolves once `count()` reaches `target`, checked each time `tell` is called: a kill comes after so many
 * acknowledged writes, not after so many milliseconds, which a busy machine would fill with fewer.
 */
function reaching(count: () => number, target: number): { tell: () => void; reached: Promise<void> } {
  let resolve!: () => void;
  const reached = new Promise<void>((r) => (resolve = r));
  const tell = () => {
    if (count() >= target) resolve();
  };
  tell();
  return { tell, reached };
}

describe('SIGKILL during concurrent writes', () => {
  it(`keeps every acknowledged write, over ${ROUNDS} kills`, { timeout: 60_000 + ROUNDS * 20_000 }, async () => {
    const dir = await tempDir();
    const acknowledged = new Map<string, string>();
    // A write under way when the server died may or may not have reached the disk; either is right.
    const unanswered = new Map<string, string>();
    let appended = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServerProcess(dir);
      let stop = false;
      // Each round ends after 30 to 150 more acknowledged writes, so the kill falls at different points.
      let made = 0;
      const enough = reaching(() => made, 30 + (round % 5) * 30);
      const client = async (c: number) => {
        for (let i = 0; !stop; i++) {
          const path = `sandbox/r${round}c${c}/v${i % 20}`;
          const value = `${round}-${c}-${i}`;
          const put = i % 4 !== 3;
          if (put) unanswered.set(`/data/${path}`, value);
          try {
            const res = await fetch(`${server.url}/data/${put ? path : `sandbox/log/entry`}`, {
              method: put ? 'PUT' : 'POST',
              body: value,
              headers: { 'Content-Type': 'text/plain' },
            });
            await res.text();
            if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
            if (put) {
              acknowledged.set(`/data/${path}`, value);
              unanswered.delete(`/data/${path}`);
            } else appended++;
            made++;
            enough.tell();
          } catch (err) {
            if (!stop) throw err;
            return; // the server died under us: this write was not acknowledged
          }
        }
      };
      const clients = Array.from({ length: 16 }, (_, c) => client(c));
      await Promise.race([enough.reached, ...clients]); // (a client that fails ends the wait with its error)
      stop = true;
      await server.kill();
      await Promise.all(clients);
    }
    const db = await Database.open({ dir, template: join(PACKAGE_DIR, 'template', 'database.xml'), logger: quietLogger() });
    assert.ok(acknowledged.size > 100, `enough writes were made (${acknowledged.size})`);
    const missing = [...acknowledged].filter(([path, value]) => {
      const found = db.tree.select(path)[0]?.textContent;
      return found !== value && found !== unanswered.get(path);
    });
    assert.deepEqual(missing, [], 'every acknowledged PUT is there with its last acknowledged value');
    assert.ok(db.tree.select('/data/sandbox/log/entry').length >= appended, 'every acknowledged POST is there');
    console.log(`# crash: ${ROUNDS} SIGKILLs under 16 writers; ${acknowledged.size} acknowledged PUTs and ${appended} POSTs all present`);
    await db.close();
  });
});

describe('SIGKILL, then a damaged record in the journal', () => {
  it('refuses to start, and `igor db recover` brings back every write but the damaged one, saying which', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const server = await startServerProcess(dir);
    const acknowledged = new Map<string, string>();
    let stop = false;
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        const path = `/data/sandbox/c${c}v${i}`;
        try {
          const res = await fetch(`${server.url}${path}`, { method: 'PUT', body: `${c}-${i}`, headers: { 'Content-Type': 'text/plain' } });
          await res.text();
          if (res.status === 200) acknowledged.set(path, `${c}-${i}`);
          enough.tell();
        } catch {
          return;
        }
      }
    };
    const enough = reaching(() => acknowledged.size, 60);
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    await Promise.race([enough.reached, Promise.all(clients)]);
    stop = true;
    await server.kill();
    await Promise.all(clients);

    // One byte of a record in the middle of the live journal goes bad.
    const journal = (await readdir(dir))
      .filter((f) => f.startsWith('journal.'))
      .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))
      .pop()!;
    const scan = await scanJournal(join(dir, journal));
    assert.ok(scan.records.length > 10, `enough records (${scan.records.length})`);
    const victim = scan.records[Math.floor(scan.records.length / 2)]!;
    const bytes = await readFile(join(dir, journal));
    bytes[victim.offset + 20] = bytes[victim.offset + 20]! ^ 0x20;
    await writeFile(join(dir, journal), bytes);

    await assert.rejects(
      Database.open({ dir, template: join(PACKAGE_DIR, 'template', 'database.xml'), logger: quietLogger() }),
      (err: Error) => err instanceof DatabaseOpenError && /igor db recover/.test(err.message),
    );
    const recover = spawnSync(process.execPath, [join(PACKAGE_DIR, 'bin/igor.js'), 'db', 'recover', '--database', dir], {
      encoding: 'utf8',
    });
    assert.equal(recover.status, 0, recover.stderr);
    assert.match(recover.stdout, new RegExp(`LOST write ${victim.record.n}: `));
    const lostPath = (victim.record.ops as { op: string; parent?: string; xml: string }[]).map(
      (op) => `/data/sandbox/${/^<(\w+)>/.exec(op.xml)![1]}`,
    );

    const db = await Database.open({ dir, template: join(PACKAGE_DIR, 'template', 'database.xml'), logger: quietLogger() });
    const missing = [...acknowledged].filter(([path, value]) => db.tree.select(path)[0]?.textContent !== value).map(([path]) => path);
    assert.deepEqual(
      missing,
      lostPath.filter((p) => acknowledged.has(p)),
      'only the damaged write is missing',
    );
    console.log(
      `# crash: a damaged record among ${scan.records.length}; recover kept ${acknowledged.size - missing.length} of ${acknowledged.size} acknowledged writes and named the one lost`,
    );
    await db.close();
  });
});
