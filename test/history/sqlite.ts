/** Whether better-sqlite3 is there for the history's tests, told without loading it (see sqliteSkip). */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * better-sqlite3 is an optional dependency (a machine that can neither download nor build it runs without a
 * history): its tests skip, saying so, where it cannot be loaded, except under CI=true, where it must be.
 */
function sqliteMissing(): string | false {
  // Told without loading it (test/lazy-dependencies.test.ts checks when it is loaded): its native part is built
  // (or downloaded) into build/Release.
  let found = false;
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
    found = existsSync(join(dir, 'build', 'Release', 'better_sqlite3.node'));
  } catch {}
  return found || process.env['CI'] === 'true' ? false : 'need better-sqlite3, which npm install could neither download nor build here';
}
export const sqliteSkip = sqliteMissing();
if (sqliteSkip) console.log(`# history tests skipped: they ${sqliteSkip}`);
