/**
 * A thin client of the legacy Fitbit Web API (retired in 2026; kept for servers that still speak it). The
 * methods the plugin offers, as python-fitbit 0.3.1 names and builds them: each turns keyword arguments into
 * a path under /1. Arguments are checked before any call is made; a bad one throws ArgumentError (a 400 for
 * the caller). Answers are read into the tree layout both providers share, and Fitbit's errors into Problems.
 */
import type { HttpResponse, Json, JsonObject } from 'igor-ts/plugin-api';
import { KINDS } from './dataTypes.ts';
import { ProviderProblem, retryAfterSeconds } from './problems.ts';

export class ArgumentError extends Error {}

export type Args = Record<string, string | undefined>;

const PERIODS = new Set(['1d', '7d', '30d', '1w', '1m', '3m', '6m', '1y', 'max']);
const DATE = /^(\d{4}-\d{2}-\d{2}|today)$/;
const USER_ID = /^(-|[A-Z0-9]{1,16})$/;
const RESOURCE = /^[a-z]+(\/[a-zA-Z]+){0,3}$/;

/** Today as Fitbit writes dates (YYYY-MM-DD), in the server's time zone. */
export function localDate(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function date(value: string | undefined, name: string, fallback: string): string {
  const v = value ?? fallback;
  if (!DATE.test(v)) throw new ArgumentError(`${name}=${v} is not a date (YYYY-MM-DD or today)`);
  return v;
}

function userId(args: Args): string {
  const u = args['user_id'] ?? '-';
  if (!USER_ID.test(u)) throw new ArgumentError(`user_id=${u} is not a Fitbit user id (or - for the authorised user)`);
  return u;
}

/** …/date/BASE[/PERIOD|/END].json for the body logs (period and end_date optional, not both). */
function bodyLog(kind: 'weight' | 'fat', args: Args, today: string): string {
  const base = date(args['base_date'], 'base_date', today);
  const { period, end_date: end } = args;
  if (period && end) throw new ArgumentError('give period or end_date, not both');
  if (period && !PERIODS.has(period)) throw new ArgumentError(`period=${period} is not one of ${[...PERIODS].join(', ')}`);
  const tail = period ? `/${period}` : end ? `/${date(end, 'end_date', today)}` : '';
  return `/user/${userId(args)}/body/log/${kind}/date/${base}${tail}.json`;
}

function collection(resource: string): (args: Args, today: string) => string {
  return (args, today) => `/user/${userId(args)}/${resource}/date/${date(args['date'], 'date', today)}.json`;
}

export const METHODS: Record<string, (args: Args, today: string) => string> = {
  get_bodyweight: (args, today) => bodyLog('weight', args, today),
  get_bodyfat: (args, today) => bodyLog('fat', args, today),
  /** resource (body/weight, activities/steps, …) over base_date and a period or end_date: one is required. */
  time_series: (args) => {
    const resource = args['resource'];
    if (!resource || !RESOURCE.test(resource))
      throw new ArgumentError(
        `time_series needs resource=…, such as body/weight or activities/steps${resource ? ` (not ${resource})` : ''}`,
      );
    const base = date(args['base_date'], 'base_date', 'today');
    const { period, end_date: end } = args;
    if (period && end) throw new ArgumentError('give period or end_date, not both');
    if (!period && !end) throw new ArgumentError('time_series needs period=… (1d, 7d, 30d, 1w, 1m, 3m, 6m, 1y, max) or end_date=…');
    if (period && !PERIODS.has(period)) throw new ArgumentError(`period=${period} is not one of ${[...PERIODS].join(', ')}`);
    return `/user/${userId(args)}/${resource}/date/${base}/${period ?? date(end, 'end_date', 'today')}.json`;
  },
  /** Heart rate (resting rate and zones) per day, over a period (default 1d). */
  heart_rate: (args, today) => {
    const period = args['period'] ?? '1d';
    if (!PERIODS.has(period)) throw new ArgumentError(`period=${period} is not one of ${[...PERIODS].join(', ')}`);
    return `/user/${userId(args)}/activities/heart/date/${date(args['base_date'] ?? args['date'], 'date', today)}/${period}.json`;
  },
  activities: collection('activities'),
  sleep: collection('sleep'),
  body: collection('body'),
  heart: collection('heart'),
  foods_log: collection('foods/log'),
  foods_log_water: collection('foods/log/water'),
  user_profile_get: (args) => `/user/${userId(args)}/profile.json`,
};

/** Python-fitbit's names for a method, and the path it asks for. */
export function pathFor(method: string, args: Args, today = localDate()): string {
  const build = METHODS[method];
  if (!build) throw new ArgumentError(`unknown method ${method}; known: ${Object.keys(METHODS).join(', ')}`);
  return build(args, today);
}

/** Collection methods answer generic names (summary, goals): stored under the method's own, so none overwrites another's. */
const COLLECTIONS = new Set(['activities', 'sleep', 'body', 'heart', 'foods_log', 'foods_log_water']);

/**
 * One answer of the Fitbit Web API in the shared layout: `user` is the profile; a collection's `summary` and
 * `goals` become `METHOD-summary` entries by date (a daily history, not a value each day overwrites);
 * `activities-heart` keeps its resting rate beside the date, as the Google provider writes it.
 */
export function legacyAnswer(method: string, res: HttpResponse, args: Args, today = localDate()): JsonObject {
  const body = parsed(res);
  const answer: JsonObject = {};
  const prefix = method.replace(/_/g, '-');
  const first = prefix.split('-')[0]!;
  const dateTime = args['date'] && args['date'] !== 'today' ? args['date'] : today;
  for (const [name, value] of Object.entries(body)) {
    if (name === 'user') answer['profile'] = value;
    else if (name === 'activities-heart' && Array.isArray(value)) answer[name] = value.map(flattenHeart);
    else if (COLLECTIONS.has(method)) {
      // A day's collection: what has no key of its own is kept as that day's entry, so days add up to a history.
      const stored = name === first || name.startsWith(`${first}-`) ? name : `${prefix}-${name}`;
      if (Array.isArray(value) && value.some((e) => !hasKey(e))) answer[stored] = [{ dateTime, [name]: value }];
      else if (value !== null && typeof value === 'object' && !Array.isArray(value)) answer[stored] = [{ dateTime, ...value }];
      else answer[stored] = value;
    } else answer[name] = value;
  }
  return answer;
}

function hasKey(entry: Json): boolean {
  return !!entry && typeof entry === 'object' && !Array.isArray(entry) && ['logId', 'dateTime', 'date'].some((k) => k in entry);
}

function flattenHeart(entry: Json): Json {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return entry;
  const value = entry['value'];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return entry;
  const { value: _, ...rest } = entry;
  return { ...rest, ...value };
}

/** The JSON object of a successful answer, or the Problem Fitbit's answer means. */
function parsed(res: HttpResponse): JsonObject {
  if (res.status === 429)
    throw new ProviderProblem({ kind: 'rateLimited', retryAfter: retryAfterSeconds(res.headers.get('retry-after')) ?? 60 });
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new ProviderProblem({ kind: 'later', why: `Fitbit answered with something that is not JSON (HTTP ${res.status})` });
  }
  if (res.status >= 400) {
    const errors = (body as { errors?: { message?: string; errorType?: string }[] } | null)?.errors ?? [];
    const said = errors
      .map((e) => e?.message || e?.errorType)
      .filter(Boolean)
      .join('; ');
    const why = `Fitbit refused the request (HTTP ${res.status}${said ? `: ${said}` : ''})`;
    throw new ProviderProblem(res.status >= 500 ? { kind: 'later', why } : { kind: 'refused', why });
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ProviderProblem({ kind: 'later', why: 'Fitbit answered with something that is not an object' });
  return body as JsonObject;
}

/** Units of the stored series, by the Accept-Language Fitbit was sent: metric, en_US (lb, mi), en_GB (stone, km). */
export function legacyUnits(system: string, names: string[]): Record<string, Record<string, string>> {
  const units = system === 'en_US' ? 'imperial' : 'metric';
  const all: Record<string, Record<string, string>> = {};
  for (const kind of KINDS) Object.assign(all, kind.units(units));
  const weight = system === 'en_US' ? 'lb' : system === 'en_GB' ? 'st' : 'kg';
  all['weight'] = { weight, bmi: 'kg/m²' };
  all['body-weight'] = { value: weight };
  all['fat'] = { fat: '%' };
  return Object.fromEntries(Object.entries(all).filter(([name]) => names.includes(name)));
}
