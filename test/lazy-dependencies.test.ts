/**
 * Heavy dependencies load when first needed, not at start-up (issue #21): a started server that has answered
 * requests, refused a wrong password and started a plugin with OAuth2 has not loaded the OAuth2 client, undici,
 * the multipart parser, rate-limiter-flexible's database stores, or SQLite for the history (until there is a value
 * to record, or a history file to catch up). Each of them costs
 * megabytes on the small box (bench/footprint.ts). Seen through require's cache: these are CommonJS packages.
 * Nor has it made an Intl formatter or collator: the first one loads ICU's locale data (8.6 MB for the
 * formatters node-cron's walk made for the template's nightly <cron> action).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { sqliteSkip } from './history/sqlite.ts';
import { basic, startTestServer } from './helpers.ts';

const require = createRequire(import.meta.url);

/** Intl objects made in this process from here on, by kind (counted by wrapping the constructors). */
const intlMade = new Map<string, number>();
for (const kind of ['DateTimeFormat', 'Collator', 'NumberFormat'] as const) {
  const Original = Intl[kind] as unknown as new (...args: unknown[]) => object;
  (Intl as Record<string, unknown>)[kind] = function (...args: unknown[]) {
    intlMade.set(kind, (intlMade.get(kind) ?? 0) + 1);
    return new Original(...args);
  };
}
const LAZY = ['simple-oauth2', 'undici', 'busboy', 'rate-limiter-flexible/lib/RateLimiterRedis.js', 'better-sqlite3'];

function loaded(): string[] {
  const files = Object.keys(require.cache);
  return LAZY.filter((name) => files.some((f) => f.includes(`/node_modules/${name.includes('.js') ? name : `${name}/`}`)));
}

describe('start-up', () => {
  it('leaves the heavy dependencies unloaded until something needs them', async () => {
    const s = await startTestServer();
    assert.equal((await s.request('/data/environment')).status, 200);
    assert.equal((await s.request('/data/environment', { headers: { authorization: basic('admin', 'wrong') } })).status, 401);
    assert.deepEqual(loaded(), []);
    // The template's actions include the nightly _cleanup, a <cron>: its next run is known without Intl.
    assert.match(await (await s.request('/data/actions', { headers: { accept: 'application/xml' } })).text(), /<cron>/);
    assert.deepEqual(Object.fromEntries(intlMade), {});

    assert.equal((await s.request('/internal/plugins/_fitbit', { method: 'PUT' })).status, 200);
    assert.equal((await s.anonymous('/plugin/_fitbit/page/setup.html')).status, 200);
    assert.deepEqual(loaded(), []);

    await import('busboy'); // what a first multipart body does: the check sees it
    assert.deepEqual(loaded(), ['busboy']);

    // The first value to record opens the history (where better-sqlite3 is there: test/history/sqlite.ts).
    if (sqliteSkip) return;
    assert.equal((await s.request('/data/sensors/t', { method: 'PUT', body: '20' })).status, 200);
    assert.equal((await s.request('/internal/flush')).status, 200);
    assert.deepEqual(loaded(), ['busboy', 'better-sqlite3']);
  });
});
