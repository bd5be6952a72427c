/**
 * Our XPath evaluator against libxml2, the XPath 1.0 engine of lxml and xmllint, on thousands of generated
 * documents and expressions: both must give the same node-set (the same nodes in the same order), number
 * (NaN, ±Infinity and -0 included), string or boolean, or both refuse. libxml2 runs in one long-lived
 * python3 process (libxml2-xpath.py, over Debian's python3-lxml), a JSON line per document, so thousands of
 * cases take seconds. The documents hold what the tree can: namespaced elements (au:, and a default
 * namespace whose children inherit it), namespaced attributes, xml:id, xml:lang, and mixed content.
 *
 * Where libxml2 departs from XPath 1.0 we follow the specification: the departures known are listed in
 * EXCEPTIONS below, each with our answer (the specification's), libxml2's and why, and the generator stays
 * clear of them, so that any other difference fails the test.
 *
 * Needs python3-lxml; skipped with a message naming it where it is missing, except under CI=true, where
 * .ci/run installs it and the test must run.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseXml } from '../../src/tree/parseXml.ts';
import { parseSimplePath } from '../../src/tree/simplePath.ts';
import { evaluate, NAMESPACES, type XPathValue } from '../../src/tree/xpath.ts';
import { XPATH_AXES } from './xpathAxes.ts';

const HELPER = fileURLToPath(new URL('./libxml2-xpath.py', import.meta.url));
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function missing(): string | undefined {
  return spawnSync(PYTHON, ['-c', 'import lxml.etree']).status === 0 ? undefined : 'python3-lxml';
}

const absent = missing();
if (absent && process.env['CI'] === 'true')
  throw new Error('CI=true but the Debian package python3-lxml is not installed (.ci/run installs it)');
const skip = absent ? 'needs the Debian package python3-lxml (apt-get install python3-lxml)' : false;
if (skip) console.log(`# libxml2 differential test skipped: it ${skip}`);

// ---- libxml2, in one python3 process ----

type Answer = { nodes: string[] } | { number: number | string } | { string: string } | { boolean: boolean } | { error: string };

interface Job {
  xml: string;
  /** Paths of the elements to evaluate from (see libxml2-xpath.py). */
  contexts: string[];
  expressions: string[];
}

class Libxml2 {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];

  constructor() {
    this.child = spawn(PYTHON, [HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  /** Answers for each expression, from each context. */
  ask(job: Job): Promise<Answer[][]> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const reply = JSON.parse(line) as { results?: Answer[][]; failed?: string };
        if (reply.results) resolve(reply.results);
        else reject(new Error(`libxml2-xpath.py: ${reply.failed}`));
      });
      this.child.stdin.write(`${JSON.stringify({ ...job, namespaces: NAMESPACES })}\n`);
    });
  }

  async close(): Promise<void> {
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await gone;
  }
}

// ---- the same answers from our evaluator ----

/** A node's path from the document, as libxml2-xpath.py writes it. */
function pathOf(n: Node): string {
  if (n.nodeType === 9) return '/';
  if (n.nodeType === 2) {
    const a = n as Attr;
    return `${pathOf(a.ownerElement!)}/@${a.namespaceURI ? `{${a.namespaceURI}}${a.localName}` : a.localName}`;
  }
  const parent = n.parentNode!;
  const index = Array.prototype.indexOf.call(parent.childNodes, n) + 1;
  return parent.nodeType === 9 ? `/${index}` : `${pathOf(parent)}/${index}`;
}

function numberAnswer(n: number): number | string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return Object.is(n, -0) ? '-0' : n;
}

/**
 * Our answer from `context`. An absolute plain path (`/data/a[2]/b`) is answered from the document too, where
 * the simple-path fast path (src/tree/simplePath.ts) takes it, and the two must agree.
 */
function ours(expression: string, context: Node): Answer {
  const answer = oursFrom(expression, context);
  if (!parseSimplePath(expression)) return answer;
  const fast = oursFrom(expression, context.ownerDocument ?? context);
  return JSON.stringify(fast) === JSON.stringify(answer) ? answer : { nodes: [`the fast path: ${JSON.stringify(fast)}`] };
}

