/**
 * What to ask Google Health for one kind of data: the requests that bring the points newer than the last one
 * stored (the first time, those since the start of the backfill), or only those of a notification's interval.
 * The requests are planned as plain values (queriesFor), so that their filters can be checked without a server,
 * and then sent (pointsOf).
 */
import type { JsonObject } from 'igor-ts/plugin-api';
import { filterName, type Kind } from './dataTypes.ts';
import { toCivil, type GoogleHealthApi } from './googleHealthApi.ts';

export const DAY_MS = 86_400_000;

/** Only the points of one data type in one interval (a webhook notification). */
export interface Narrow {
  kind: Kind;
  /** RFC 3339 instants. */
  start: string;
  end: string;
}

/** Where a kind's fetch starts: after `since` (the last point stored), else at `from`; `today` ends it. */
export interface Window {
  since: string | undefined;
  /** An ISO date: the first day of the backfill. */
  from: string;
  /** Midnight UTC of the server's local date, in ms. */
  today: number;
  narrow?: Narrow | undefined;
}

/** A daily roll-up from `start` up to (not including) `end`, ISO dates; or a list of data points by filter. */
export type Query = { rollup: { start: string; end: string } } | { filter: string; pageSize: number };

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The local date of the server, which stands for the person's until their data says otherwise. */
export function localToday(now = new Date()): number {
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
}

const quote = (v: string) => `"${v}"`;

/** Roll-ups over the window, in pieces of at most the kind's maxDays (Google's limit per request). */
function rollups(kind: Kind, { since, from, today, narrow }: Window): Query[] {
  const first = narrow ? Date.parse(narrow.start.slice(0, 10)) : Date.parse(since ?? from);
  const last = narrow ? Date.parse(narrow.end.slice(0, 10)) + DAY_MS : today + DAY_MS;
  const step = (kind.maxDays ?? 90) * DAY_MS;
  const queries: Query[] = [];
  for (let start = first; start < last; start += step) {
    queries.push({ rollup: { start: isoDate(start), end: isoDate(Math.min(start + step, last)) } });
  }
  return queries;
}

/** A filter on the day (daily kinds), on the end of a session, or on a sample's time. */
function filterFor(kind: Kind, { since, from, narrow }: Window): string {
  const f = filterName(kind.dataType);
  if (kind.how === 'daily') {
    const start = narrow ? narrow.start.slice(0, 10) : (since ?? from);
    const end = narrow ? ` AND ${f}.date < ${quote(isoDate(Date.parse(narrow.end.slice(0, 10)) + DAY_MS))}` : '';
    return `${f}.date >= ${quote(start)}${end}`;
  }
  const field = kind.how === 'sessions' ? `${f}.interval.end_time` : `${f}.sample_time.physical_time`;
  const civil = kind.how === 'sessions' ? `${f}.interval.civil_end_time` : `${f}.sample_time.civil_time`;
  if (narrow) return `${field} >= ${quote(narrow.start)} AND ${field} < ${quote(narrow.end)}`;
  return since ? `${field} >= ${quote(since)}` : `${civil} >= ${quote(from)}`;
}

export function queriesFor(kind: Kind, window: Window): Query[] {
  if (kind.how === 'rollup') return rollups(kind, window);
  // Google caps sleep and exercise sessions at 25 a page.
  return [{ filter: filterFor(kind, window), pageSize: kind.how === 'sessions' ? 25 : 1000 }];
}

/** The points of one kind in the window, in the order Google gives them. */
export async function pointsOf(gh: GoogleHealthApi, kind: Kind, window: Window): Promise<JsonObject[]> {
  const points: JsonObject[] = [];
  for (const query of queriesFor(kind, window)) {
    points.push(
      ...('rollup' in query
        ? await gh.dailyRollUp(kind.dataType, toCivil(query.rollup.start), toCivil(query.rollup.end))
        : await gh.list(kind.dataType, query.filter, query.pageSize)),
    );
  }
  return points;
}
