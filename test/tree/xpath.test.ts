import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import xpath from 'xpath';
import { XPathError } from '../../src/errors.ts';
import { childrenNamed } from '../../src/tree/children.ts';
import { SHOW_ALL } from '../../src/tree/dom.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { refOf } from '../../src/tree/refs.ts';
import { serialize } from '../../src/tree/serialize.ts';
import { textOf } from '../../src/tree/text.ts';
import { parseSimplePath, walkSimplePath } from '../../src/tree/simplePath.ts';
import { Tree } from '../../src/tree/tree.ts';
import { evaluate, numberToString, selectNodes } from '../../src/tree/xpath.ts';

/** A small deterministic random generator, so failures can be reproduced. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

/**
 * A random tree of a, b and c, some of them in a namespace: a default one (`<b xmlns="urn:d">`, which a name
 * test without a prefix does not select, though its nodeName is `b`) or au: (`<au:a>`).
 */
function randomTree(rnd: () => number): Document {
  const names = ['a', 'b', 'c'];
  const build = (depth: number): string => {
    const n = depth > 3 ? 0 : Math.floor(rnd() * 5);
    let s = '';
    for (let i = 0; i < n; i++) {
      const name = names[Math.floor(rnd() * names.length)]!;
      const ns = rnd();
      if (ns < 0.1) s += `<${name} xmlns="urn:d">${build(depth + 1)}</${name}>`;
      else if (ns < 0.15) s += `<au:${name}>${build(depth + 1)}</au:${name}>`;
      else s += `<${name}>${build(depth + 1)}</${name}>`;
    }
    return s;
  };
  return parseXml(`<data xmlns:au="http://jackjansen.nl/igor/authentication">${build(0)}</data>`);
}

function randomPath(rnd: () => number): string {
  const steps = ['data'];
  const depth = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < depth; i++) {
    const name = ['a', 'b', 'c', '*'][Math.floor(rnd() * 4)]!;
    const r = rnd();
    steps.push(r < 0.4 ? name : r < 0.7 ? `${name}[${1 + Math.floor(rnd() * 3)}]` : `${name}[last()]`);
  }
  return '/' + steps.join('/');
}

describe('the simple-path fast path', () => {
  it('recognises only absolute child paths with name, position or last() steps', () => {
    assert.deepEqual(parseSimplePath('/data/a[2]/b[last()]/*'), [
      { name: 'data', position: undefined },
      { name: 'a', position: 2 },
      { name: 'b', position: 'last' },
      { name: '*', position: undefined },
    ]);
    for (const p of [
      'data/a',
      '//a',
      '/data/a[b=1]',
      '/data/a[0]',
      '/data/@x',
      '/data/a/text()',
      '/data/au:x',
      '/data/a[last()-1]',
      '/data/a | /data/b',
    ]) {
      assert.equal(parseSimplePath(p), undefined, p);
    }
  });

  it('selects by a name only elements in no namespace, as XPath 1.0 does; a reference names any element', () => {
    const tree = new Tree(parseXml('<data><x xmlns="urn:d"/><s><r>1</r><r xmlns="urn:d">2</r></s></data>'));
    const [namespacedX] = selectNodes('/data/*[1]', tree.doc);
    assert.deepEqual(tree.select('/data/x'), []);
    assert.deepEqual(tree.select('/data/x'), tree.select('/data/x[1=1]'), 'the fast path and the engine agree');
    assert.deepEqual(
      tree.select('/data/s/r[last()]').map((n) => n.textContent),
      ['1'],
    );
    // A PUT of /data/x creates the x there is not; the journal's reference still reaches the namespaced one.
    tree.put('/data/x', tree.doc.createElement('x'));
    assert.equal(tree.select('/data/x').length, 1);
    assert.notEqual(tree.select('/data/x')[0], namespacedX);
    tree.apply({ op: 'delete', path: refOf(namespacedX!) });
    assert.equal(namespacedX!.parentNode, null, `${refOf(namespacedX!)} replayed`);
  });

  it('selects exactly what the XPath engine selects, on 300 random trees and paths', () => {
    const rnd = random(42);
    for (let i = 0; i < 300; i++) {
      const doc = randomTree(rnd);
      const path = randomPath(rnd);
      const fast = walkSimplePath(doc, parseSimplePath(path)!);
      const engine = xpath.parse(path).evaluate({ node: doc }) as unknown as { toArray(): Node[] };
      assert.deepEqual(fast, engine.toArray(), `${path} on ${doc.documentElement}`);
    }
  });
});