function oursFrom(expression: string, context: Node): Answer {
  let value: XPathValue;
  try {
    value = evaluate(expression, context);
  } catch (err) {
    return { error: (err as Error).message };
  }
  if (Array.isArray(value)) return { nodes: value.map(pathOf) };
  if (typeof value === 'number') return { number: numberAnswer(value) };
  if (typeof value === 'boolean') return { boolean: value };
  return { string: value };
}

function kindOf(a: Answer): 'nodes' | 'number' | 'string' | 'boolean' | 'error' {
  return Object.keys(a)[0] as 'nodes' | 'number' | 'string' | 'boolean' | 'error';
}

/** The same answer: errors agree when both refuse, whatever each says. */
function agree(a: Answer, b: Answer): boolean {
  if ('error' in a || 'error' in b) return 'error' in a && 'error' in b;
  return JSON.stringify(a) === JSON.stringify(b);
}

// ---- documents ----

const AU = NAMESPACES.au;
// '-1.5 ' ends in a space: a string-value that runs it into a digit ('-1.51') is no number, for libxml2 reads
// such decimals one unit in the last place off (EXCEPTIONS).
const TEXTS = ['1', '2', '10', ' 3 ', 'x', 'ab c', '-1.5 ', 'en'];

interface El {
  name: string;
  ns: 'none' | 'default' | 'au';
  attrs: [string, string][];
  id: boolean;
  text: string;
  /** Text after the element, in its parent: mixed content. */
  tail: string;
  children: El[];
}

function elementOf(depth: number): fc.Arbitrary<El> {
  return fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    ns: fc.constantFrom('none', 'none', 'none', 'none', 'default', 'au'),
    attrs: fc.uniqueArray(
      fc.tuple(fc.constantFrom('p', 'q', 'au:p', 'xml:lang'), fc.constantFrom('1', '2', 'x', 'en', 'en-GB', 'de', '')),
      { selector: ([k]) => k, maxLength: 2 },
    ),
    id: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    text: fc.constantFrom('', '', ...TEXTS),
    tail: fc.constantFrom('', '', '', ...TEXTS),
    children: depth === 0 ? fc.constant([]) : fc.array(elementOf(depth - 1), { maxLength: 3 }),
  });
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** The document's text: xml:ids numbered so that each is unique (libxml2 refuses a document repeating one). */
function xmlOf(children: El[]): string {
  let ids = 0;
  const write = (el: El, inherited: boolean): string => {
    const tag = el.ns === 'au' ? `au:${el.name}` : el.name;
    const inDefault = el.ns === 'default' || (el.ns === 'au' && inherited);
    let open = tag;
    if (el.ns === 'default' && !inherited) open += ' xmlns="urn:d"';
    if (el.ns === 'none' && inherited) open += ' xmlns=""';
    if (el.id) open += ` xml:id="i${++ids}"`;
    for (const [k, v] of el.attrs) open += ` ${k}="${escape(v)}"`;
    const content = escape(el.text) + el.children.map((c) => write(c, inDefault) + escape(c.tail)).join('');
    return `<${open}>${content}</${tag}>`;
  };
  return `<data xmlns:au="${AU}">${children.map((c) => write(c, false) + escape(c.tail)).join('')}</data>`;
}

// ---- expressions ----

// Node tests on the element-ish axes, and on the attribute axis.
const NODE_TESTS = [
  ...['a', 'b', 'c', '*', 'node()'].flatMap((t) => [t, t, t]),
  'text()',
  'text()',
  'au:*',
  'au:a',
  'comment()',
  'processing-instruction()',
];
const ATTRIBUTE_TESTS = ['p', 'p', 'q', '*', '*', 'node()', 'au:p', 'xml:lang', 'xml:id'];
// Attribute steps are drawn on their own, with ATTRIBUTE_TESTS (attributeStep below).
const AXES = XPATH_AXES.filter((a) => a !== 'attribute');
// From an attribute, libxml2's following axis leaves out the attribute's own element's content (EXCEPTIONS):
// wherever the context may be an attribute (after an attribute step, in predicates of what may hold
// attributes), the axes without it, and predicates made for attributes.
const AXES_FROM_ATTRIBUTES = AXES.filter((a) => a !== 'following');

/** Whether a node-set may hold attributes, to be safe: the expression mentions them anywhere. */
function mayHoldAttributes(expression: string): boolean {
  return /@|attribute::/.test(expression);
}

const literal = fc.constantFrom(...TEXTS, '', 'en', 'b').map((t) => `'${t}'`);
const numberLiteral = fc.constantFrom('0', '1', '2', '3', '1.5', '-1', '10', '.5');

