/**
 * Generated input against the REST API and plugin endpoints (fast-check): random XPaths, bodies, content
 * types, invalid UTF-8, deep and large documents. Never a 5xx, never a crash, and a refused write leaves the
 * tree exactly as it was. Prints how many inputs were tried.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 400);

before(async () => {
  s = await startTestServer({ maxBodyBytes: '65536' });
  await s.request('/internal/plugins/submit', { method: 'PUT' });
  await s.request('/internal/plugins/pusher', { method: 'PUT' });
  await s.request('/data/sandbox/seed', {
    method: 'PUT',
    headers: { 'content-type': 'application/xml' },
    body: '<seed><a>1</a><a>2</a><b x="y">text</b></seed>',
  });
});

/** The whole tree but the record of refused requests, which a refusal adds by design. */
const tree = async () =>
  (await (await s.request('/data?.VARIANT=raw', { headers: { accept: 'application/xml' } })).text()).replace(
    /<accessFailures>.*<\/accessFailures>/s,
    '',
  );

const PIECES = [
  'sandbox',
  'seed',
  'a',
  'b',
  '*',
  '..',
  '.',
  '//',
  '/',
  '[1]',
  '[last()]',
  '[',
  ']',
  '(',
  ')',
  '@x',
  'text()',
  'node()',
  '|',
  ' or ',
  ' and ',
  '=',
  "'",
  '"',
  '::',
  'child::',
  'count(',
  'igor_',
  '%',
  '%zz',
  '%00',
  '\u0000',
  'é',
  '<',
  '>',
  '&',
  '0',
  '1e309',
  '-',
];
const xpathArb = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 12 }).map((p) => p.join('')),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('sandbox/seed/a[1]', 'sandbox/new', 'sandbox/seed', 'sandbox', "sandbox/seed/b[@x='y']"),
);
const TYPES = [
  'application/xml',
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xx',
  'application/octet-stream',
  'text/xml; charset=latin1',
  'garbage',
  '',
];
const bodyArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json().map((j) => j),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 1, max: 3000 }).map((n) => '<a>'.repeat(n) + '</a>'.repeat(n)),
  fc.integer({ min: 1, max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 1, max: 100 }).map((n) => `<new>${'<x>1</x>'.repeat(n * 100)}</new>`),
  fc.constantFrom(
    '<new>ok</new>',
    '{"new": 1}',
    '<new><!DOCTYPE x [<!ENTITY e "e">]></new>',
    '<?xml version="1.0"?><new/>',
    '\uFEFF<new/>',
    '<new xmlns:own="x" own:plugin="p"/>',
  ),
  // Character references to what XML cannot hold, deep nesting in JSON, keys that are Object's own names.
  fc
    .tuple(fc.constantFrom('&#x1;', '&#0;', '&#xFFFE;', '&#xD800;', '&#x1F;', '&#65535;', '&#x10FFFF;', '&#9;'), fc.boolean())
    .map(([ref, attr]) => (attr ? `<new a="${ref}"/>` : `<new>a${ref}b</new>`)),
  fc.integer({ min: 1, max: 5000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constantFrom(
    '{"__proto__":{"p":1}}',
    '{"constructor":"c","toString":"t"}',
    '{"new":{"__proto__":[1,2]}}',
    '{"n":1e400}',
    '{"n":-0}',
    '{"n":123456789012345678901234567890}',
  ),
);

async function send(method: string, path: string, type: string, body: string | Buffer | undefined, asAdmin: boolean): Promise<number> {
  const payload = typeof body === 'string' || body === undefined ? body : new Uint8Array(body);
  const init: RequestInit = {
    method,
    headers: type ? { 'content-type': type } : {},
    ...(payload !== undefined && method !== 'GET' && method !== 'DELETE' ? { body: payload } : {}),
  };
  const r = asAdmin ? await s.request(path, init) : await s.anonymous(path, init);
  await r.arrayBuffer();
  return r.status;
}

describe('fuzzing', () => {
  it('answers every generated /data and /evaluate request without a 5xx, and refused writes change nothing', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH'),
        xpathArb,
        fc.constantFrom(...TYPES),
        bodyArb,
        fc.boolean(),
        fc.constantFrom('/data/', '/evaluate/'),
        fc.constantFrom('', '?.VARIANT=multi', '?.VARIANT=raw', '?.VARIANT=bogus', '?.METHOD=PUT&v=1', '?a=%zz'),
        async (method, xpath, type, body, admin, route, query) => {
          tried++;
          const path =
            route +
            xpath
              .split('/')
              .map((p) => encodeURIComponent(p))
              .join('/') +
            query;
          const before = method === 'GET' && !query.includes('.METHOD') ? undefined : await tree();
          const status = await send(method, path, type, body, admin);
          assert.ok(status < 500, `${method} ${path} (${type}) gave ${status}`);
          if (before !== undefined && status >= 400)
            assert.equal(await tree(), before, `${method} ${path} was refused with ${status} but changed the tree`);
        },
      ),
      { numRuns: RUNS },
    );
    console.log(`# fuzz: ${tried} /data and /evaluate requests tried`);
    // Whatever was taken can be saved and loaded again.
    await s.close();
    s = await startTestServer({ maxBodyBytes: '65536' }, s.dir);
    // Anonymous: an admin's generated DELETE may have removed the admin's own password by now.
    assert.equal((await s.anonymous('/internal/version')).status, 200, 'the server is still there');
  });

  it('answers every generated plugin call without a 5xx', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS'),
        fc.constantFrom('submit', 'pusher', 'nothere', 'hello'),
        fc.constantFrom(
          '',
          'register',
          'token',
          'submit',
          'trigger',
          'auth',
          'webhook',
          'channels',
          'channels/x/users',
          'settings',
          'page/readme.md',
          'page/..%2F..%2Fpackage.json',
          'command/token',
        ),
        fc.string({ maxLength: 60 }),
        fc.constantFrom(...TYPES),
        bodyArb,
        fc.boolean(),
        async (method, plugin, sub, query, type, body, admin) => {
          tried++;
          const path = `/plugin/${plugin}${sub ? `/${sub}` : ''}?${encodeURIComponent(query)}=${encodeURIComponent(query)}`;
          const status = await send(method, path, type, body, admin);
          assert.ok(status < 500, `${method} ${path} (${type}) gave ${status}`);
        },
      ),
      { numRuns: RUNS },
    );
    console.log(`# fuzz: ${tried} plugin calls tried`);
  });
});
