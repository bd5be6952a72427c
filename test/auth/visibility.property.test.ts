/**
 * The guarantee of issue #14, as a property: for generated trees (secrets, hidden elements and attributes,
 * other users' data, in every part of the tree) and generated XPath expressions (predicates with absolute
 * paths, //, unions, ancestor::, string(), count(), comparisons), what each principal gets from /data and
 * /evaluate over HTTP, and what a plugin gets from its tree access, equals what the same expression gives
 * on a copy of the tree that holds only what that principal may see.
 *
 * The copy is made here from the rules as README states them (rights from src/auth/policy.ts; hidden,
 * secret and "an element exists only if its parent does" restated below), not from src/auth/visibility.ts,
 * so a rule that visibility.ts gets wrong shows as a difference too.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { canSee, rightsAt } from '../../src/auth/policy.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { setPassword } from '../../src/auth/users.ts';
import { treeAccess } from '../../src/pluginhost/treeAccess.ts';
import { jsonEntryOf } from '../../src/rest/represent.ts';
import { newDocument, SHOW_ALL } from '../../src/tree/dom.ts';
import { refOf } from '../../src/tree/refs.ts';
import { jsonOf } from '../../src/tree/jsonxml.ts';
import { combine } from '../../src/tree/tree.ts';
import { evaluate, NAMESPACES, stringOf, type XPathValue } from '../../src/tree/xpath.ts';
import { basic, startTestServer, type TestServer } from '../helpers.ts';
import { SECRETS } from './secretNames.ts';

const hidden = (name: string) => name.includes(':') || name === 'xmlns';

/** Where generated content goes: every part of the tree, each principal's own and others'. */
const PLACES = [
  'environment',
  'status',
  'sensors',
  'devices',
  'people/jack',
  'people/jill',
  'identities/jack',
  'identities/jill',
  'identities/admin',
  'identities/jack/plugindata/_fitbit',
  'identities/jill/plugindata/_fitbit',
  'plugindata/_fitbit',
  'plugindata/other',
  'sandbox',
  'services/igor',
  'sensors/_fitbit',
];
const NAMES = ['r', 'a', 'b', 'token', 'access_token', 'client_secret', 'webhookSecret', 'password', 'au:capability', 'x'];
const ATTRS = ['p', 'own:plugin', 'secret'];
const TEXTS = ['1', '2', 'abc', '$scrypt$x', 'tok-9', ''];

interface Spec {
  name: string;
  attrs: [string, string][];
  text: string;
  /** Text after the element, in its parent: mixed content, so that text stands on both sides of hidden elements. */
  tail: string;
  children: Spec[];
}

function specOf(depth: number): fc.Arbitrary<Spec> {
  return fc.record({
    name: fc.constantFrom(...NAMES),
    attrs: fc.uniqueArray(fc.tuple(fc.constantFrom(...ATTRS), fc.constantFrom(...TEXTS)), { selector: ([k]) => k, maxLength: 2 }),
    text: fc.constantFrom(...TEXTS),
    tail: fc.constantFrom('', '', 'y', '2'),
    children: depth === 0 ? fc.constant([]) : fc.array(specOf(depth - 1), { maxLength: 3 }),
  });
}

const content = fc.array(fc.tuple(fc.constantFrom(...PLACES), specOf(2)), { minLength: 4, maxLength: 12 });

const NS: Record<string, string> = NAMESPACES;

function build(doc: Document, spec: Spec, top: boolean): Element {
  // Each generated subtree is an <r> at its place, so that the next case can remove exactly what this one added.
  const name = top ? 'r' : spec.name;
  const el = hidden(name) ? doc.createElementNS(NS[name.split(':')[0]!]!, name) : doc.createElement(name);
  for (const [k, v] of spec.attrs) {
    if (hidden(k)) el.setAttributeNS(NS[k.split(':')[0]!]!, k, v);
    else el.setAttribute(k, v);
  }
  if (spec.text) el.appendChild(doc.createTextNode(spec.text));
  for (const c of spec.children) {
    el.appendChild(build(doc, c, false));
    // As the tree holds it: one text node between two elements, never two side by side.
    if (c.tail) el.appendChild(doc.createTextNode(c.tail));
  }
  return el;
}

// ---- expressions ----

