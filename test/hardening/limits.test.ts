/** Every limit, configurable with a safe default, each refusing clearly and leaving the server working. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveConfig } from '../../src/config.ts';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer({ xpathTimeoutMs: '100', maxResultBytes: '20000', maxBodyBytes: '4096' });
  const items = Array.from({ length: 3000 }, (_, i) => `<item><n>${i}</n></item>`).join('');
  const r = await s.request('/data/sandbox/big', {
    method: 'PUT',
    headers: { 'content-type': 'application/xml' },
    body: `<big>${items}</big>`,
  });
  assert.equal(r.status, 413, 'the body limit holds for the set-up too');
  // Built in steps under the 4 KiB body limit.
  for (let i = 0; i < 30; i++) {
    const chunk = Array.from({ length: 100 }, (_, j) => `<item><n>${i * 100 + j}</n></item>`).join('');
    await s.request(`/data/sandbox/big/part${i}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: `<part${i}>${chunk}</part${i}>`,
    });
  }
});

describe('limits', () => {
  it('has safe defaults', () => {
    const c = resolveConfig({}, {});
    assert.deepEqual(
      [c.maxBodyBytes, c.xpathTimeoutMs, c.maxResultBytes, c.maxSseClients, c.pluginTimeoutMs, c.callTimeoutMs],
      [1048576, 2000, 16777216, 100, 60000, 30000],
    );
  });

  it('stops an XPath that would take too long, clearly, and goes on serving', async () => {
    // Quadratic whatever the evaluator keeps: each item asks for every node before and after it, in order.
    const r = await s.request(`/evaluate/${encodeURIComponent('count(//item[count(preceding::* | following::*) >= 0])')}`);
    // Stopped by its limit (the message says so), not run to the end: how long that took is no test's business
    // (a busy machine), bench/ measures it.
    assert.equal(r.status, 400);
    assert.match(await r.text(), /took more than 100 ms/);
    const slowRead = await s.request(`/data/${encodeURIComponent('sandbox//item[count(preceding::n | following::n) > 0]')}?.VARIANT=multi`);
    assert.equal(slowRead.status, 400);
    assert.equal((await s.request('/data/sandbox/big/part1/item[1]/n', { headers: { accept: 'text/plain' } })).status, 200);
  });

  it('refuses an answer over the result limit, with advice', async () => {
    const r = await s.request('/data/sandbox/big', { headers: { accept: 'application/xml' } });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /over the limit of 20000; ask for less/);
    assert.equal((await s.request('/data/sandbox/big/part3')).status, 200);
    const refs = await s.request('/data/sandbox/big/*?.VARIANT=ref', { headers: { accept: 'text/plain' } });
    assert.equal(refs.status, 200);
  });

  it('refuses a body over the limit with 413 and keeps the connection usable afterwards', async () => {
    const r = await s.request('/data/sandbox/huge', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(5000) });
    assert.equal(r.status, 413);
    assert.equal((await s.request('/data/sandbox/huge')).status, 404);
    assert.equal((await s.request('/internal/version')).status, 200);
  });
});