interface Level {
  /** A node-set. */
  nodes: fc.Arbitrary<string>;
  /** A predicate. */
  pred: fc.Arbitrary<string>;
  /** A predicate for an attribute step: one whose paths start from an attribute (see AXES_FROM_ATTRIBUTES). */
  attributePred: fc.Arbitrary<string>;
  /** A number libxml2 turns into a string as XPath 1.0 does (no division: EXCEPTIONS). */
  tame: fc.Arbitrary<string>;
  /** Any number. */
  number: fc.Arbitrary<string>;
  /** A string, or what a string function takes. */
  text: fc.Arbitrary<string>;
  boolean: fc.Arbitrary<string>;
  any: fc.Arbitrary<string>;
}

const levels = new Map<number, Level>();

function level(depth: number): Level {
  const known = levels.get(depth);
  if (known) return known;
  const lower = depth > 0 ? level(depth - 1) : undefined;
  const preds = (pred: fc.Arbitrary<string> | undefined) =>
    pred
      ? fc.oneof(
          { arbitrary: fc.constant(''), weight: 3 },
          { arbitrary: pred.map((x) => `[${x}]`), weight: 2 },
          { arbitrary: fc.tuple(pred, pred).map(([x, y]) => `[${x}][${y}]`), weight: 1 },
        )
      : fc.constant('');
  const attributeStep = fc
    .tuple(fc.constantFrom('@', 'attribute::'), fc.constantFrom(...ATTRIBUTE_TESTS), preds(lower?.attributePred))
    .map(([a, t, p]) => `${a}${t}${p}`);
  const stepOn = (axes: string[], pred: fc.Arbitrary<string> | undefined) =>
    fc.oneof(
      {
        arbitrary: fc.tuple(fc.constantFrom(...axes), fc.constantFrom(...NODE_TESTS), preds(pred)).map(([a, t, p]) => `${a}::${t}${p}`),
        weight: 4,
      },
      { arbitrary: fc.tuple(fc.constantFrom(...NODE_TESTS), preds(pred)).map(([t, p]) => `${t}${p}`), weight: 3 },
      { arbitrary: fc.constantFrom('.', '..'), weight: 1 },
    );
  const anyStep = stepOn(AXES, lower?.pred);
  // After what may be attributes: no following axis, and (self:: and the -or-self axes keep an attribute)
  // predicates for attributes.
  const stepAfterAttribute = stepOn(AXES_FROM_ATTRIBUTES, lower?.attributePred);
  // A relative path: element steps, perhaps an attribute step, and after it only steps that libxml2 takes right.
  const relative = fc
    .tuple(
      fc.array(anyStep, { minLength: 1, maxLength: 3 }),
      fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: attributeStep, weight: 1 }),
      fc.array(stepAfterAttribute, { maxLength: 1 }),
    )
    .map(([steps, attribute, after]) => [...steps, ...(attribute ? [attribute, ...after] : [])].join('/'));
  const paths: fc.Arbitrary<string>[] = [
    relative,
    relative.map((r) => `/data/${r}`),
    relative.map((r) => `//${r}`),
    fc.tuple(anyStep, relative).map(([a, r]) => `${a}//${r}`),
    attributeStep,
    fc.constantFrom('/', '$originalContext', "id('i1')", "id('i2 i3 x')", 'id(//@p)', '//@*'),
  ];
  if (lower) {
    paths.push(fc.tuple(lower.nodes, lower.nodes).map(([a, b]) => `(${a} | ${b})`));
    paths.push(lower.nodes.chain((a) => (mayHoldAttributes(a) ? lower.attributePred : lower.pred).map((p) => `(${a})[${p}]`)));
    paths.push(fc.tuple(lower.nodes, stepAfterAttribute).map(([a, s]) => `(${a})/${s}`));
    paths.push(lower.text.map((t) => `id(${t})`));
  }
  const nodes = fc.oneof(...paths);
  const leafText = fc.oneof(literal, nodes);
  const sub: Pick<Level, 'tame' | 'number' | 'text' | 'boolean' | 'any'> = lower ?? {
    tame: numberLiteral,
    number: numberLiteral,
    text: leafText,
    boolean: fc.constantFrom('true()', 'false()'),
    any: fc.oneof(leafText, numberLiteral),
  };
  const tame = fc.oneof(
    numberLiteral,
    fc.constantFrom('position()', 'last()', 'string-length()', 'number()'),
    nodes.map((n) => `count(${n})`),
    nodes.map((n) => `sum(${n})`),
    nodes.map((n) => `number(${n})`),
    sub.text.map((t) => `string-length(${t})`),
    fc.tuple(fc.constantFrom('floor', 'ceiling', 'round'), sub.number).map(([f, x]) => `${f}(${x})`),
    fc.tuple(sub.tame, fc.constantFrom('+', '-', '*', 'mod'), sub.tame).map(([a, op, b]) => `${a} ${op} ${b}`),
    sub.tame.map((x) => `-(${x})`),
  );
  const number = fc.oneof(
    tame,
    fc.tuple(sub.number, sub.number).map(([a, b]) => `${a} div ${b}`),
  );
  const text = fc.oneof(
    literal,
    nodes,
    tame.map((x) => `string(${x})`),
    fc.constantFrom('string()', 'name()', 'local-name()', 'namespace-uri()', 'normalize-space()'),
    fc.tuple(fc.constantFrom('string', 'name', 'local-name', 'namespace-uri', 'normalize-space'), nodes).map(([f, n]) => `${f}(${n})`),
    fc.tuple(sub.text, fc.oneof(sub.text, sub.tame)).map(([a, b]) => `concat(${a}, ${b})`),
    fc.tuple(fc.constantFrom('substring-before', 'substring-after'), sub.text, sub.text).map(([f, a, b]) => `${f}(${a}, ${b})`),
    fc
      .tuple(sub.text, fc.oneof(sub.number, fc.constantFrom('0 div 0', '1 div 0', '-1 div 0', '-42')), fc.option(sub.number))
      .map(([s, from, length]) => `substring(${s}, ${from}${length === null ? '' : `, ${length}`})`),
    sub.text.map((t) => `translate(${t}, 'ab1 ', 'BA9')`),
  );
  const boolean = fc.oneof(
    fc.constantFrom('true()', 'false()'),
    fc.tuple(fc.constantFrom('contains', 'starts-with'), sub.text, sub.text).map(([f, a, b]) => `${f}(${a}, ${b})`),
    fc.tuple(sub.any, fc.constantFrom('=', '!=', '<', '<=', '>', '>='), sub.any).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(sub.boolean, fc.constantFrom('and', 'or'), sub.boolean).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.oneof(nodes, sub.number, sub.text).map((x) => `boolean(${x})`),
    sub.boolean.map((x) => `not(${x})`),
    fc.constantFrom("lang('en')", "lang('EN')", "lang('de')", "lang('en-GB')", "lang('')"),
  );
  const pred = fc.oneof(
    {
      arbitrary: fc.constantFrom('1', '2', '3', '1.5', 'last()', 'last() - 1', 'position() = 2', 'position() < 3', 'position() > 1'),
      weight: 3,
    },
    {
      arbitrary: fc
        .tuple(nodes, fc.constantFrom('=', '!=', '<', '>='), fc.oneof(literal, numberLiteral, nodes))
        .map(([n, op, r]) => `${n} ${op} ${r}`),
      weight: 2,
    },
    { arbitrary: nodes, weight: 2 },
    { arbitrary: fc.oneof(number, boolean), weight: 2 },
  );
  const attributePred = fc.constantFrom(
    '1',
    'last()',
    ". = '1'",
    ". != 'en'",
    'position() = 1',
    'string-length() > 1',
    "lang('en')",
    'name() = "p"',
    '../b',
    '. = ../@q',
    'count(ancestor::*) > 2',
    'preceding::text()',
    'parent::a',
  );
  const any = fc.oneof({ arbitrary: nodes, weight: 3 }, number, text, boolean);
  const made: Level = { nodes, pred, attributePred, tame, number, text, boolean, any };
  levels.set(depth, made);
  return made;
}