describe('per-parent caches (children by name, sibling order)', () => {
  it('stay right for wide parents while their children are added, removed and replaced', () => {
    const rnd = random(7);
    const names = ['a', 'b', 'c'];
    const doc = parseXml(
      `<data><s>${Array.from({ length: 100 }, (_, i) => `<${names[i % 3]}>${i}</${names[i % 3]}>`).join('')}</s></data>`,
    );
    const s = doc.documentElement!.firstChild as Element;
    const paths = ['/data/s/a', '/data/s/b[7]', '/data/s/c[last()]', '/data/s/*[50]', '/data/s/a[40]'];
    const check = (when: string) => {
      for (let c = s.firstChild; c; c = c.nextSibling) {
        // A reference names an element by its nodeName, namespace or not (the journal's replay reads it so) ...
        const byReference = walkSimplePath(doc, parseSimplePath(refOf(c), true)!, undefined, 'reference');
        assert.deepEqual(byReference, [c], `refOf gives ${refOf(c)}, which a reference walk finds, ${when}`);
        // ... and, where no namesake is in a namespace (a reference counts those too), an XPath that selects it.
        if (c.nodeType !== 1 || childrenNamed(s, c.nodeName).some((n) => n.namespaceURI)) continue;
        const found = (xpath.parse(refOf(c)).evaluate({ node: doc }) as unknown as { toArray(): Node[] }).toArray();
        assert.deepEqual(found, [c], `refOf gives ${refOf(c)}, which the engine finds, ${when}`);
      }
      for (const path of paths) {
        const engine = (xpath.parse(path).evaluate({ node: doc }) as unknown as { toArray(): Node[] }).toArray();
        assert.deepEqual(walkSimplePath(doc, parseSimplePath(path)!), engine, `${path} ${when}`);
        assert.deepEqual(
          selectNodes(`(${path})[last()] | ${path}[1]`, doc),
          engine.length ? [engine[0], engine[engine.length - 1]].filter((n, i, all) => all.indexOf(n) === i) : [],
          `document order of ${path} ${when}`,
        );
      }
    };
    check('at first');
    for (let round = 0; round < 60; round++) {
      const children = Array.from({ length: s.childNodes.length }, (_, i) => s.childNodes[i]!);
      const victim = children[Math.floor(rnd() * children.length)]!;
      // Now and then a namesake in a namespace, which a name without a prefix must not select.
      const name = names[Math.floor(rnd() * 3)]!;
      const fresh = round % 5 === 3 ? doc.createElementNS('urn:d', name) : doc.createElement(name);
      fresh.appendChild(doc.createTextNode(`n${round}`));
      const op = round % 4;
      if (op === 0) s.appendChild(fresh);
      else if (op === 1) s.removeChild(victim);
      else if (op === 2) s.replaceChild(fresh, victim);
      else s.insertBefore(fresh, victim);
      check(`after change ${round}`);
    }
  });

  it('stop selecting a child once a namesake in a namespace replaces it', () => {
    const doc = parseXml(`<data><s>${'<a>1</a>'.repeat(40)}</s></data>`);
    const s = doc.documentElement!.firstChild as Element;
    assert.equal(walkSimplePath(doc, parseSimplePath('/data/s/a')!).length, 40);
    assert.equal(evaluate('count(/data/s/a)', doc), 40);
    const namespaced = doc.createElementNS('urn:d', 'a');
    s.replaceChild(namespaced, s.childNodes[5]!);
    assert.equal(walkSimplePath(doc, parseSimplePath('/data/s/a')!).length, 39, 'the fast path');
    assert.equal(evaluate('count(/data/s/a)', doc), 39, 'the engine');
    assert.equal(walkSimplePath(doc, parseSimplePath('/data/s/a[6]')!)[0]?.textContent, '1');
    assert.notEqual(walkSimplePath(doc, parseSimplePath('/data/s/a[6]')!)[0], namespaced);
  });
});

