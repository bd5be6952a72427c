/**
 * REST paths are relative to /data (README, REST API): a path means what it means evaluated with the /data
 * element as its context node, as /evaluate's expressions are. absolutePath (src/tree/paths.ts) writes it as
 * an absolute expression, which the rest of the server (the fast path, writes, actions' triggers, a plugin's
 * tree access) takes; on generated trees and expressions, both must give the same.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseXml } from '../../src/tree/parseXml.ts';
import { absolutePath, splitLastStep } from '../../src/tree/paths.ts';
import { evaluate, type XPathValue } from '../../src/tree/xpath.ts';

describe('a REST path made absolute', () => {
  it('reads each relative location path outside predicates from /data, and leaves the rest as written', () => {
    const cases: [string, string][] = [
      ['', '/data'],
      ['sensors/x', '/data/sensors/x'],
      ['/data/sensors/x[value > 3]', '/data/sensors/x[value > 3]'],
      ['*[1] | *[2]', '/data/*[1] | /data/*[2]'],
      ['/data/a | b', '/data/a | /data/b'],
      ['(a | b)[1]', '(/data/a | /data/b)[1]'],
      ['a[b | c]/d', '/data/a[b | c]/d'],
      ['count(a) > 1', 'count(/data/a) > 1'],
      ['..', '/data/..'],
      ['@x', '/data/@x'],
      ['name()', 'name(/data)'],
      ["lang('en')", "boolean(/data[lang('en')])"],
      ["id('x')/a", "id('x')/a"],
      ['a[', '/data/a['],
    ];
    for (const [path, absolute] of cases) assert.equal(absolutePath(path), absolute, path);
  });

  it('means what the path means with /data as its context node, on generated trees and expressions', () => {
    const pred = fc.constantFrom('', '', '[1]', '[last()]', '[b]', "[. = '1']", '[@p]', '[name() = "a"]', '[a | b]');
    const step = fc.oneof(
      fc.tuple(fc.constantFrom('a', 'b', 'c', '*', '*', 'node()'), pred).map(([n, p]) => n + p),
      fc.constantFrom('.', '..', '@p'),
    );
    const relative = fc.array(step, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
    const path = fc.oneof(
      relative,
      relative.map((r) => `/data/${r}`),
      relative.map((r) => `//${r}`),
    );
    const nodes = fc.oneof(
      path,
      fc.tuple(path, path).map(([l, r]) => `${l} | ${r}`),
      fc.tuple(path, path, pred).map(([l, r, p]) => `(${l} | ${r})${p || '[1]'}`),
      fc.tuple(path, relative).map(([l, r]) => `(${l})/${r}`),
    );
    const expression = fc.oneof(
      { arbitrary: nodes, weight: 4 },
      nodes.map((n) => `count(${n})`),
      fc.tuple(nodes, nodes).map(([l, r]) => `${l} = ${r}`),
      fc.constantFrom('name()', 'string()', 'string-length()', 'local-name()', "lang('en')", 'position()', 'last()'),
      nodes.map((n) => `concat(name(), ':', string(${n}))`),
    );
    const tree = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom('', '1', '2'), fc.boolean()), { maxLength: 6 });
    let nodeSets = 0;
    fc.assert(
      fc.property(tree, tree, expression, (outer, inner, expr) => {
        const children = (spec: [string, string, boolean][], below = '') =>
          spec.map(([n, t, p]) => `<${n}${p ? ' p="1" xml:lang="en"' : ''}>${t}${below}</${n}>`).join('');
        const doc = parseXml(`<data xml:lang="en-GB">${children(outer, children(inner))}</data>`);
        const outcome = (run: () => XPathValue) => {
          try {
            return run();
          } catch {
            return 'refused';
          }
        };
        const fromData = outcome(() => evaluate(expr, doc.documentElement!));
        const absolute = outcome(() => evaluate(absolutePath(expr), doc));
        if (Array.isArray(fromData) && fromData.length) nodeSets++;
        assert.deepEqual(absolute, fromData, `${expr} as ${absolutePath(expr)}`);
      }),
      { numRuns: 2000 },
    );
    assert.ok(nodeSets > 300, `only ${nodeSets} expressions selected something`);
  });

  it('keeps a written path writable: its last step is still the element to create', () => {
    assert.deepEqual(splitLastStep(absolutePath('(sandbox/a | sandbox/b)/c')), {
      parent: '(/data/sandbox/a | /data/sandbox/b)',
      step: 'c',
      tag: 'c',
    });
  });
});