/**
 * lxml evaluates an expression with no context position and size (libxml2 then refuses position() and last()),
 * where XPath 1.0 has an expression's own be 1 and 1: outside predicates they are written so, for both engines.
 */
function withContextPosition(expression: string): string {
  let depth = 0;
  let out = '';
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i]!;
    if (c === '[') depth++;
    else if (c === ']') depth--;
    const call = depth === 0 ? /^(position|last)\(\)/.exec(expression.slice(i)) : null;
    if (call && !/[\w:-]/.test(expression[i - 1] ?? '')) {
      out += '1';
      i += call[0].length - 1;
    } else out += c;
  }
  return out;
}

/** Expressions both must refuse: syntax, unknown names, arity, types. */
const refused = fc.oneof(
  fc.constantFrom('/data/a[', 'a b', '1 +', '//', 'a/', '@', 'child::', 'foo::a', '(a', "'x", '$', 'a[]', '1 2', '.[1]', 'a/..[1]'),
  fc.constantFrom('foo()', 'x:a', '$nothing', 'count(1)', "sum('1')", '1 | a', 'a | 1', "id('x')[1] | 2", '(1)[1]', "'a'/b"),
  fc.constantFrom('concat(1)', 'substring(1)', 'count()', 'true(1)', 'not()', 'lang()', 'string(1, 2)', 'position(1)'),
  level(1).nodes.map((n) => `count(${n}, 1)`),
  level(1).nodes.map((n) => `${n}[foo()]`),
  level(1).text.map((t) => `${t}/x`),
);