describe('XPath evaluation', () => {
  const doc = parseXml(
    '<data xmlns:au="http://jackjansen.nl/igor/authentication"><s><r>1</r><r>2</r><r>3</r></s><au:secret>x</au:secret><t v="7">hi</t></data>',
  );

  it('gives node-sets in document order, numbers, strings and booleans', () => {
    assert.deepEqual(
      selectNodes('/data/s/r[. > 1]', doc).map((n) => n.textContent),
      ['2', '3'],
    );
    assert.equal(evaluate('count(/data/s/r)', doc), 3);
    assert.equal(evaluate('string(/data/t/@v)', doc), '7');
    assert.equal(evaluate('/data/s/r[1] = 1', doc), true);
    assert.equal(selectNodes('/data/au:secret', doc).length, 1, 'the au: prefix is bound');
  });

  it('sorts unions of many siblings in document order (the sibling-order fix)', () => {
    const many = parseXml(`<data><s>${Array.from({ length: 2000 }, (_, i) => `<r>${i}</r>`).join('')}</s></data>`);
    const nodes = selectNodes('(/data/s/r[position() mod 500 = 0] | /data/s/r[1])', many);
    assert.deepEqual(
      nodes.map((n) => n.textContent),
      ['0', '499', '999', '1499', '1999'],
    );
    assert.equal(selectNodes('(/data/s/r)[last()]', many)[0]!.textContent, '1999');
    assert.equal(selectNodes('/data/s/r[. = 1234]/preceding-sibling::r[1]', many)[0]!.textContent, '1233');
  });

  it('binds $originalContext and evaluates relative paths against the context node', () => {
    const s = selectNodes('/data/s', doc)[0]!;
    assert.equal(evaluate('count(r)', s), 3);
    assert.equal(evaluate('string($originalContext/r[2])', s), '2');
  });

  it('has the igor_ functions', () => {
    assert.equal(evaluate('igor_upper("abc")', doc), 'ABC');
    assert.equal(evaluate('igor_ifthenelse(1 = 1, "yes", "no")', doc), 'yes');
    assert.equal(evaluate('igor_ifelse("", "fallback")', doc), 'fallback');
    assert.equal(
      evaluate('igor_timestamp("2017-04-14T14:25:09") = igor_timestamp(igor_dateTime(igor_timestamp("2017-04-14T14:25:09")))', doc),
      true,
    );
    assert.equal(evaluate('igor_year_from_dateTime("2017-04-14T14:25:09")', doc), 2017);
    assert.equal(evaluate('igor_date_less_than("2017-04-14T23:00:00", "2017-04-15T01:00:00")', doc), true);
    assert.equal(evaluate('igor_time_greater_than("2017-04-14T23:00:00", "2017-04-15T01:00:00")', doc), true);
    const now = Date.now() / 1000;
    assert.ok(Math.abs((evaluate('igor_timestamp()', doc) as number) - now) < 5);
    assert.throws(() => evaluate('igor_error("bad", "thing")', doc), /igor_error: bad thing/);
  });

  it("finds elements by their xml:id with id(), not by an attribute merely named id, each ID's first", () => {
    const ids = parseXml('<data><a id="x"/><b xml:id="x"/><c xml:id="x"/><d xml:id="y"/><ref>y  x</ref></data>');
    const names = (expression: string) => selectNodes(expression, ids).map((n) => n.nodeName);
    assert.deepEqual(names("id('x')"), ['b']);
    assert.deepEqual(names("id('y x z')"), ['b', 'd']);
    assert.deepEqual(names('id(/data/ref)'), ['b', 'd']);
    assert.deepEqual(names("id('a')"), []);
  });

  it('says where a syntax error is', () => {
    const cases: [string, number][] = [
      ['/data/x[[', 8],
      ['/data/x]', 7],
      ['/data/s/r[1', 11],
      ['count(/data/*) 2', 15],
      ["/data/s[r='1]", 10],
      ['/data/s/#', 8],
    ];
    for (const [expr, position] of cases) {
      assert.throws(
        () => evaluate(expr, doc),
        (err: unknown) => err instanceof XPathError && err.position === position && err.status === 400,
        expr,
      );
    }
    const err = (() => {
      try {
        evaluate('/data/x[[', doc);
      } catch (e) {
        return e as Error;
      }
    })();
    assert.equal(err?.message, 'XPath error: syntax error, unexpected "[" at position 9:\n/data/x[[\n--------^');
  });

  it('reports unknown functions and prefixes, and scalars where nodes are needed, as XPath errors', () => {
    assert.throws(() => evaluate('nosuch(1)', doc), XPathError);
    assert.throws(() => evaluate('/data/zz:x', doc), XPathError);
    assert.throws(() => selectNodes('1 + 1', doc), /does not select nodes/);
  });

  it('prints numbers as XPath does', () => {
    assert.equal(numberToString(2), '2');
    assert.equal(numberToString(2.5), '2.5');
    assert.equal(numberToString(-0.000001), '-0.000001');
    assert.equal(numberToString(1e21), '1000000000000000000000');
    assert.equal(numberToString(NaN), 'NaN');
    assert.equal(numberToString(-Infinity), '-Infinity');
  });
});

describe('text in a view', () => {
  // What a reader sees of <a>x<password>p</password>y</a> is <a>xy</a>: one text node, as in the pruned copy.
  const doc = parseXml('<data><a>x<password>p</password>y<b>z</b>w</a></data>');
  const view = { admits: (n: Node) => n.nodeName !== 'password' };

  it('is one text node where only hidden elements stood between texts', () => {
    assert.equal(evaluate('count(/data/a/text())', doc, { view }), 2);
    assert.equal(evaluate('count(/data/a/text())', doc), 3, 'without a view, the three texts there are');
    assert.equal(evaluate('string(/data/a/text()[1])', doc, { view }), 'xy');
    assert.equal(evaluate('string(/data/a/text()[2])', doc, { view }), 'w');
    assert.equal(evaluate('count(/data/a/node())', doc, { view }), 3);
    assert.equal(evaluate('count(//text())', doc, { view }), 3);
    assert.equal(evaluate("count(/data/a/text()[. = 'xy'])", doc, { view }), 1);
    assert.equal(evaluate('count(/data/a/b/preceding-sibling::node())', doc, { view }), 1);
    assert.equal(evaluate('count(/data/a/b/preceding::text())', doc, { view }), 1);
    assert.equal(evaluate('string(/data/a)', doc, { view }), 'xyzw');
  });

  it('is written out whole: its text is the run', () => {
    const [first] = selectNodes('/data/a/text()[1]', doc, { view });
    const show = (n: Node) => view.admits(n);
    assert.equal(textOf(first!, show), 'xy');
    assert.equal(serialize(first!, { show }), 'xy');
    assert.equal(textOf(first!, SHOW_ALL), 'x');
  });
});
