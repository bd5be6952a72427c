/** Every answer carries the security headers (src/rest/headers.ts); pages cannot be framed by another site. */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer();
  assert.equal((await s.request('/internal/plugins/hello', { method: 'PUT' })).status, 200);
  await mkdir(join(s.dir, 'static'), { recursive: true });
  await writeFile(join(s.dir, 'static', 'mine.html'), '<!doctype html><title>mine</title><script>document.title = "ran"</script>');
});

describe('security headers', () => {
  it('are on pages, data, errors and plugin pages alike', async () => {
    for (const path of [
      '/',
      '/tree.html',
      '/actions.html',
      '/plugins.html',
      '/sensors.html',
      '/login',
      '/plugin/hello/page/setup.html',
      '/plugin/hello/page/readme.md',
      '/data/environment',
      '/data/identities',
      '/nothing-here',
      '/static/igor-page.js',
      '/mine.html',
    ]) {
      const r = await s.anonymous(path);
      await r.arrayBuffer();
      assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'/, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(r.headers.get('referrer-policy'), 'same-origin', path);
      assert.equal(r.headers.get('strict-transport-security'), null, `${path}: no HSTS over plain http`);
    }
  });

  it("give the package's and plugins' pages a strict script policy, and the household's own pages theirs", async () => {
    for (const path of ['/', '/login', '/plugin/hello/page/setup.html']) {
      const csp = (await s.anonymous(path)).headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /object-src 'none'/, path);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, `${path}: plain http on the home network keeps working`);
    }
    assert.equal((await s.anonymous('/mine.html')).headers.get('content-security-policy'), "frame-ancestors 'self'");
  });

  it('add HSTS when the server is reached over https', async () => {
    const behindProxy = await startTestServer({ publicUrl: 'https://igor.example.org' });
    assert.match((await behindProxy.anonymous('/')).headers.get('strict-transport-security') ?? '', /max-age=\d+/);
  });
});
