/**
 * What grew between two V8 heap snapshots (as `bench/soak.ts --heap-snapshots` writes them), by constructor:
 * count and bytes of each kind of object in the first and the second, largest growth first. A leak shows as a
 * kind whose count keeps rising with the load; churn shows as kinds that come and go.
 * Usage: node --import tsx bench/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top 30]
 */
import { readFile } from 'node:fs/promises';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Tally = Map<string, { count: number; bytes: number }>;

/** Counts the snapshot's nodes by type and constructor name (strings and code by type alone: their names are content). */
async function tally(file: string): Promise<Tally> {
  const heap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const byKind: Tally = new Map();
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt!]!]!;
    const own = heap.strings[heap.nodes[i + nameAt!]!]!;
    const name = ['object', 'closure', 'array', 'native', 'hidden', 'object shape'].includes(type)
      ? `${type} ${own.slice(0, 60)}`
      : type === 'code' && /^(system \/|\()/.test(own)
        ? `(code) ${own.slice(0, 60)}` // bytecode, feedback, optimised code…: what the JIT makes of the program
        : `(${type})`;
    const entry = byKind.get(name) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += heap.nodes[i + sizeAt!]!;
    byKind.set(name, entry);
  }
  return byKind;
}

const [beforeFile, afterFile] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!beforeFile || !afterFile) throw new Error('usage: heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]');
const top = process.argv.includes('--top') ? Number(process.argv[process.argv.indexOf('--top') + 1]) : 30;
const [before, after] = await Promise.all([tally(beforeFile), tally(afterFile)]);
const total = (t: Tally) => [...t.values()].reduce((a, e) => a + e.bytes, 0);
console.log(`heap: ${(total(before) / 1e6).toFixed(2)} MB → ${(total(after) / 1e6).toFixed(2)} MB`);
// The JIT's code grows as functions warm up and levels off; what a leak grows is data.
const isCode = (name: string) => name.startsWith('(code)');
const data = (t: Tally) => [...t].filter(([name]) => !isCode(name)).reduce((a, [, e]) => a + e.bytes, 0);
console.log(`of which data (not compiled code): ${(data(before) / 1e6).toFixed(2)} MB → ${(data(after) / 1e6).toFixed(2)} MB`);
const rows = [...new Set([...before.keys(), ...after.keys()])].map((name) => {
  const b = before.get(name) ?? { count: 0, bytes: 0 };
  const a = after.get(name) ?? { count: 0, bytes: 0 };
  return { name, count: a.count - b.count, bytes: a.bytes - b.bytes, countAfter: a.count };
});
rows.sort((x, y) => y.bytes - x.bytes);
console.log('   Δ bytes   Δ count   count after  kind');
for (const r of rows.slice(0, top)) {
  console.log(`${String(r.bytes).padStart(10)}  ${String(r.count).padStart(8)}  ${String(r.countAfter).padStart(12)}  ${r.name}`);
}
