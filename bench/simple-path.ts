/**
 * The simple-path fast path (src/tree/simplePath.ts) on the paths REST clients ask most: a value in a small
 * parent, the newest reading of a 10,000-reading series, a reading by position in it, and every reading.
 * Prints the mean time per evaluation (through evaluate(), as a GET does), best of a few rounds, since on a busy
 * machine the best round is the one least disturbed.
 * Usage: node --import tsx bench/simple-path.ts [--rounds 7]
 */
import { parseXml } from '../src/tree/parseXml.ts';
import { Tree } from '../src/tree/tree.ts';
import { evaluate } from '../src/tree/xpath.ts';
import { series } from './series.ts';

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 7;
const SERIES = '/data/sensors/fitbit/jack/body-weight';

const devices = Array.from({ length: 20 }, (_, i) => `<lamp${i}><on>false</on><level>${i}</level></lamp${i}>`).join('');
const tree = new Tree(parseXml(series(10_000).replace('</sensors>', `</sensors><devices>${devices}</devices>`)));

const PATHS: [string, number][] = [
  ['/data/devices/lamp7/level', 200_000],
  [`${SERIES}[last()]`, 200_000],
  [`${SERIES}[5000]/value`, 200_000],
  ['/data/devices/*[3]/on', 200_000],
  [SERIES, 2_000],
];

function timePerCall(path: string, times: number): number {
  const start = performance.now();
  for (let i = 0; i < times; i++) evaluate(path, tree.doc);
  return (performance.now() - start) / times;
}

console.log(`Simple paths through evaluate(), best of ${ROUNDS} rounds (per evaluation)`);
for (const [path, times] of PATHS) {
  timePerCall(path, Math.min(times, 10_000)); // warm up: parsed, indexed, compiled
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) best = Math.min(best, timePerCall(path, times));
  const figure = best < 0.001 ? `${(best * 1e6).toFixed(0)} ns` : best < 1 ? `${(best * 1000).toFixed(2)} µs` : `${best.toFixed(2)} ms`;
  console.log(`  ${path.padEnd(52)} ${figure.padStart(10)}`);
}
