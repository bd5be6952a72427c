/**
 * The CSRF gate (src/auth/csrf.ts): every request a browser session makes that could change something needs
 * the session's own token, on every route that changes things; a token from a cookie someone else set, or
 * from another session, is refused; the listed exemptions and plain reads need none.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { needsCsrfToken } from '../../src/auth/csrf.ts';
import { canonicalize } from '../../src/http/canonical.ts';
import { setPassword } from '../../src/auth/users.ts';
import { cookiesOf, logIn as logInAs, startTestServer, type BrowserSession, type TestServer } from '../helpers.ts';

let s: TestServer;

type Session = BrowserSession;
const logIn = (user: string, password: string) => logInAs(s, user, password);

let jack: Session;
let admin: Session;
let jill: Session;
/** A session of jack's of its own, for the logout route: logging out ends it for good. */
let leaving: Session;

before(async () => {
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
  assert.equal((await s.request('/internal/plugins/hello', { method: 'PUT' })).status, 200);
  jack = await logIn('jack', 'jack-password');
  jill = await logIn('jill', 'jill-password');
  admin = await logIn('admin', s.adminPassword);
  leaving = await logIn('jack', 'jack-password');
});

type Token = 'none' | 'own' | 'injected' | "another session's";

/** A request as `who`'s browser, with the token chosen. */
async function as(who: Session, token: Token, method: string, path: string, body?: { type: string; text: string }): Promise<Response> {
  const headers: Record<string, string> = { cookie: who.cookie };
  if (body) headers['content-type'] = body.type;
  if (token === 'own') headers['x-csrf-token'] = who.token;
  if (token === 'injected') {
    // A cookie set by someone else (a sibling host, a network attacker) with the same value as the header.
    headers['cookie'] = who.cookie.replace(/igor_csrf=[^;]*/, 'igor_csrf=evil-token');
    headers['x-csrf-token'] = 'evil-token';
  }
  if (token === "another session's") headers['x-csrf-token'] = (who === jill ? jack : jill).token;
  const r = await s.anonymous(path, { method, headers, redirect: 'manual', ...(body ? { body: body.text } : {}) });
  await r.arrayBuffer();
  return r;
}

const text = (t: string) => ({ type: 'text/plain', text: t });
const read = async (path: string) => (await (await s.request(path, { headers: { accept: 'text/plain' } })).text()).trim();
const installed = async () =>
  (
    (await (await s.request('/internal/plugins', { headers: { accept: 'application/json' } })).json()) as { installed: { name: string }[] }
  ).installed.map((p) => p.name);

