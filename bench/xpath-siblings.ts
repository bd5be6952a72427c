/**
 * XPath over a time series of 10,000 readings under one parent (the shape sensor data has).
 * Upstream `xpath` over @xmldom/xmldom is quadratic in the number of siblings (goto100/xpath#97); this prints
 * our figures, and with --upstream the unpatched engine's on smaller series (bench/xpath-upstream.ts, in a
 * child process so none of our patches is loaded there). Usage: node --import tsx bench/xpath-siblings.ts [--upstream]
 */
import { spawnSync } from 'node:child_process';
import { parseXml } from '../src/tree/dom.ts';
import { elementFromJson } from '../src/tree/jsonxml.ts';
import { Tree } from '../src/tree/tree.ts';
import { series } from './series.ts';

const SIBLINGS = 10_000;

function time(label: string, fn: () => unknown, repeat = 20): void {
  fn(); // warm up, and build the per-parent caches as a first query would
  const start = performance.now();
  for (let i = 0; i < repeat; i++) fn();
  const ms = (performance.now() - start) / repeat;
  console.log(`${label.padEnd(64)} ${ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`}`);
}

const tree = new Tree(parseXml(series(SIBLINGS)));
console.log(`XPath over ${SIBLINGS.toLocaleString('en')} readings under one parent (mean of 20 runs)\n`);
time('fast path: /data/sensors/fitbit/jack/body-weight[last()]', () => tree.select('/data/sensors/fitbit/jack/body-weight[last()]'));
time('fast path: /data/sensors/fitbit/jack/body-weight[5000]', () => tree.select('/data/sensors/fitbit/jack/body-weight[5000]'));
time('fast path: all 10,000 body-weight elements', () => tree.select('/data/sensors/fitbit/jack/body-weight'));
time('engine: (/data/sensors/fitbit/jack/body-weight)[last()]', () => tree.select('(/data/sensors/fitbit/jack/body-weight)[last()]'));
time('engine: body-weight[value > 79.8] (100 matches)', () => tree.select('/data/sensors/fitbit/jack/body-weight[value > 79.8]'));
time('engine: //value[. = 75] (100 matches, whole document)', () => tree.select('//value[. = 75]'));
time('engine: count(/data/sensors/fitbit/jack/body-weight)', () => tree.evaluate('count(/data/sensors/fitbit/jack/body-weight)'));
let i = 0;
time('POST a reading, then read body-weight[last()]', () => {
  tree.post('/data/sensors/fitbit/jack/body-weight', elementFromJson(tree.doc, 'body-weight', { value: i++ }));
  return tree.select('/data/sensors/fitbit/jack/body-weight[last()]');
}, 1000);

if (process.argv.includes('--upstream')) {
  console.log('');
  for (const n of [1000, 2000, 4000]) {
    spawnSync(process.execPath, ['--import', 'tsx', new URL('./xpath-upstream.ts', import.meta.url).pathname, String(n)], { stdio: 'inherit' });
  }
}
