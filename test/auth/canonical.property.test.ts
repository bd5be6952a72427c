/**
 * One canonical request (src/http/canonical.ts): every spelling of a request that changes something is either
 * refused to a browser session without its CSRF token, or changes nothing. Spellings are generated: letters in
 * another case, any character percent-encoded, `//`, `/./`, `x/../`, a trailing `/`, `;` after a segment, control
 * parameters repeated, the absolute form of the request target. Each is sent byte for byte (node:http, which
 * does not tidy a path as fetch would), with only an admin's session cookie, as a page on another site can make
 * the admin's browser do.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { setPassword } from '../../src/auth/users.ts';
import { canonicalize } from '../../src/http/canonical.ts';
import { logIn, startTestServer, type BrowserSession, type TestServer } from '../helpers.ts';

let s: TestServer;
let admin: BrowserSession;

/** A request that changes something when it gets through. */
interface Route {
  method: string;
  path: string;
  query?: [string, string][];
  body?: { type: string; text: string };
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/internal/save' },
  { method: 'GET', path: '/internal/restart' },
  { method: 'GET', path: '/internal/stop' },
  { method: 'GET', path: '/action/_start' },
  {
    method: 'GET',
    path: '/plugin/user/add',
    query: [
      ['username', 'evil'],
      ['password', 'Evil-pass-9876'],
      ['admin', 'true'],
    ],
  },
  {
    method: 'GET',
    path: '/data/identities/jack/admin',
    query: [
      ['.METHOD', 'PUT'],
      ['admin', 'true'],
    ],
  },
  { method: 'GET', path: '/data/sandbox/x', query: [['.METHOD', 'DELETE']] },
  { method: 'DELETE', path: '/data/sandbox/x' },
  { method: 'POST', path: '/internal/users', body: { type: 'application/json', text: '{"name":"evil","password":"Evil-pass-9876"}' } },
  { method: 'PUT', path: '/internal/plugins/pusher' },
  { method: 'GET', path: '/internal/pluginControl/uninstall', query: [['pluginName', 'user']] },
  {
    method: 'GET',
    path: '/plugin/copytree',
    query: [
      ['src', '/data/sandbox/x'],
      ['dst', '/data/sandbox/y'],
    ],
  },
];

const hex = (c: string) => [...Buffer.from(c)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** One way to spell a request differently, given random choices. */
type Respell = (path: string, choices: number[]) => string;

const pick = (choices: number[], i: number) => choices[i % choices.length]!;

const RESPELLINGS: Record<string, Respell> = {
  case: (path, ch) =>
    [...path].map((c, i) => (pick(ch, i) % 3 === 0 ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join(''),
  percent: (path, ch) =>
    [...path].map((c, i) => (pick(ch, i) % 3 === 0 ? (pick(ch, i + 1) % 2 ? hex(c) : hex(c).toUpperCase()) : c)).join(''),
  doubleSlash: (path, ch) => path.replace(/\//g, (m, i: number) => (pick(ch, i) % 2 ? '//' : m)),
  dot: (path, ch) => path.replace(/\//g, (m, i: number) => (pick(ch, i) % 2 ? '/./' : m)),
  dotDot: (path, ch) => path.replace(/\//g, (m, i: number) => (pick(ch, i) % 2 ? '/zz/../' : m)),
  trailingSlash: (path) => `${path}/`,
  semicolon: (path, ch) => path.replace(/\/([^/]+)/g, (m, seg: string, i: number) => (pick(ch, i) % 2 ? `/${seg};x=1` : m)),
};

/** The query, with control parameters repeated or encoded as the choices say. */
function respellQuery(query: [string, string][], ch: number[]): string {
  const parts: string[] = [];
  query.forEach(([k, v], i) => {
    const key = pick(ch, i) % 2 ? hex(k[0]!) + k.slice(1) : k;
    if (k.startsWith('.') && pick(ch, i + 1) % 3 === 0) parts.push(`${k}=GET`);
    parts.push(`${key}=${encodeURIComponent(v)}`);
  });
  if (pick(ch, 7) % 4 === 0) parts.push('_csrf=', '_csrf=forged');
  return parts.join('&');
}

function send(route: Route, target: string): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.port,
        method: route.method,
        path: target,
        headers: { cookie: admin.cookie, ...(route.body ? { 'content-type': route.body.type } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, code: res.headers['igor-error-code'] as string | undefined }));
      },
    );
    req.on('error', reject);
    req.end(route.body?.text);
  });
}

/** What a request could change: the tree (but the refusals it records), the plugins, the saved snapshot, the start. */
async function state(): Promise<string> {
  assert.equal((await s.request('/internal/flush')).status, 200, 'the server is running');
  const tree = await (await s.request('/data?.VARIANT=raw')).text();
  const snapshot = statSync(join(s.dir, 'database.xml'));
  return `${tree.replace(/<accessFailures>.*<\/accessFailures>/s, '')}\n${snapshot.ino}:${snapshot.mtimeMs}`;
}

before(async () => {
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  await s.request('/data/sandbox/x', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'keep' });
  admin = await logIn(s, 'admin', s.adminPassword);
});

describe('every spelling of a request that changes something', () => {
  it('is refused without the CSRF token, or changes nothing', async () => {
    const spellings = fc.record({
      route: fc.constantFrom(...ROUTES),
      how: fc.subarray(Object.keys(RESPELLINGS), { minLength: 1 }),
      choices: fc.array(fc.nat(5), { minLength: 8, maxLength: 8 }),
      absolute: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(spellings, async ({ route, how, choices, absolute }) => {
        const path = how.reduce((p, name) => RESPELLINGS[name]!(p, choices), route.path);
        const query = route.query ? `?${respellQuery(route.query, choices)}` : '';
        const target = `${absolute ? `http://127.0.0.1:${s.port}` : ''}${path}${query}`;
        const before = await state();
        const answer = await send(route, target);
        const refused = answer.status === 403 && answer.code === 'csrf_token';
        if (!refused) assert.equal(await state(), before, `${route.method} ${target} answered ${answer.status} and changed something`);
      }),
      { numRuns: 400 },
    );
  });

  it('means one request to every check: the canonical form of each spelling is the route, or no route at all', () => {
    assert.equal(canonicalize('GET', '//internal/./save/').path, '/internal/save');
    assert.equal(canonicalize('GET', '/intern%61l/zz/../save').path, '/internal/save');
    assert.equal(canonicalize('GET', 'http://h:1/internal/save').path, '/internal/save');
    assert.equal(canonicalize('GET', '/Internal/save').path, '/Internal/save', 'case is kept, and routes match it exactly');
    assert.equal(canonicalize('GET', '/data/sandbox/x?%2EMETHOD=PUT').query.get('.METHOD'), 'PUT');
    assert.equal(canonicalize('GET', '/data//x[v>3]').xpath, '/x[v>3]', "an XPath keeps its '//'");
    assert.throws(() => canonicalize('GET', '/data/x?.METHOD=GET&.METHOD=PUT'), /given more than once/);
    assert.throws(() => canonicalize('GET', '/internal/%E0%A4%A'), /not properly percent-encoded/);
  });
});
