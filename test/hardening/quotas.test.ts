/**
 * No one client can hold the thread or fill the disk: a body is refused before it is parsed when it holds more
 * elements than --max-body-elements; anyone but an admin fills the sandbox, or their own part of the tree, only up
 * to --quota-elements and --quota-bytes, many writes at once included; refusals are recorded a few a minute per
 * client, their paths cut short, so a flood of refused requests adds almost nothing to the journal.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
const JACK = basic('jack', 'jack-password');

before(async () => {
  s = await startTestServer({ maxBodyElements: '1000', quotaElements: '3000', quotaBytes: '200000' });
  await setPassword(s.db, 'jack', 'jack-password');
});

const put = (path: string, type: string, body: string, auth?: string) =>
  s.anonymous(path, { method: 'PUT', headers: { 'content-type': type, ...(auth ? { authorization: auth } : {}) }, body });
const many = (n: number) => `<w>${'<a/>'.repeat(n)}</w>`;

function journalBytes(): number {
  return readdirSync(s.dir)
    .filter((f) => f.startsWith('journal.'))
    .reduce((sum, f) => sum + statSync(join(s.dir, f)).size, 0);
}

describe('a body', () => {
  it('of more elements than --max-body-elements is refused, in XML, JSON and forms, and stores nothing', async () => {
    for (const [type, body] of [
      ['application/xml', many(1001)],
      ['application/xml', `<w><!-- <a/> -->${'<a/>'.repeat(1001)}<![CDATA[<a/>]]></w>`],
      ['application/json', JSON.stringify({ w: { a: Array.from({ length: 1001 }, (_, i) => i) } })],
      ['application/x-www-form-urlencoded', Array.from({ length: 1001 }, (_, i) => `f${i}=1`).join('&')],
    ]) {
      const r = await put('/data/sandbox/w', type!, body!);
      assert.equal(r.status, 413, `${type}: ${r.status}`);
      assert.equal(r.headers.get('igor-error-code'), 'too_many_elements');
    }
    assert.equal((await s.request('/data/sandbox/w')).status, 404);
    const fits = await put('/data/sandbox/w', 'application/xml', `<w><!-- ${'<a/>'.repeat(2000)} -->${'<a/>'.repeat(999)}</w>`);
    assert.equal(fits.status, 200, 'comments hold no elements');
  });
});

describe('the quota', () => {
  it('keeps anonymous from filling the sandbox, however many write at once, and lets it be emptied', async () => {
    await s.request('/data/sandbox', { method: 'DELETE' });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => put(`/data/sandbox/w${i}`, 'application/xml', many(900).replace(/w>/g, `w${i}>`))),
    );
    const statuses = answers.map((r) => r.status);
    assert.ok(statuses.filter((x) => x === 200).length <= 3, `at most 3,000 elements: ${statuses}`);
    assert.ok(
      statuses.some((x) => x === 507),
      `${statuses}`,
    );
    const refused = answers.find((r) => r.status === 507)!;
    assert.equal(refused.headers.get('igor-error-code'), 'over_quota');
    assert.match(await refused.text(), /the sandbox would hold more than 3000 elements/);
    const count = Number(await (await s.request('/evaluate/count(/data/sandbox//*)', { headers: { accept: 'text/plain' } })).text());
    assert.ok(count <= 3000, `${count} elements in the sandbox`);
    assert.equal((await s.anonymous('/data/sandbox/w0', { method: 'DELETE' })).status, 200, 'shrinking always passes');
    assert.equal((await put('/data/sandbox/big', 'text/plain', 'x'.repeat(250_000))).status, 507, 'bytes count too');
    assert.equal(
      (await s.request('/data/sandbox/w', { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: many(999) })).status,
      200,
      'an admin is not held to it',
    );
  });

  it('keeps a user within their own part of the tree, also through a plugin acting for them', async () => {
    await s.request('/internal/plugins/copytree', { method: 'PUT' });
    assert.equal((await put('/data/people/jack/w', 'application/xml', many(900), JACK)).status, 200);
    assert.equal((await put('/data/people/jack/w2', 'application/xml', many(900).replace(/w>/g, 'w2>'), JACK)).status, 200);
    assert.equal((await put('/data/identities/jack/w3', 'application/xml', many(900).replace(/w>/g, 'w3>'), JACK)).status, 200);
    assert.equal(
      (await put('/data/identities/jack/w4', 'application/xml', many(400).replace(/w>/g, 'w4>'), JACK)).status,
      507,
      'identities/jack and people/jack together',
    );
    const copied = await s.anonymous('/plugin/copytree?src=/data/people/jack/w&dst=/data/people/jack/w5&mimetype=application/json', {
      headers: { authorization: JACK },
    });
    assert.equal(copied.status, 507, await copied.text());
  });
});

describe('refusals', () => {
  it('are recorded a few a minute per client, paths cut short, so a flood adds almost nothing to the journal', async () => {
    const before = journalBytes();
    const long = 'x'.repeat(4000);
    for (let i = 0; i < 300; i++) {
      const r = await s.anonymous(`/data/identities/admin/x${i}${long}`);
      assert.equal(r.status, 401);
      await r.arrayBuffer();
    }
    const added = journalBytes() - before;
    assert.ok(added < 40_000, `the journal grew by ${added} bytes for 300 refusals`);
    const records = await (
      await s.request('/data/services/igor/accessFailures/accessFailure?.VARIANT=multi', { headers: { accept: 'application/json' } })
    ).json();
    const mine = (records as { accessFailure: { path: string } }[]).filter((r) =>
      r.accessFailure.path.startsWith('/data/identities/admin/x'),
    );
    assert.ok(mine.length >= 1 && mine.length <= 10, `${mine.length} recorded`);
    assert.ok(
      mine.every((r) => r.accessFailure.path.length <= 201),
      'paths cut short',
    );
  });
});