/** Hand-written cases where engines go wrong, on one document (HAND_DOCUMENT), from its root element. */
const HAND_WRITTEN = [
  // Names and namespaces: a name without a prefix selects only elements in no namespace.
  '/data/x',
  '/data/x[1=1]',
  '/data/*',
  "/data/*[local-name() = 'x']",
  'count(//au:*)',
  'namespace-uri(/data/*[2])',
  'name(/data/*[3])',
  'local-name(/data/*[3])',
  '//@*',
  'name(//@*[2])',
  '//@au:p',
  // Mixed content, text nodes and their positions.
  'count(/data/s/text())',
  '/data/s/text()[2]',
  'string(/data/s)',
  '/data/s/node()[2]/following-sibling::node()',
  '/data/s/text()[1]/following::text()',
  '/data/s/r[2]/preceding::text()',
  '/data/s/r[2]/@xml:id/preceding::node()',
  '/data/s/r[2]/@xml:id/preceding::node()[1]',
  '/data/s/r[2]/@xml:id/preceding-sibling::node()',
  '/data/s/r[2]/@xml:id/ancestor::*[1]',
  // Positional steps on every axis, in predicates too.
  '/data/s/r[v = preceding-sibling::r[1]/v]',
  '/data/s/r[v = following-sibling::r[1]/v]',
  '/data/s/r[2]/preceding::*[1]',
  '/data/s/r[1]/following::*[2]',
  '/data/s/r[3]/ancestor::*[last()]',
  '/data/s/r[1]/following-sibling::r[last()]',
  '/data/s/r[3]/preceding-sibling::r[last()]',
  '/data/s/r[3]/preceding::node()[position() < 3]',
  '(/data/s/r/v)[last()]',
  '/data/s/r[last()]/v',
  '//v[. = 2][1]',
  '//r[position() = last() - 1]',
  // IDs and languages.
  "id('i1')",
  "id('i2 i1 nothing')",
  'id(/data/s/r/@ref)',
  "count(//*[lang('en')])",
  "/data/s/r[lang('en-GB')]",
  // Numbers: parsing, rounding, comparing, special values.
  "number(' 1. ')",
  "number('.5')",
  "number('-.5')",
  "number('+1')",
  "number('- 1')",
  "number('')",
  "number('-0')",
  '1 div (0 div -1)',
  'round(-0.5)',
  'round(2.5)',
  'round(-2.5)',
  'floor(-0.5)',
  'ceiling(-0.5)',
  '-5 mod 3',
  '5 mod -3',
  '5.5 mod 2',
  '2 mod 0',
  '0 div 0 = 0 div 0',
  '0 div 0 != 0 div 0',
  '1 div 0 = 2 div 0',
  "'abc' < 'abd'",
  '3 > 2 > 1',
  'true() = 2',
  "true() = 'x'",
  "'' = false()",
  "/data/s/r/v = '2'",
  '/data/s/r/v != /data/s/r/v',
  'sum(/data/s/r/v)',
  'sum(/data/s)',
  // Strings.
  "substring('12345', 1.5, 2.6)",
  "substring('12345', 0, 3)",
  "substring('12345', 0 div 0, 3)",
  "substring('12345', 1, 0 div 0)",
  "substring('12345', -42, 1 div 0)",
  "substring('12345', -1 div 0, 1 div 0)",
  "substring-before('abc', '')",
  "substring-after('abc', '')",
  "translate('abcab', 'abc', 'B')",
  "normalize-space('  a \t b  ')",
  "string-length('äöü')",
  "contains('', '')",
  "starts-with('abc', '')",
  'concat(1, 0.5, true())',
  'string(-0)',
  'string(1 div 0)',
  'string(0 div 0)',
  // The document, and refusals.
  '/',
  '/..',
  'count(/ | /data)',
  '/data/..',
  'count(1)',
  '1 | /data',
  "substring('a')",
  'unknown()',
  '$unknown',
  'x:y',
  '/data/s/r[',
];
const HAND_DOCUMENT =
  `<data xmlns:au="${AU}" xml:lang="en"><x xmlns="urn:d"/><x>plain</x><au:x au:p="1" p="2"/>` +
  '<s>one<r xml:id="i1" ref="i2"><v>2</v></r>two<r xml:id="i2" xml:lang="en-GB"><v>2</v></r><r ref="i1 i3"><v>3</v></r>three</s></data>';

