/**
 * A cloud service's answer becomes sensor data (plugin-api host.storeSeries): each list of measurements
 * (`body-weight: [{dateTime, value}]`, `goals: [{id, date, points}]`) is merged into the time series under the
 * sensor by each entry's key (the first of the key fields it has: logId, id, dateTime, date) — new ones
 * appended, changed ones replaced, the rest of the history kept. Anything else (a profile, a summary)
 * replaces what was there.
 */
import type { Json, JsonObject, TreeChange } from '../plugin-api.ts';

export const DEFAULT_KEYS = ['logId', 'id', 'dateTime', 'date'];

const SAFE_KEY = /^[\w:.+-]{1,64}$/;

/** The identity of a measurement: a field name and its value, usable in an XPath predicate. */
function keyOf(entry: JsonObject, keys: readonly string[]): [field: string, value: string] | undefined {
  for (const field of keys) {
    const v = entry[field];
    if (v === undefined || v === null || typeof v === 'object') continue;
    const value = String(v);
    if (!SAFE_KEY.test(value)) return undefined;
    return [field, value];
  }
  return undefined;
}

/** Compares as stored text: the tree gives "170" back as 170. */
function canonical(value: Json | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${k}:${canonical(value[k])}`)
    .join(',')}}`;
}

function isSeries(value: Json, keys: readonly string[]): value is JsonObject[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && keyOf(e, keys) !== undefined)
  );
}

export interface Stored {
  changes: TreeChange[];
  /** Per name: how many measurements were new or changed. */
  counts: Record<string, number>;
}

/**
 * The changes that store `answer` under `base` (e.g. /data/sensors/fitbit/jack); `existing(name)` gives the
 * measurements stored there now.
 */
export function sensorChanges(
  base: string,
  answer: JsonObject,
  existing: (name: string) => Json[],
  keys: readonly string[] = DEFAULT_KEYS,
): Stored {
  const changes: TreeChange[] = [];
  const counts: Record<string, number> = {};
  for (const [name, value] of Object.entries(answer)) {
    const path = `${base}/${name}`;
    if (isSeries(value, keys)) {
      const stored = new Map<string, string>();
      for (const old of existing(name)) {
        if (old && typeof old === 'object' && !Array.isArray(old)) {
          const key = keyOf(old, keys);
          if (key) stored.set(key.join('\0'), canonical(old));
        }
      }
      let count = 0;
      for (const entry of value) {
        const [field, key] = keyOf(entry, keys)!;
        const before = stored.get(`${field}\0${key}`);
        if (before === canonical(entry)) continue;
        changes.push(
          before === undefined
            ? { op: 'post', xpath: path, value: entry }
            : { op: 'put', xpath: `${path}[${field}='${key}']`, value: entry },
        );
        stored.set(`${field}\0${key}`, canonical(entry));
        count++;
      }
      counts[name] = count;
    } else if (!(Array.isArray(value) && value.length === 0)) {
      changes.push({ op: 'put', xpath: path, value });
      counts[name] = 1;
    }
  }
  return { changes, counts };
}

/** The changes that record each series' units under `base`/units/NAME, where they differ from what is there. */
export function unitChanges(
  base: string,
  units: Record<string, Record<string, string>>,
  existing: (name: string) => Json | undefined,
): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const [name, fields] of Object.entries(units)) {
    if (canonical(existing(name)) !== canonical(fields)) changes.push({ op: 'put', xpath: `${base}/units/${name}`, value: fields });
  }
  return changes;
}
