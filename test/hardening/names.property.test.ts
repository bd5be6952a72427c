/**
 * Whatever name a client sends — a JSON key or attribute, a form field, a path step, an XML element or
 * attribute — the write is either refused with a 4xx that changes nothing, or the database, saved, reads back
 * with it. (Written once, `µ` as a JSON key made the next start fail: a Unicode letter, not an XML name.)
 * Names are generated from all of Unicode and from the characters where Unicode and XML disagree.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { formatSnapshot, readSnapshot } from '../../src/store/snapshot.ts';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);

before(async () => {
  s = await startTestServer();
});

/** Characters on both sides of XML's name rule: Unicode letters and digits it refuses (µ ª ² ½), characters beyond U+FFFF, and marks, joiners and digits (٣) it takes. */
const EDGES = [...'aZ_-.:0·µª²½٣\u0300\u036f\u037e\u037f\u2070\u218f\u200c\u200d\u203f\u2040\ufdcf\ufdd0\ufffd\u{10000}\u{1d400}x'];
const name = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }),
  fc.array(fc.constantFrom(...EDGES), { minLength: 1, maxLength: 4 }).map((cs) => cs.join('')),
);

/** The writes a name can arrive in, each under a fresh element of sandbox/. */
const writes: [string, (n: string, at: string) => [string, RequestInit]][] = [
  ['a JSON key', (n, at) => [at, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [n]: 1 }) }]],
  [
    'a JSON attribute',
    (n, at) => [at, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [`@${n}`]: 1 }) }],
  ],
  [
    'a form field',
    (n, at) => [
      at,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ [n]: '1' }).toString(),
      },
    ],
  ],
  [
    'the last path step',
    (n, at) => [`${at}/${encodeURIComponent(n)}`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '1' }],
  ],
  [
    'a middle path step',
    (n, at) => [`${at}/${encodeURIComponent(n)}/v`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '1' }],
  ],
  [
    'an XML element',
    (n, at) => [
      at,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/xml' },
        body: `<${at.split('/').pop()}><${n}>1</${n}></${at.split('/').pop()}>`,
      },
    ],
  ],
  [
    'an XML attribute',
    (n, at) => [at, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: `<${at.split('/').pop()} ${n}="1"/>` }],
  ],
];

const treeText = async () => await (await s.request('/data/sandbox?.VARIANT=raw', { headers: { accept: 'application/xml' } })).text();

describe('names: nothing a client names can make the database unloadable', () => {
  it('refuses a name XML cannot read back, or stores one the loader reads', async () => {
    let n = 0;
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(name, fc.constantFrom(...writes), async (candidate, [how, make]) => {
        const at = `/data/sandbox/w${n++}`;
        const before = await treeText();
        const [path, init] = make(candidate, at);
        const res = await s.request(path, init);
        const body = await res.text();
        try {
          assert.ok(res.status < 500, `${how} ${JSON.stringify(candidate)}: ${res.status} ${body}`);
          if (res.status >= 400) {
            assert.equal(await treeText(), before, `${how} ${JSON.stringify(candidate)} was refused (${body}) but changed the tree`);
          } else {
            // What the next start reads: the tree as a snapshot, through the loader.
            assert.doesNotThrow(
              () => readSnapshot(formatSnapshot(s.db.tree.root, 0, 0), 'database.xml'),
              `${how} ${JSON.stringify(candidate)} was stored (${res.status}) but the database would not load`,
            );
          }
        } finally {
          // Each case on its own: what one stored must not be what fails the next (or shrinking would blame it).
          await s.request(at, { method: 'DELETE' });
        }
        const key = `${how}: ${res.status < 400 ? 'stored' : res.status}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: Number(process.env['SEED'] ?? 20261130) },
    );
    console.log(`${n} names sent:`, Object.fromEntries([...outcomes].sort()));
    // Both outcomes occur for names: the property is not vacuous.
    assert.ok([...outcomes.keys()].some((k) => k.endsWith('stored')) && [...outcomes.keys()].some((k) => k.endsWith('400')));
  });

  it('keeps the names Igor users write, and refuses the ones XML does not read back', async () => {
    for (const ok of ['kitchen', 'température', 'ΔT', 'x·y', '_private', 'a-b.c']) {
      assert.equal(
        (
          await s.request(`/data/sandbox/ok/${encodeURIComponent(ok)}`, {
            method: 'PUT',
            headers: { 'content-type': 'text/plain' },
            body: '1',
          })
        ).status,
        200,
        ok,
      );
    }
    for (const bad of ['µ', 'a²', 'ª', '\u{10000}']) {
      const res = await s.request(`/data/sandbox/bad/${encodeURIComponent(bad)}`, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: '1',
      });
      assert.equal(res.status, 400, bad);
      // As a JSON key it is kept, escaped as Igor keeps any key that is not a name.
      const json = await s.request('/data/sandbox/bad', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ [bad]: 1 }),
      });
      assert.equal(json.status, 200, `${bad} as a JSON key`);
      const back = await (await s.request('/data/sandbox/bad', { headers: { accept: 'application/json' } })).json();
      assert.deepEqual(back, { bad: { [bad]: 1 } });
    }
  });

  it('replays, after a crash, the journal of changes to every name the tree took', async () => {
    // Changes that refer to an element by its path (replace, delete, an attribute), for names it stored.
    const stored: string[] = [];
    for (const candidate of fc.sample(name, { numRuns: 300, seed: 7 })) {
      const path = `/data/sandbox/j/${encodeURIComponent(candidate)}`;
      const first = await s.request(path, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '1' });
      if (first.status !== 200) continue;
      stored.push(candidate);
      for (const [method, type, body] of [
        ['PUT', 'text/plain', '2'],
        ['PUT', 'application/json', '{"@at": "3", "v": 4}'],
        ['POST', 'text/plain', '5'],
      ]) {
        const res = await s.request(path, { method, headers: { 'content-type': type! }, body });
        assert.equal(res.status, 200, `${method} ${candidate}: ${await res.text()}`);
      }
      assert.equal((await s.request(`${path}[1]/@at`, { method: 'DELETE' })).status, 200);
    }
    assert.ok(
      stored.some((n) => /[^\x00-\x7f]/.test(n)),
      'names beyond ASCII among them',
    );
    const held = await treeText();
    s.db.abandon(); // as after kill -9: no snapshot, the journal is all there is
    const { adminPassword } = s;
    s = await startTestServer({}, s.dir);
    assert.equal(s.adminPassword, adminPassword);
    assert.equal(await treeText(), held, `the tree after replaying changes to ${stored.length} names`);
  });
});