// ---- where libxml2 and XPath 1.0 disagree ----

interface Exception {
  expression: string;
  /** XPath 1.0's answer, which ours must be. */
  spec: Answer;
  /** What libxml2 answers (printed when it has changed; the test holds to the specification either way). */
  libxml2: Answer;
  why: string;
}

const EXCEPTIONS: Exception[] = [
  {
    expression: "number('1e3')",
    spec: { number: 'NaN' },
    libxml2: { number: 1000 },
    why: 'libxml2 reads an exponent; XPath 1.0 §3.7: a Number is digits with an optional fraction, and number() of anything else is NaN',
  },
  {
    expression: "number('1.511')",
    spec: { number: 1.511 },
    libxml2: { number: 1.5110000000000001 },
    why:
      'libxml2 reads a decimal digit by digit, which lands some fractions one unit in the last place off; XPath 1.0 ' +
      '§4.4: the IEEE 754 number nearest to the decimal',
  },
  {
    expression: 'string(1 div 3)',
    spec: { string: '0.3333333333333333' },
    libxml2: { string: '0.333333333333333' },
    why: 'libxml2 writes at most 15 significant digits; XPath 1.0 §4.2: as many as it takes to tell the number from every other',
  },
  {
    expression: 'string(12345678901)',
    spec: { string: '12345678901' },
    libxml2: { string: '1.2345678901e+10' },
    why: 'libxml2 writes an integer past 32 bits with an exponent; XPath 1.0 §4.2 never does',
  },
  {
    expression: 'string(0.000001)',
    spec: { string: '0.000001' },
    libxml2: { string: '1e-06' },
    why: 'libxml2 writes a magnitude below 1e-5 with an exponent; XPath 1.0 §4.2 never does',
  },
  {
    expression: '/data/a/@p/following::node()',
    spec: { nodes: ['/1/1/1', '/1/1/2', '/1/2'] },
    libxml2: { nodes: ['/1/2'] },
    why:
      "libxml2 leaves the attribute's own element's content off an attribute's following axis; XPath 1.0 §5 puts an " +
      "element's attributes before its children in document order, so its children follow them (§2.2)",
  },
  {
    expression: './/.',
    spec: { nodes: ['/1', '/1/1', '/1/1/1', '/1/1/2', '/1/2'] },
    libxml2: { nodes: ['/1/1', '/1/1/1', '/1/1/2', '/1/2'] },
    why:
      'libxml2 answers .//. without its context node, as it does .//./. and a union with either (though count(.//.) ' +
      'counts it, and (.//.), .//./self::node() and self::node()//. have it); XPath 1.0 §2.5: .//. is ' +
      'self::node()/descendant-or-self::node()/self::node(), which starts with the context node',
  },
];
const EXCEPTIONS_DOCUMENT = '<data><a p="1">x<b/></a><c/></data>';

// ---- the test ----

