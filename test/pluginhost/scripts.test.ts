/**
 * A plugin's scripts (Igor's /plugin/NAME/script/SCRIPT): environment, arguments, credentials, limits, rights;
 * and its pages that are templates (Igor's Jinja2 pages, rendered here by nunjucks).
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pluginCredentials } from '../../src/auth/pluginCredentials.ts';
import { loadSessionKey } from '../../src/auth/session.ts';
import { setPassword } from '../../src/auth/users.ts';
import { splitArgs } from '../../src/pluginhost/scripts.ts';
import { basic, startTestServer, tempDir, type TestServer } from '../helpers.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/plugins', import.meta.url));
let s: TestServer;

before(async () => {
  const dir = await tempDir();
  await cp(join(FIXTURES, 'scripty'), join(dir, 'plugins', 'scripty'), { recursive: true });
  s = await startTestServer({ pluginTimeoutMs: '1500' }, dir);
  assert.equal((await s.request('/internal/plugins/scripty', { method: 'PUT' })).status, 200);
  await setPassword(s.db, 'jack', 'a good long phrase');
});

const run = (query: string, init: RequestInit = {}) => s.request(`/plugin/scripty/script/${query}`, init);

describe('plugin scripts', () => {
  it("run with Igor's environment and their arguments split as a shell would", async () => {
    const r = await run(`env?room=kitchen&args=${encodeURIComponent(`one "two words" 'three $HOME' fo\\ ur`)}`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/plain/);
    const out = await r.text();
    assert.match(out, new RegExp(`^name=scripty colour=green room=kitchen url=http://127\\.0\\.0\\.1:${s.port}/data/$`, 'm'));
    // A script is the plugin's own code: it gets the settings the plugin itself sees.
    assert.match(out, /^data=\{"colour":"green","client_secret":"never-shown"\}$/m);
    assert.match(out, /^arg=one\narg=two words\narg=three \$HOME\narg=fo ur$/m, 'no expansion: no shell runs them');
  });

  it('answer 502 with the output when the script fails, 504 when it takes too long, 404 when there is none', async () => {
    const failed = await run('fail');
    assert.equal(failed.status, 502);
    assert.match(await failed.text(), /exited with status 3:\nsomething went wrong/);
    const killed = await run('killed');
    assert.equal(killed.status, 502, 'a script killed by someone else is told, not waited for');
    assert.match(await killed.text(), /exited with signal SIGKILL/);
    const slow = await run('slow');
    assert.equal(slow.status, 504);
    assert.equal((await run('nothere')).status, 404);
    assert.equal((await run('env?args=' + encodeURIComponent('a; rm -rf /'))).status, 400, 'shell operators are refused');
    // An encoded `/` is a `/` (http/canonical.ts): this is /plugin/scripty/plugin, a method it does not have.
    assert.equal((await s.request('/plugin/scripty/script/..%2Fplugin')).status, 404);
  });

  it("give credentials that carry only the plugin's rights, and lapse", async () => {
    const out = await (await run('write')).text();
    assert.match(out, /^plugindata\/scripty\/written 200$/m);
    assert.match(out, /^environment\/written 403$/m);
    assert.equal(await (await s.request('/data/plugindata/scripty/written', { headers: { accept: 'text/plain' } })).text(), 'yes\n');
    // Made with the server's own key, but already past their time.
    const lapsed = pluginCredentials(await loadSessionKey(s.dir), 'scripty', -1000);
    const [user, password] = [lapsed.slice(0, lapsed.indexOf(':')), lapsed.slice(lapsed.indexOf(':') + 1)];
    assert.equal((await s.anonymous('/data/plugindata/scripty', { headers: { authorization: basic(user, password) } })).status, 401);
    const fresh = pluginCredentials(await loadSessionKey(s.dir), 'scripty', 60_000);
    assert.equal(
      (
        await s.anonymous('/data/plugindata/scripty/colour', {
          headers: { authorization: basic(fresh.slice(0, fresh.indexOf(':')), fresh.slice(fresh.indexOf(':') + 1)) },
        })
      ).status,
      200,
      'the same, unexpired, work',
    );
    assert.equal(
      (await s.anonymous('/data/plugindata/scripty', { headers: { authorization: basic('-plugin-scripty', '99999999999.forged') } }))
        .status,
      401,
    );
  });

  it('are for an admin or the plugin itself only', async () => {
    assert.equal(
      (await s.anonymous('/plugin/scripty/script/env', { headers: { authorization: basic('jack', 'a good long phrase') } })).status,
      403,
    );
    assert.equal((await s.anonymous('/plugin/scripty/script/env')).status, 401);
  });
});

describe('splitArgs', () => {
  it('splits as a shell would and refuses what only a shell could do', () => {
    assert.deepEqual(splitArgs(`a 'b c' "d e" f\\ g`), ['a', 'b c', 'd e', 'f g']);
    assert.deepEqual(splitArgs(''), []);
    for (const bad of ['a | b', 'a > f', 'a && b', 'a; b']) assert.throws(() => splitArgs(bad), /operators/, bad);
  });
});

describe('plugin pages that are templates', () => {
  const page = async (path: string, auth?: string) => {
    const r = await s.anonymous(`/plugin/scripty/page/${path}`, auth ? { headers: { authorization: auth } } : {});
    return { status: r.status, csp: r.headers.get('content-security-policy') ?? '', body: await r.text() };
  };
  const field = (html: string, id: string) => new RegExp(`<p id="${id}">([^<]*)</p>`).exec(html)?.[1];

  it("are rendered with Igor's variables, escaped, and with what the caller may read only", async () => {
    await s.request('/data/identities/jack/plugindata/scripty', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"mood": "sunny"}',
    });
    const admin = basic('admin', s.adminPassword);
    const { status, csp, body } = await page(`status.html?q=${encodeURIComponent('<b>bold</b>')}&user=jack`, admin);
    assert.equal(status, 200);
    assert.match(csp, /script-src 'self'/, 'the strict CSP stays');
    assert.equal(field(body, 'name'), 'scripty');
    assert.equal(field(body, 'colour'), 'green');
    assert.equal(field(body, 'secret'), '[]', 'secrets are not in the context, even for an admin');
    assert.equal(field(body, 'q'), '&lt;b&gt;bold&lt;/b&gt;', 'autoescaped');
    assert.equal(field(body, 'kw'), '&lt;b&gt;bold&lt;/b&gt;');
    assert.equal(field(body, 'user'), 'jack', 'an admin may look as jack');
    assert.equal(field(body, 'mood'), 'sunny');
    assert.match(body, /<p id="cond">green it is<\/p>/);

    const jack = await page('status.html?user=admin', basic('jack', 'a good long phrase'));
    assert.equal(field(jack.body, 'user'), 'jack', 'a user cannot look as someone else');
    assert.equal(field(jack.body, 'colour'), '', 'plugindata is not for a user to read');
    const nobody = await page('status.html');
    assert.equal(nobody.status, 200);
    assert.equal(field(nobody.body, 'user'), '');
    assert.equal(field(nobody.body, 'mood'), '');
  });

  it('leave plain pages as they are', async () => {
    assert.match((await page('plain.html')).body, /\{ braces \} stay/);
  });
});
