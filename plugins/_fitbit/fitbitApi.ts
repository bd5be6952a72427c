/**
 * The Fitbit Web API methods the plugin offers, as python-fitbit 0.3.1 names and builds them: each turns
 * keyword arguments into a path under /1. Arguments are checked before any call is made; a bad one throws
 * ArgumentError (a 400 for the caller).
 */
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