describe('our XPath evaluator and libxml2', { skip }, () => {
  let libxml2: Libxml2;
  before(() => {
    libxml2 = new Libxml2();
  });
  after(() => libxml2?.close());

  it('agree on thousands of generated documents and expressions, from the root element and from an element inside', async () => {
    const seen = { nodes: 0, nonEmpty: 0, number: 0, string: 0, boolean: 0, error: 0 };
    const EXPRESSIONS_PER_DOCUMENT = 6;
    const expression = fc
      .oneof(
        { arbitrary: level(1).nodes, weight: 4 },
        { arbitrary: level(2).nodes, weight: 3 },
        { arbitrary: level(2).any, weight: 4 },
        { arbitrary: refused, weight: 1 },
      )
      .map(withContextPosition)
      // libxml2 answers .//. (and .//./., and a union with it) without its context node (EXCEPTIONS).
      .filter((e) => !/\.\/\/\.(?!\.)/.test(e));
    await fc.assert(
      fc.asyncProperty(
        fc.array(elementOf(3), { minLength: 1, maxLength: 4 }),
        fc.array(expression, { minLength: EXPRESSIONS_PER_DOCUMENT, maxLength: EXPRESSIONS_PER_DOCUMENT }),
        fc.nat(),
        async (children, expressions, pick) => {
          const xml = xmlOf(children);
          const doc = parseXml(xml);
          const elements = evaluate('//*', doc) as Node[];
          const contexts = [doc.documentElement!, elements[pick % elements.length]!];
          const theirs = await libxml2.ask({ xml, contexts: contexts.map(pathOf), expressions });
          expressions.forEach((expr, i) => {
            contexts.forEach((context, j) => {
              const mine = ours(expr, context);
              const other = theirs[i]![j]!;
              assert.ok(
                agree(mine, other),
                `${expr} from ${pathOf(context)} of ${xml}\n ours    ${JSON.stringify(mine)}\n libxml2 ${JSON.stringify(other)}`,
              );
              seen[kindOf(mine)]++;
              if ('nodes' in mine && mine.nodes.length) seen.nonEmpty++;
            });
          });
        },
      ),
      {
        numRuns: Number(process.env['LIBXML2_RUNS'] ?? 1000),
        seed: process.env['LIBXML2_SEED'] ? Number(process.env['LIBXML2_SEED']) : undefined,
      },
    );
    const total = seen.nodes + seen.number + seen.string + seen.boolean + seen.error;
    console.log(
      `# libxml2: ${total} cases agree (${seen.nodes} node-sets, ${seen.nonEmpty} of them non-empty; ${seen.number} numbers, ` +
        `${seen.string} strings, ${seen.boolean} booleans; ${seen.error} refused by both); ${EXCEPTIONS.length} known departures of libxml2 listed`,
    );
    // The comparison means something only if most cases are answered, many select something, and some are refused.
    assert.ok(seen.error < total * 0.2 && seen.error > total * 0.02, `${seen.error} of ${total} refused`);
    assert.ok(seen.nonEmpty > total * 0.12, `only ${seen.nonEmpty} of ${total} selected nodes`);
  });

  it('agree on hand-written cases where engines go wrong', async () => {
    const doc = parseXml(HAND_DOCUMENT);
    const theirs = await libxml2.ask({ xml: HAND_DOCUMENT, contexts: ['/1'], expressions: HAND_WRITTEN });
    const differ: string[] = [];
    HAND_WRITTEN.forEach((e, i) => {
      const mine = ours(e, doc.documentElement!);
      const other = theirs[i]![0]!;
      if (!agree(mine, other)) differ.push(`${e}: ours ${JSON.stringify(mine)}, libxml2 ${JSON.stringify(other)}`);
    });
    assert.deepEqual(differ, []);
    console.log(`# libxml2: ${HAND_WRITTEN.length} hand-written cases agree`);
  });

  it('departs from libxml2 only where libxml2 departs from XPath 1.0, with our answers the specification’s', async () => {
    const doc = parseXml(EXCEPTIONS_DOCUMENT);
    const theirs = await libxml2.ask({
      xml: EXCEPTIONS_DOCUMENT,
      contexts: ['/1'],
      expressions: EXCEPTIONS.map((e) => e.expression),
    });
    EXCEPTIONS.forEach((e, i) => {
      assert.deepEqual(ours(e.expression, doc.documentElement!), e.spec, `${e.expression}: ${e.why}`);
      const other = theirs[i]![0]!;
      if (agree(other, e.spec)) console.log(`# libxml2 now answers ${e.expression} as XPath 1.0 does: the exception can go`);
      else if (!agree(other, e.libxml2)) console.log(`# libxml2 answers ${e.expression} with ${JSON.stringify(other)} now`);
    });
  });
});
