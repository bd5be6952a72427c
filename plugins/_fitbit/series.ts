/**
 * Fitbit answers become sensor data: a list of measurements (`body-weight: [{dateTime, value}]`, `weight:
 * [{logId, date, time, weight, bmi}]`) is merged into the time series under sensors/fitbit/USER by its key
 * (logId, else dateTime or date with time) — new ones appended, changed ones replaced, the rest of the
 * history kept. Anything else (a profile, a day's summary) replaces what was there.
 */
import type { Json, JsonObject, TreeChange } from 'igor-ts/plugin-api';

const SAFE_KEY = /^[\w:.+-]{1,64}$/;

/** The identity of a measurement: a field name and its value, usable in an XPath predicate. */
function keyOf(entry: JsonObject): [field: string, value: string] | undefined {
  for (const field of ['logId', 'dateTime', 'date']) {
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
  return `{${Object.keys(value).sort().map((k) => `${k}:${canonical(value[k])}`).join(',')}}`;
}

function isSeries(value: Json): value is JsonObject[] {
  return Array.isArray(value) && value.length > 0 && value.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && keyOf(e) !== undefined);
}

/** Same-named fields of one Fitbit answer (profile's `user` is kept as `profile`). */
function renamed(name: string): string {
  return name === 'user' ? 'profile' : name;
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
export function sensorChanges(base: string, answer: JsonObject, existing: (name: string) => Json[]): Stored {
  const changes: TreeChange[] = [];
  const counts: Record<string, number> = {};
  for (const [rawName, value] of Object.entries(answer)) {
    const name = renamed(rawName);
    const path = `${base}/${name}`;
    if (isSeries(value)) {
      const stored = new Map<string, string>();
      for (const old of existing(name)) {
        if (old && typeof old === 'object' && !Array.isArray(old)) {
          const key = keyOf(old);
          if (key) stored.set(key.join('\0'), canonical(old));
        }
      }
      let count = 0;
      for (const entry of value) {
        const [field, key] = keyOf(entry)!;
        const before = stored.get(`${field}\0${key}`);
        if (before === canonical(entry)) continue;
        changes.push(before === undefined ? { op: 'post', xpath: path, value: entry } : { op: 'put', xpath: `${path}[${field}='${key}']`, value: entry });
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
