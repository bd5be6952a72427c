/**
 * XPath over a sensor time series: 10,000 and 100,000 readings under one parent (the shape sensor data has,
 * weeks to years of one sensor), next to a few hundred other elements.
 *
 * Each expression is timed four ways, because the evaluator keeps indexes of what it walked
 * (src/tree/xpath/indexes.ts) and a figure for a repeated query alone would flatter it:
 * - first:  the first evaluation on a freshly loaded tree (nothing indexed yet);
 * - again:  the same expression again, nothing changed (mean of 20, of 3 for what takes over 100 ms);
 * - +1:     after a reading was appended to the series, as sensor data changes (mean of 20 or 3);
 * - other:  after an unrelated element elsewhere was replaced (mean of 20 or 3).
 *
 * With --upstream, the plain `xpath` engine over plain @xmldom/xmldom (bench/xpath-upstream.ts, in a child
 * process so none of src/ is loaded there), which is quadratic in the number of siblings (goto100/xpath#97).
 * With --libxml2, the same expressions in libxml2 through Debian's python3-lxml, for scale.
 * Usage: node --import tsx bench/xpath-siblings.ts [--upstream] [--libxml2] [--sizes 10000,100000]
 */
import { spawnSync } from 'node:child_process';
import { parseXml } from '../src/tree/parseXml.ts';
import { elementFromJson } from '../src/tree/jsonxml.ts';
import { Tree } from '../src/tree/tree.ts';
import { setXPathTimeLimit } from '../src/tree/xpathBudget.ts';
import { series } from './series.ts';

const sizesArg = process.argv.indexOf('--sizes');
const SIZES = sizesArg > 0 ? process.argv[sizesArg + 1]!.split(',').map(Number) : [10_000, 100_000];
const SERIES = '/data/sensors/fitbit/jack/body-weight';
// Figures for slow forms too, rather than the server's refusal after --xpath-timeout-ms.
setXPathTimeLimit(10 * 60_000);

const EXPRESSIONS: [string, string][] = [
  ['simple path: body-weight[last()]', `${SERIES}[last()]`],
  ['simple path: all body-weight elements', SERIES],
  [`(${SERIES})[last()]`, `(${SERIES})[last()]`],
  ['body-weight[value > 79.8] (1% match)', `${SERIES}[value > 79.8]`],
  ['//value[. = 75] (1% match, whole document)', '//value[. = 75]'],
  [`count(${SERIES})`, `count(${SERIES})`],
  ['body-weight[last()]/value > 79 (a condition)', `${SERIES}[last()]/value > 79`],
  ['sum(body-weight[position() > last() - 7]/value)', `sum(${SERIES}[position() > last() - 7]/value)`],
  // A positional step on an axis other than child, inside a predicate: each reading looks at its neighbour.
  [
    'count(body-weight[value = preceding-sibling::body-weight[1]/value])',
    `count(${SERIES}[value = preceding-sibling::body-weight[1]/value])`,
  ],
  ['count(body-weight[value = following-sibling::*[1]/value])', `count(${SERIES}[value = following-sibling::*[1]/value])`],
  ['count(body-weight[value = preceding::value[1]])', `count(${SERIES}[value = preceding::value[1]])`],
  ['count(body-weight/value[. = following::value[2]])', `count(${SERIES}/value[. = following::value[2]])`],
];

/** A home's other elements beside the series: devices and a status section, a few hundred in all. */
function household(): string {
  const devices = Array.from({ length: 100 }, (_, i) => `<lamp${i}><on>false</on><level>${i}</level></lamp${i}>`).join('');
  return `<devices>${devices}</devices><status><igor><start>2026-01-01</start></igor></status>`;
}

function ms(x: number): string {
  return x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(x < 10 ? 2 : 1)} ms`;
}

function mean(repeat: number, before: () => void, fn: () => unknown): number {
  let total = 0;
  for (let i = 0; i < repeat; i++) {
    before();
    const start = performance.now();
    fn();
    total += performance.now() - start;
  }
  return total / repeat;
}

for (const n of SIZES) {
  const xml = series(n).replace('</sensors>', `</sensors>${household()}`);
  console.log(`\nXPath over ${n.toLocaleString('en')} readings under one parent (first | again | after +1 reading | after another write)`);
  for (const [label, expression] of EXPRESSIONS) {
    const tree = new Tree(parseXml(xml));
    const query = (t: Tree) => t.evaluate(expression);
    const start = performance.now();
    query(tree);
    const first = performance.now() - start;
    // Fewer rounds of what is slow, so that a slow form still gets a figure in reasonable time.
    const repeat = first > 100 ? 3 : 20;
    const again = mean(
      repeat,
      () => {},
      () => query(tree),
    );
    let i = 0;
    const appended = mean(
      repeat,
      () => tree.post(SERIES, elementFromJson(tree.doc, 'body-weight', { dateTime: '2026-02-01', value: 70 + (i++ % 10) })),
      () => query(tree),
    );
    const other = mean(
      repeat,
      () => tree.put('/data/devices/lamp7/level', elementFromJson(tree.doc, 'level', i++)),
      () => query(tree),
    );
    console.log(`  ${label.padEnd(68)} ${[first, again, appended, other].map((x) => ms(x).padStart(9)).join(' |')}`);
  }
  if (process.argv.includes('--libxml2')) libxml2(xml);
}

/**
 * The same expressions in libxml2 (Debian's python3-lxml), the XPath 1.0 engine of lxml and xmllint, on the
 * same document: first run and the mean of 20 more (libxml2 keeps no indexes, so the two are alike).
 */
function libxml2(xml: string): void {
  const script = `
import json, sys, time
from lxml import etree
job = json.load(sys.stdin)
doc = etree.fromstring(job['xml'].encode()).getroottree()
for label, expression in job['expressions']:
    start = time.perf_counter(); doc.xpath(expression); first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(20): doc.xpath(expression)
    print(json.dumps([label, first * 1000, (time.perf_counter() - start) * 50]))
`;
  const run = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify({ xml, expressions: EXPRESSIONS }), encoding: 'utf8' });
  if (run.status !== 0) {
    console.log(`  (libxml2 not run: ${run.stderr.trim().split('\n').pop()}; it needs python3-lxml)`);
    return;
  }
  console.log('  libxml2 (lxml), first | again:');
  for (const line of run.stdout.trim().split('\n')) {
    const [label, first, again] = JSON.parse(line) as [string, number, number];
    console.log(`  ${label.padEnd(68)} ${[first, again].map((x) => ms(x).padStart(9)).join(' |')}`);
  }
}

if (process.argv.includes('--upstream')) {
  console.log('');
  for (const n of [1000, 2000, 4000]) {
    spawnSync(process.execPath, ['--import', 'tsx', new URL('./xpath-upstream.ts', import.meta.url).pathname, String(n)], {
      stdio: 'inherit',
    });
  }
}
