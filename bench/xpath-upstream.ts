/**
 * The unpatched engine, for comparison with bench/xpath-siblings.ts: plain `xpath` over plain @xmldom/xmldom,
 * none of src/ loaded. Usage: node --import tsx bench/xpath-upstream.ts N
 */
import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';
import { series } from './series.ts';

const n = Number(process.argv[2] ?? 2000);
const doc = new DOMParser().parseFromString(series(n), 'text/xml') as unknown as Node;
const start = performance.now();
xpath.select('/data/sensors/fitbit/jack/body-weight[last()]', doc);
console.log(
  `upstream engine, ${n.toLocaleString('en')} siblings: body-weight[last()]`.padEnd(64),
  `${(performance.now() - start).toFixed(0)} ms`,
);
