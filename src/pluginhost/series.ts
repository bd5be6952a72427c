/**
 * A cloud service's answer becomes sensor data (plugin-api host.storeSeries): each list of measurements
 * (`body-weight: [{dateTime, value}]`, `goals: [{id, date, points}]`) is merged into the time series under the
 * sensor by each entry's key (the first of the key fields it has: logId, id, dateTime, date) — new ones
 * appended, changed ones replaced, the rest of the history kept. Anything else (a profile, a summary)
 * replaces what was there.
 *
 * With `keep` (SeriesOptions), only the newest entries stay in the tree: the others are deleted in the same
 * write that brings the new ones, which are written even when they go at once, so that the history
 * (src/history/) records every one of them.
 */
import { entryTimeOf } from '../history/values.ts';
import type { Json, JsonObject, SeriesOptions, TreeChange } from '../plugin-api.ts';

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

const DAY = 86_400_000;

/** What of a series stays in the tree, and the time `days` counts back from. */
export interface Keep {
  keep: NonNullable<SeriesOptions['keep']>;
  now: number;
}

function checkKeep(keep: Keep['keep']): void {
  const ok = typeof keep === 'number' ? Number.isInteger(keep) && keep >= 1 : Number.isFinite(keep.days) && keep.days > 0;
  if (!ok)
    throw new TypeError(
      `storeSeries: keep must be a whole number of entries (1 or more) or { days } (more than 0), not ${JSON.stringify(keep)}`,
    );
}

interface Entry {
  field: string;
  key: string;
  entry: JsonObject;
}

/** The deletes that leave only what `keep` says of a series' entries (in tree order, then the new ones). */
function beyondKeep(path: string, entries: readonly Entry[], { keep, now }: Keep): TreeChange[] {
  const plain = (v: Json | undefined) => (v === undefined || v === null || typeof v === 'object' ? undefined : String(v));
  const timed = entries.map((e, i) => ({ ...e, i, at: entryTimeOf((name) => plain(e.entry[name]))?.at }));
  // Oldest first by their own time when every entry has one; else in the order they came.
  const ordered = timed.every((e) => e.at !== undefined) ? [...timed].sort((a, b) => a.at! - b.at! || a.i - b.i) : timed;
  const drop =
    typeof keep === 'number'
      ? ordered.slice(0, Math.max(0, ordered.length - keep))
      : ordered.filter((e) => e.at !== undefined && e.at < now - keep.days * DAY);
  return drop.map((e) => ({ op: 'delete', xpath: `${path}[${e.field}='${e.key}']` }));
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
  keep?: Keep,
): Stored {
  if (keep) checkKeep(keep.keep);
  const changes: TreeChange[] = [];
  const counts: Record<string, number> = {};
  for (const [name, value] of Object.entries(answer)) {
    const path = `${base}/${name}`;
    if (isSeries(value, keys)) {
      const stored = new Map<string, string>();
      const entries = new Map<string, Entry>();
      for (const old of existing(name)) {
        if (old && typeof old === 'object' && !Array.isArray(old)) {
          const key = keyOf(old, keys);
          if (key) stored.set(key.join('\0'), canonical(old));
          if (key) entries.set(key.join('\0'), { field: key[0], key: key[1], entry: old });
        }
      }
      let count = 0;
      for (const entry of value) {
        const [field, key] = keyOf(entry, keys)!;
        entries.set(`${field}\0${key}`, { field, key, entry });
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
      if (keep) changes.push(...beyondKeep(path, [...entries.values()], keep));
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