/** Each way to change something, with what it changes and how to see whether it did. */
const routes: {
  what: string;
  who: () => Session;
  method: string;
  path: string;
  body?: { type: string; text: string };
  changed: () => Promise<boolean>;
  reset?: () => Promise<unknown>;
}[] = [
  {
    what: 'PUT /data',
    who: () => jack,
    method: 'PUT',
    path: '/data/people/jack/mood',
    body: text('happy'),
    changed: async () => (await read('/data/people/jack/mood')) === 'happy',
    reset: () => s.request('/data/people/jack/mood', { method: 'DELETE' }),
  },
  {
    what: 'GET /data with .METHOD',
    who: () => jack,
    method: 'GET',
    path: '/data/people/jack/mood?.METHOD=PUT&mood=sad',
    changed: async () => (await read('/data/people/jack/mood')).includes('sad'),
    reset: () => s.request('/data/people/jack/mood', { method: 'DELETE' }),
  },
  {
    what: 'DELETE /data',
    who: () => jack,
    method: 'DELETE',
    path: '/data/people/jack/keep',
    changed: async () => (await s.request('/data/people/jack/keep')).status === 404,
    reset: () => s.request('/data/people/jack/keep', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' }),
  },
  { what: 'GET /internal/save', who: () => admin, method: 'GET', path: '/internal/save', changed: async () => true },
  { what: 'GET /action/NAME', who: () => admin, method: 'GET', path: '/action/_start', changed: async () => true },
  {
    what: 'POST /plugin/NAME/METHOD',
    who: () => admin,
    method: 'POST',
    path: '/plugin/hello/settings',
    body: { type: 'application/json', text: '{"greeting":"Hi"}' },
    changed: async () => (await read('/data/plugindata/hello/greeting')) === 'Hi',
    reset: () => s.request('/data/plugindata/hello/greeting', { method: 'DELETE' }),
  },
  {
    what: "GET /plugin/NAME/METHOD (a user's)",
    who: () => jack,
    method: 'GET',
    path: '/plugin/hello/count?user=jack',
    changed: async () => (await s.request('/data/sensors/hello/jack/count')).status === 200,
    reset: () => s.request('/data/sensors/hello/jack', { method: 'DELETE' }),
  },
  {
    what: 'PUT /internal/plugins/NAME',
    who: () => admin,
    method: 'PUT',
    path: '/internal/plugins/pusher',
    changed: async () => (await installed()).includes('pusher'),
    reset: () => s.request('/internal/plugins/pusher', { method: 'DELETE' }),
  },
  {
    what: 'GET /internal/pluginControl/uninstall',
    who: () => admin,
    method: 'GET',
    path: '/internal/pluginControl/uninstall?pluginName=hello',
    changed: async () => !(await installed()).includes('hello'),
    reset: () => s.request('/internal/plugins/hello', { method: 'PUT' }),
  },
  {
    what: 'POST /logout',
    who: () => leaving,
    method: 'POST',
    path: '/logout',
    changed: async () =>
      (await s.anonymous('/internal/whoami', { headers: { cookie: leaving.cookie } }).then((r) => r.text())).trim() === '',
  },
];

describe('the CSRF gate', () => {
  for (const route of routes) {
    it(`refuses ${route.what} from a session without its own token, and lets it through with it`, async () => {
      await route.reset?.();
      await s.request('/data/people/jack/keep', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'x' });
      for (const token of ['none', 'injected', "another session's"] as const) {
        const r = await as(route.who(), token, route.method, route.path, route.body);
        assert.equal(r.status, 403, `${route.what} with ${token} token`);
        assert.equal(r.headers.get('igor-error-code'), 'csrf_token', `${route.what} with ${token} token: refused by the CSRF gate`);
        if (route.reset) assert.equal(await route.changed(), false, `${route.what} with ${token} token changed nothing`);
      }
      const ok = await as(route.who(), 'own', route.method, route.path, route.body);
      assert.ok(ok.status < 400, `${route.what} with the session's token: ${ok.status}`);
      assert.equal(await route.changed(), true, `${route.what} did its work`);
      await route.reset?.();
    });
  }

  it('lets reads, pages and the listed exemptions through without a token', async () => {
    for (const path of [
      '/data/people/jack',
      '/evaluate/1',
      '/internal/whoami',
      '/internal/version',
      '/plugin/hello/page/setup.html',
      '/',
    ]) {
      assert.ok((await as(jack, 'none', 'GET', path)).status < 400, path);
    }
    assert.equal(needsCsrfToken(canonicalize('GET', '/plugin/_fitbit/auth1?user=jack')), false);
    assert.equal(needsCsrfToken(canonicalize('GET', '/plugin/_fitbit/auth2?code=x&state=y')), false);
    assert.equal(needsCsrfToken(canonicalize('POST', '/login')), false);
    assert.equal(needsCsrfToken(canonicalize('POST', '/plugin/_fitbit/auth2')), true, 'only GET is exempt for auth2');
    assert.equal(needsCsrfToken(canonicalize('GET', '/plugin/hello/index')), true);
  });

  it('asks nothing of clients without a session (Basic, tokens), and gives a stale page the right token', async () => {
    assert.equal((await s.request('/internal/save')).status, 200);
    const stale = await s.anonymous('/internal/whoami', { headers: { cookie: jack.cookie.replace(/igor_csrf=[^;]*/, 'igor_csrf=old') } });
    assert.equal(cookiesOf(stale)['igor_csrf'], jack.token);
  });
});