const name = fc.constantFrom(
  'r',
  'a',
  'b',
  'x',
  'token',
  'access_token',
  'client_secret',
  'password',
  'au:capability',
  '*',
  '*',
  'node()',
  'text()',
);
const attr = fc.constantFrom('@p', '@own:plugin', '@secret', '@*');
const lit = fc.constantFrom("'1'", "'abc'", "'$scrypt$x'", "'tok-9'", "'$'", "'t'", '1', '2');
/** Where paths start: the places content goes, the users' secrets, anywhere. */
const start = fc.oneof(
  fc.constantFrom(...PLACES).map((p) => `/data/${p}/r`),
  fc.constantFrom(...PLACES).map((p) => `/data/${p}`),
  fc.constantFrom(
    '/data/identities/admin/encryptedPassword',
    '/data/identities/*[1]',
    '/data/identities/jack/apiTokens',
    '/data/*',
    '/data',
    '/data/services/igor/*',
  ),
  name.map((n) => `//${n}`),
);

function exprs(depth: number): { path: fc.Arbitrary<string>; any: fc.Arbitrary<string> } {
  const lower = depth > 0 ? exprs(depth - 1) : undefined;
  const pred = lower
    ? fc.oneof(
        fc.constantFrom('1', 'last()', 'position() > 1'),
        lower.path,
        fc.tuple(fc.constantFrom('starts-with', 'contains'), lower.path, lit).map(([f, p, l]) => `${f}(${p}, ${l})`),
        fc.tuple(lower.path, fc.constantFrom('=', '!=', '>'), lit).map(([p, op, l]) => `${p} ${op} ${l}`),
        fc.tuple(lower.path, fc.nat(3)).map(([p, n]) => `count(${p}) > ${n}`),
        fc.tuple(lower.path, fc.nat(12)).map(([p, n]) => `string-length(string(${p})) = ${n}`),
      )
    : fc.constantFrom('1', 'last()', 'text()', '@p');
  const preds = fc.array(pred, { maxLength: 1 }).map((ps) => ps.map((p) => `[${p}]`).join(''));
  const step = fc.oneof(
    { arbitrary: fc.tuple(name, preds).map(([n, p]) => `/${n}${p}`), weight: 4 },
    { arbitrary: fc.tuple(name, preds).map(([n, p]) => `//${n}${p}`), weight: 2 },
    { arbitrary: attr.map((a) => `/${a}`), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        '/..',
        '/ancestor::*',
        '/ancestor-or-self::*[1]',
        '/preceding-sibling::*',
        '/following::*',
        '/following-sibling::node()',
        '/text()',
        '/node()',
      ),
      weight: 2,
    },
  );
  const path = fc.oneof(
    { arbitrary: fc.tuple(start, preds, fc.array(step, { maxLength: 3 })).map(([b, p, s]) => `${b}${p}${s.join('')}`), weight: 4 },
    {
      arbitrary: fc
        .tuple(start, fc.array(step, { maxLength: 2 }), start, fc.array(step, { maxLength: 2 }))
        .map(([a, s, b, t]) => `${a}${s.join('')} | ${b}${t.join('')}`),
      weight: 1,
    },
  );
  const any = fc.oneof(
    { arbitrary: path, weight: 4 },
    {
      arbitrary: fc.oneof(
        path.map((p) => `count(${p})`),
        path.map((p) => `string(${p})`),
        path.map((p) => `sum(${p})`),
        fc.tuple(path, path).map(([a, b]) => `concat(${a}, '|', ${b})`),
        fc.tuple(path, lit).map(([p, l]) => `${p} = ${l}`),
        fc.tuple(path, lit).map(([p, l]) => `starts-with(${p}, ${l})`),
        path.map((p) => `name(${p})`),
      ),
      weight: 2,
    },
  );
  return { path, any };
}

const expression = exprs(2).any;

// ---- the copy of what a principal may see ----

type Rule = (chain: string[], name: string) => boolean;

function readRule(p: Principal, admin: boolean): Rule {
  if (admin) return (_c, n) => !hidden(n) && !SECRETS.has(n);
  return (chain, n) => !hidden(n) && !SECRETS.has(n) && canSee(p, [...chain, n]);
}

/** A plugin's own reads show it the secrets it may write; acting for a caller it reads as that caller: no secrets. */
function pluginRule(p: Principal): Rule {
  if (p.kind === 'plugin' && p.caller) return readRule(p, false);
  return (chain, n) => !hidden(n) && (!SECRETS.has(n) || rightsAt(p, [...chain, n]).has('put')) && canSee(p, [...chain, n]);
}

const EVERYTHING: Rule = () => true;

/**
 * A new document holding what `rule` lets exist: an element when its parent does and the rule says so. Texts
 * that come side by side once an element between them is left out are one text, as they are when the copy
 * is written out and read back.
 */
