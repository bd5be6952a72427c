/**
 * A property (fast-check): whatever the sequence of writes, crashes (as kill -9: the recorder's queue lost,
 * sometimes with a write under way), snapshots, batches written and restarts (sometimes with writes made while
 * the recorder is still catching up), and writes that append an entry and delete it at once, the history in
 * the end holds exactly the acknowledged writes replayed:
 * each change of a value once, in order, and each entry of a series at its own time with its last value.
 * `HISTORY_RUNS=N` for more runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { elementFromJson } from '../../src/tree/jsonxml.ts';
import { combine } from '../../src/tree/tree.ts';
import { tempDir } from '../helpers.ts';
import { recorded, type Recorded, sqliteSkip } from './setup.ts';

type Action =
  | { kind: 'put'; sensor: number; value: number }
  | { kind: 'entry'; day: number; value: number }
  | { kind: 'plug'; power: number; on: boolean }
  | { kind: 'entryGone'; day: number; value: number }
  | { kind: 'flush' }
  | { kind: 'snapshot' }
  | { kind: 'crash'; underWay?: { sensor: number; value: number } }
  | { kind: 'restart'; waitForCatchUp: boolean };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), sensor: fc.nat(2), value: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('entry' as const), day: fc.nat(3), value: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('plug' as const), power: fc.nat(2), on: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('entryGone' as const), day: fc.nat(3), value: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  {
    weight: 2,
    arbitrary: fc.record(
      { kind: fc.constant('crash' as const), underWay: fc.record({ sensor: fc.nat(2), value: fc.nat(3) }) },
      { requiredKeys: ['kind'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), waitForCatchUp: fc.boolean() }) },
);

/** The history the writes should leave: per series, its values in order (entries: by day, the last value). */
class Model {
  readonly changes = new Map<string, unknown[]>();
  readonly entries = new Map<number, number>();
  set(path: string, value: unknown): void {
    const list = this.changes.get(path) ?? [];
    if (list[list.length - 1] !== value || list.length === 0) list.push(value);
    this.changes.set(path, list);
  }
}

const date = (day: number) => `2026-01-0${day + 1}`;

async function apply(h: Recorded, a: Action, model: Model, known: Set<number>): Promise<void> {
  switch (a.kind) {
    case 'put':
      await h.put(`/data/sensors/s${a.sensor}`, a.value);
      model.set(`sensors/s${a.sensor}`, a.value);
      break;
    case 'entry':
      if (known.has(a.day)) await h.put(`/data/sensors/fit/weight[dateTime='${date(a.day)}']`, { dateTime: date(a.day), kg: a.value });
      else await h.post('/data/sensors/fit/weight', { dateTime: date(a.day), kg: a.value });
      known.add(a.day);
      model.entries.set(a.day, a.value);
      break;
    case 'entryGone': {
      // An entry written and deleted in one write (as storeSeries with `keep` does): the history still has it.
      const path = '/data/sensors/fit/weight';
      await h.db.write((t) => {
        const entry = elementFromJson(t.doc, 'weight', { dateTime: date(a.day), kg: a.value });
        const wrote = known.has(a.day) ? t.put(`${path}[dateTime='${date(a.day)}']`, entry) : t.post(path, entry);
        return combine([wrote, t.delete(`${path}[dateTime='${date(a.day)}']`)]);
      });
      known.delete(a.day);
      model.entries.set(a.day, a.value);
      break;
    }
    case 'plug':
      await h.put('/data/devices/plug', { power: a.power, on: a.on });
      model.set('devices/plug/power', a.power);
      model.set('devices/plug/on', a.on);
      break;
    case 'flush':
      h.history.flush();
      break;
    case 'snapshot':
      await h.db.snapshot();
      break;
  }
}

/** Crashes, with a write under way if asked, and opens again; the write counts if it reached the journal. */
async function crash(dir: string, h: Recorded, a: Extract<Action, { kind: 'crash' }>, model: Model): Promise<Recorded> {
  const path = a.underWay && `/data/sensors/s${a.underWay.sensor}`;
  if (a.underWay) void h.put(path!, a.underWay.value).catch(() => {});
  h.crash();
  const again = await recorded(dir);
  if (a.underWay && again.db.tree.select(path!)[0]?.textContent === String(a.underWay.value)) {
    model.set(`sensors/s${a.underWay.sensor}`, a.underWay.value);
  }
  return again;
}

async function run(actions: Action[]): Promise<void> {
  const dir = await tempDir('igor-history-prop-');
  const model = new Model();
  const known = new Set<number>();
  let h = await recorded(dir, { flushDelayMs: 3_600_000 });
  for (const a of actions) {
    if (a.kind === 'crash') h = await crash(dir, h, a, model);
    else if (a.kind === 'restart') {
      await h.close();
      h = await recorded(dir, { flushDelayMs: 3_600_000, start: a.waitForCatchUp });
      if (!a.waitForCatchUp) void h.history.start();
    } else await apply(h, a, model, known);
  }
  h.crash();
  const last = await recorded(dir);
  const rows = await last.readings();
  const got = new Map<string, unknown[]>();
  const entries = new Map<number, unknown>();
  for (const [path, t, v] of rows) {
    if (path === 'sensors/fit/weight/kg') entries.set(Number(new Date(t).toISOString().slice(8, 10)) - 1, v);
    else got.set(path, [...(got.get(path) ?? []), v]);
  }
  assert.deepEqual(Object.fromEntries(got), Object.fromEntries(model.changes));
  assert.deepEqual(Object.fromEntries(entries), Object.fromEntries(model.entries));
  await last.close();
}

describe('the history is the acknowledged writes replayed', { skip: sqliteSkip }, () => {
  it('through writes, crashes, snapshots and restarts', { timeout: 600_000 }, async () => {
    await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 25 }), run), {
      numRuns: Number(process.env['HISTORY_RUNS'] ?? 40),
    });
  });
});
