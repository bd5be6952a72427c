/**
 * A web page on another site cannot make a logged-in admin's browser change anything (issue 30), in a real
 * Chromium: the page navigates the top-level window and submits forms to every spelling of a state-changing
 * request that once got past the CSRF gate (`/Plugin/user/add`, `/Internal/save`, `?%2EMETHOD=PUT`, …). SameSite=Lax
 * sends the session cookie with such a navigation; the gate, deciding on the canonical request, refuses them all.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { logIn, newPage } from '../browser.ts';
import { startHttpServer, startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
let igor: string;
let evil: string;

/** What the other site's page makes the browser ask: each a spelling that got through before the fix. */
const ATTACKS = [
  '/Plugin/user/add?username=evil&password=Evil-pass-9876&admin=true',
  '/plugin/user/%61dd?username=evil2&password=Evil-pass-9876&admin=true',
  '/data/identities/jack/admin?%2EMETHOD=PUT&admin=true',
  '/data/sandbox/x?%2EMETHOD=DELETE',
  '/Action/_start',
  '//internal/./save/',
];

before(async () => {
  s = await startTestServer();
  await s.request('/internal/users', { method: 'POST', body: JSON.stringify({ name: 'jack', password: 'Red-lantern-4' }) });
  await s.request('/data/sandbox/x', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'keep' });
  // 127.0.0.1 and localhost are different sites to a browser.
  igor = `http://127.0.0.1:${s.port}`;
  ({ url: evil } = await startHttpServer((req, res) => {
    const target = new URL(req.url!, 'http://x').searchParams.get('go') ?? '/';
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>win a prize</title><script>location.href = ${JSON.stringify(igor + target)};</script>`);
  }));
  evil = evil.replace('127.0.0.1', 'localhost');
});

describe('a page on another site', () => {
  it("cannot make a logged-in admin's browser change anything, however it spells the request", async () => {
    const { page } = await newPage();
    await logIn(page, igor, 'admin', s.adminPassword, '/');
    const before = await (await s.request('/data?.VARIANT=raw')).text();
    for (const attack of ATTACKS) {
      const landed = page.waitForURL((url) => url.origin === igor);
      await page.goto(`${evil}/?go=${encodeURIComponent(attack)}`);
      await landed;
      await page.waitForLoadState('load');
    }
    await s.request('/internal/flush');
    const users = await (await s.request('/internal/users', { headers: { accept: 'application/json' } })).json();
    assert.deepEqual(
      users.map((u: { name: string }) => u.name),
      ['admin', 'jack'],
      'no account made',
    );
    const after = await (await s.request('/data?.VARIANT=raw')).text();
    const strip = (t: string) => t.replace(/<accessFailures>.*<\/accessFailures>/s, '');
    assert.equal(strip(after), strip(before), 'the tree is as it was');
    await page.context().close();
  });
});