function copyOf(source: Document, rule: Rule): Document {
  const doc = newDocument('data');
  const everything = rule === EVERYTHING;
  const root = source.documentElement!;
  const into = doc.documentElement!;
  for (let i = 0; i < root.attributes.length; i++) {
    const a = root.attributes[i]!;
    if (everything || (!hidden(a.name) && !SECRETS.has(a.name))) into.setAttributeNode(doc.importNode(a, true) as Attr);
  }
  const walk = (from: Element, to: Element, chain: string[]) => {
    for (let c = from.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 3) {
        const before = to.lastChild;
        if (before?.nodeType === 3) (before as Text).appendData(c.nodeValue ?? '');
        else to.appendChild(doc.createTextNode(c.nodeValue ?? ''));
      }
      if (c.nodeType !== 1 || !rule(chain, c.nodeName)) continue;
      const el = doc.importNode(c, false) as Element;
      for (let i = el.attributes.length - 1; i >= 0; i--) {
        const a = el.attributes[i]!;
        if (!everything && (hidden(a.name) || SECRETS.has(a.name))) el.removeAttributeNode(a);
      }
      to.appendChild(el);
      walk(c as Element, el, [...chain, c.nodeName]);
    }
  };
  walk(root, into, ['data']);
  return doc;
}

// ---- the principals ----

interface Client {
  label: string;
  principal: Principal;
  /** Authorization header, none for anonymous. */
  auth?: string;
  admin: boolean;
}

let s: TestServer;
const clients: Client[] = [];

before(async () => {
  s = await startTestServer();
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
  const jackPeople = await createToken(s.db, { user: 'jack', path: '/data/people/jack', rights: ['get'] });
  const adminSensors = await createToken(s.db, { user: 'admin', path: '/data/sensors', rights: ['get'] });
  const writeOnly = await createToken(s.db, { user: 'jack', path: '/data/sandbox', rights: ['put'] });
  const jackSensor = await createToken(s.db, { user: 'jack', path: '/data/sensors/r', rights: ['get'] });
  const jack: Principal = { kind: 'user', name: 'jack', admin: false, via: 'basic' };
  clients.push(
    { label: 'anonymous', principal: { kind: 'anonymous' }, admin: false },
    { label: 'jack', principal: jack, auth: basic('jack', 'jack-password'), admin: false },
    {
      label: 'jill',
      principal: { kind: 'user', name: 'jill', admin: false, via: 'basic' },
      auth: basic('jill', 'jill-password'),
      admin: false,
    },
    {
      label: 'admin',
      principal: { kind: 'user', name: 'admin', admin: true, via: 'basic' },
      auth: basic('admin', s.adminPassword),
      admin: true,
    },
    {
      label: "jack's token for people/jack",
      principal: { kind: 'user', name: 'jack', admin: false, via: 'token', scope: { path: ['people', 'jack'], rights: new Set(['get']) } },
      auth: `Bearer ${jackPeople.token}`,
      admin: false,
    },
    {
      label: "admin's token for sensors",
      principal: { kind: 'user', name: 'admin', admin: true, via: 'token', scope: { path: ['sensors'], rights: new Set(['get']) } },
      auth: `Bearer ${adminSensors.token}`,
      admin: false,
    },
    {
      label: "jack's token for sensors/r, below what jack may read",
      principal: { kind: 'user', name: 'jack', admin: false, via: 'token', scope: { path: ['sensors', 'r'], rights: new Set(['get']) } },
      auth: `Bearer ${jackSensor.token}`,
      admin: false,
    },
    {
      label: 'a write-only token',
      principal: { kind: 'user', name: 'jack', admin: false, via: 'token', scope: { path: ['sandbox'], rights: new Set(['put']) } },
      auth: `Bearer ${writeOnly.token}`,
      admin: false,
    },
  );
});

async function load(places: [string, Spec][]): Promise<void> {
  await s.db.write((t) => {
    const changes = [t.delete('//r')];
    for (const [place, spec] of places) changes.push(t.post(`/data/${place}/r`, build(t.doc, spec, true)));
    return combine(changes);
  });
}

async function get(client: Client, path: string, accept: string): Promise<{ status: number; body: string }> {
  const r = await s.anonymous(path, { headers: { accept, ...(client.auth ? { authorization: client.auth } : {}) } });
  return { status: r.status, body: await r.text() };
}

function outcome(run: () => XPathValue): { value?: XPathValue; error?: unknown } {
  try {
    return { value: run() };
  } catch (error) {
    return { error };
  }
}

// Slashes encoded too: a URL's /../ would otherwise be resolved before the server sees it.
const encoded = (expr: string) => encodeURIComponent(expr);

