/**
 * What the tree took comes back after a restart as it was acknowledged: generated text and attribute values
 * (all of Unicode, and the characters XML treats specially: carriage returns, line ends, tabs, `]]>`, `&`, `<`)
 * written as JSON (beside elements too), as plain text and as XML, then read again after the journal is replayed
 * (as after kill -9) and after a snapshot. (A "\r" came back as "\n": a parser normalises a literal carriage
 * return; whitespace a JSON "#text" put between elements was held until a restart dropped it.)
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { escapeAttr, escapeText } from '../../src/tree/serialize.ts';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});

const SPECIAL = [...'\r\n\t \r\n]]>&<"\'x\u00a0\u2028\ufffd\u{1f600}'];
const value = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.constantFrom(...SPECIAL), { maxLength: 8 }).map((cs) => cs.join('')),
);

const read = async (path: string) => (await s.request(path, { headers: { accept: 'application/json' } })).json();

describe('values: a restart gives back what was acknowledged', () => {
  it('keeps generated texts and attribute values through the journal and through a snapshot', async () => {
    const stored = new Map<string, unknown>();
    let i = 0;
    for (const v of fc.sample(value, { numRuns: 200, seed: 11 })) {
      const base = `/data/sandbox/v${i++}`;
      const writes: [string, string, string][] = [
        [`${base}/json`, 'application/json', JSON.stringify({ t: v, '@a': v })],
        [`${base}/mixed`, 'application/json', JSON.stringify({ '#text': v, q: v })],
        [`${base}/text`, 'text/plain', v],
        [`${base}/xml`, 'application/xml', `<xml a="${escapeAttr(v)}"><t>${escapeText(v)}</t></xml>`],
      ];
      for (const [path, type, body] of writes) {
        const res = await s.request(path, { method: 'PUT', headers: { 'content-type': type }, body });
        if (res.status === 200) stored.set(path, await read(path));
        else assert.equal(res.status, 400, `${path} ${JSON.stringify(v)}: ${await res.text()}`);
      }
    }
    assert.ok(stored.size > 400, `most values were stored (${stored.size})`);
    // And the whole, as XML: text between elements (which JSON does not show) is as the loader reads it.
    const whole = async () => (await s.request('/data/sandbox?.VARIANT=raw', { headers: { accept: 'application/xml' } })).text();
    const held = await whole();
    const check = async (after: string) => {
      for (const [path, was] of stored) assert.deepEqual(await read(path), was, `${path} after ${after}`);
      assert.equal(await whole(), held, `the sandbox as XML after ${after}`);
    };
    const { adminPassword } = s;
    s.db.abandon(); // as after kill -9: the journal is all there is
    s = await startTestServer({}, s.dir);
    assert.equal(s.adminPassword, adminPassword);
    await check('replaying the journal');
    await s.db.snapshot();
    s.db.abandon();
    s = await startTestServer({}, s.dir);
    await check('reading the snapshot');
  });
});
