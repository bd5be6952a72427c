/**
 * XPath over a sensor time series: 10,000 and 100,000 readings under one parent (the shape sensor data has,
 * weeks to years of one sensor), next to a few hundred other elements.
 *
 * Each expression is timed four ways, because the evaluator keeps indexes of what it walked
 * (src/tree/xpath/indexes.ts) and a figure for a repeated query alone would flatter it:
 * - first:  the first evaluation on a freshly loaded tree (nothing indexed yet);
 * - again:  the same expression again, nothing changed (mean of 20);
 * - +1:     after a reading was appended to the series, as sensor data changes (mean of 20);
 * - other:  after an unrelated element elsewhere was replaced (mean of 20).
 *
 * With --upstream, the plain `xpath` engine over plain @xmldom/xmldom (bench/xpath-upstream.ts, in a child
 * process so none of src/ is loaded there), which is quadratic in the number of siblings (goto100/xpath#97).
 * Usage: node --import tsx bench/xpath-siblings.ts [--upstream] [--sizes 10000,100000]
 */
import { spawnSync } from 'node:child_process';
import { parseXml } from '../src/tree/dom.ts';
import { elementFromJson } from '../src/tree/jsonxml.ts';
import { Tree } from '../src/tree/tree.ts';
import { series } from './series.ts';

const sizesArg = process.argv.indexOf('--sizes');
const SIZES = sizesArg > 0 ? process.argv[sizesArg + 1]!.split(',').map(Number) : [10_000, 100_000];
const SERIES = '/data/sensors/fitbit/jack/body-weight';

const EXPRESSIONS: [string, (t: Tree) => unknown][] = [
  ['simple path: body-weight[last()]', (t) => t.select(`${SERIES}[last()]`)],
  ['simple path: all body-weight elements', (t) => t.select(SERIES)],
  [`(${SERIES})[last()]`, (t) => t.select(`(${SERIES})[last()]`)],
  ['body-weight[value > 79.8] (1% match)', (t) => t.select(`${SERIES}[value > 79.8]`)],
  ['//value[. = 75] (1% match, whole document)', (t) => t.select('//value[. = 75]')],
  [`count(${SERIES})`, (t) => t.evaluate(`count(${SERIES})`)],
  ['body-weight[last()]/value > 79 (a condition)', (t) => t.evaluate(`${SERIES}[last()]/value > 79`)],
  ['sum(body-weight[position() > last() - 7]/value)', (t) => t.evaluate(`sum(${SERIES}[position() > last() - 7]/value)`)],
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
  for (const [label, query] of EXPRESSIONS) {
    const tree = new Tree(parseXml(xml));
    let start = performance.now();
    query(tree);
    const first = performance.now() - start;
    start = performance.now();
    const again = mean(
      20,
      () => {},
      () => query(tree),
    );
    let i = 0;
    const appended = mean(
      20,
      () => tree.post(SERIES, elementFromJson(tree.doc, 'body-weight', { dateTime: '2026-02-01', value: 70 + (i++ % 10) })),
      () => query(tree),
    );
    const other = mean(
      20,
      () => tree.put('/data/devices/lamp7/level', elementFromJson(tree.doc, 'level', i++)),
      () => query(tree),
    );
    console.log(`  ${label.padEnd(52)} ${[first, again, appended, other].map((x) => ms(x).padStart(9)).join(' |')}`);
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