describe('what a principal may see', () => {
  it('is all there is for its /data reads, raw reads and /evaluate, over HTTP, on generated trees and expressions', async () => {
    let requests = 0;
    let selected = 0;
    await fc.assert(
      fc.asyncProperty(content, fc.array(expression, { minLength: 8, maxLength: 8 }), async (places, expressions) => {
        await load(places);
        try {
          for (const expr of expressions) {
            for (const client of clients) {
              for (const [variant, rule] of [
                ['multi', readRule(client.principal, client.admin)],
                ['multiraw', client.admin ? EVERYTHING : readRule(client.principal, false)],
              ] as const) {
                const copy = copyOf(s.db.tree.doc, rule);
                const expected = outcome(() => evaluate(expr, copy));
                const got = await get(client, `/data/${encoded(expr)}?.VARIANT=${variant}`, 'application/json');
                requests++;
                const what = `${client.label}: /data${expr} ?.VARIANT=${variant}`;
                if (expected.error !== undefined || !Array.isArray(expected.value)) {
                  assert.equal(got.status, 400, `${what}: ${got.body}`);
                  continue;
                }
                assert.equal(got.status, 200, `${what}: ${got.body}`);
                const want = expected.value.map((node) => ({ ref: refOf(node), ...jsonEntryOf(node, SHOW_ALL) }));
                selected += want.length;
                assert.deepEqual(JSON.parse(got.body), JSON.parse(JSON.stringify(want)), what);
              }
              // /evaluate: an admin evaluates over everything, anyone else over what they may read.
              const copy = copyOf(s.db.tree.doc, client.admin ? EVERYTHING : readRule(client.principal, false));
              const expected = outcome(() => evaluate(expr, copy.documentElement!));
              const got = await get(client, `/evaluate/${encoded(expr)}`, 'text/plain');
              requests++;
              if (expected.error !== undefined) assert.equal(got.status, 400, `${client.label}: /evaluate/${expr}: ${got.body}`);
              else assert.equal(got.body, stringOf(expected.value!) + '\n', `${client.label}: /evaluate/${expr}`);
            }
          }
        } catch (err) {
          if (process.env['VISIBILITY_DEBUG']) console.error(String(err));
          throw err;
        }
      }),
      { numRuns: Number(process.env['VISIBILITY_RUNS'] ?? 25) },
    );
    console.log(`# visibility: ${requests} requests compared, ${selected} nodes selected`);
    assert.ok(selected > requests / 4, 'the generated expressions select something often enough to mean something');
  });

  it('is all there is for a plugin reading through its tree access', async () => {
    const jack: Principal = { kind: 'user', name: 'jack', admin: false, via: 'basic' };
    const plugins: Principal[] = [
      { kind: 'plugin', name: '_fitbit' },
      { kind: 'plugin', name: '_fitbit', caller: jack },
      { kind: 'plugin', name: '_fitbit', writes: [['sensors', 'fitbit']], caller: { kind: 'anonymous' } },
    ];
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(content, fc.array(exprs(2).path, { minLength: 10, maxLength: 10 }), async (places, paths) => {
        await load(places);
        for (const plugin of plugins) {
          const access = treeAccess(s.db, plugin);
          const copy = copyOf(s.db.tree.doc, pluginRule(plugin));
          for (const path of paths) {
            const expected = outcome(() => evaluate(path, copy));
            let got: unknown;
            try {
              got = access.getAll(path);
            } catch (err) {
              got = err;
            }
            compared++;
            if (expected.error !== undefined) {
              assert.ok(got instanceof Error, `${path} should be refused`);
              continue;
            }
            // An element as JSON; anything else (an attribute, text, the document) by its string value.
            const want = (expected.value as Node[]).map((n) => (n.nodeType === 1 ? jsonOf(n as Element, SHOW_ALL) : scalar(stringOf([n]))));
            assert.deepEqual(
              JSON.parse(JSON.stringify(got)),
              JSON.parse(JSON.stringify(want)),
              `${plugin.kind}${'caller' in plugin && plugin.caller ? ` for ${plugin.caller.kind}` : ''}: ${path}`,
            );
          }
        }
      }),
      { numRuns: Number(process.env['VISIBILITY_RUNS'] ?? 25) },
    );
    assert.ok(compared > 0);
  });
});

/** How tree access gives an attribute's or text's value: as JSON would read it. */
function scalar(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text !== '' && text.length < 40 && /^-?\d/.test(text) && String(Number(text)) === text) return Number(text);
  return text;
}
