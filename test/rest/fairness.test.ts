/**
 * Sharing the one thread (src/rest/fairness.ts): slow XPath evaluations run one at a time with other requests
 * answered between them, a client may have only a few under way, and anyone but an admin has a shorter time
 * limit. Checked by the order answers arrive in, not by their timing.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setPassword } from '../../src/auth/users.ts';
import { basic, startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
const JACK = basic('jack', 'jack-password');
const JILL = basic('jill', 'jill-password');

// Quadratic in a sandbox of 3,000 elements, whatever the evaluator keeps (each element asks for every node
// before and after it, in document order): far over any limit here.
const SLOW = `/evaluate/${encodeURIComponent('count(/data/sandbox//*[count(preceding::* | following::*) > 0])')}`;

before(async () => {
  s = await startTestServer({ xpathTimeoutMs: '600', xpathUserTimeoutMs: '150' });
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
  const body = `<big>${'<r><v>1</v><v>2</v></r>'.repeat(1000)}</big>`;
  assert.equal((await s.request('/data/sandbox/big', { method: 'PUT', headers: { 'content-type': 'application/xml' }, body })).status, 200);
  // Passwords in use, so that checking them is not part of what is measured.
  for (const auth of [JACK, JILL]) await s.anonymous('/internal/whoami', { headers: { authorization: auth } });
});

describe('slow evaluations', () => {
  it('leave room between them for everyone else', async () => {
    const finished: string[] = [];
    const slow = [JACK, JACK, JILL, JILL, undefined, undefined].map((auth, i) =>
      s.anonymous(SLOW, { headers: auth ? { authorization: auth } : {} }).then(async (r) => {
        await r.text();
        finished.push(`slow ${i}: ${r.status}`);
        return r.status;
      }),
    );
    await new Promise((r) => setTimeout(r, 30));
    const health = s.anonymous('/internal/version').then(async (r) => {
      await r.text();
      finished.push('health check');
      return r.status;
    });
    assert.equal(await health, 200);
    const statuses = await Promise.all(slow);
    assert.deepEqual(statuses, [400, 400, 400, 400, 400, 400], 'each over its time limit');
    const before = finished.indexOf('health check');
    assert.ok(before <= 2, `the health check waited for ${before} slow evaluations: ${finished.join(', ')}`);
  });

  it('are limited to a few per client at a time', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 5 }, () => s.anonymous(SLOW, { headers: { authorization: JACK } }).then((r) => r.status)),
    );
    assert.deepEqual(statuses.filter((x) => x === 429).length, 3, `${statuses}`);
    const admin = await Promise.all(Array.from({ length: 3 }, () => s.request(SLOW).then((r) => r.status)));
    assert.ok(!admin.includes(429), 'an admin is not limited');
  });

  it('stop at a shorter limit for anyone but an admin', async () => {
    const user = await s.anonymous(SLOW, { headers: { authorization: JACK } });
    assert.match(await user.text(), /more than 150 ms/);
    const admin = await s.request(SLOW);
    assert.match(await admin.text(), /more than 600 ms/);
  });
});
