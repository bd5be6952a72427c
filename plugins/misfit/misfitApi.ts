/**
 * Misfit's Resource API as python-misfit calls it: paths under /move/resource/v1/user/me/ (always with a
 * trailing slash), date ranges or object ids checked before any call, and its errors read as the library
 * reads them (a code in the body overrides the HTTP status).
 */
export class ArgumentError extends Error {}

export type Resource = 'profile' | 'device' | 'goal' | 'summary' | 'session' | 'sleep';
export const RESOURCES: Resource[] = ['profile', 'device', 'goal', 'summary', 'session', 'sleep'];

/** Where each resource lives, and the key its list comes in (also the name it is stored under). */
const PATHS: Record<Resource, { path: string; list?: string; ranged: boolean; stored: string }> = {
  profile: { path: 'profile/', ranged: false, stored: 'profile' },
  device: { path: 'device/', ranged: false, stored: 'device' },
  goal: { path: 'activity/goals/', list: 'goals', ranged: true, stored: 'goals' },
  summary: { path: 'activity/summary/', list: 'summary', ranged: true, stored: 'summary' },
  session: { path: 'activity/sessions/', list: 'sessions', ranged: true, stored: 'sessions' },
  sleep: { path: 'activity/sleeps/', list: 'sleeps', ranged: true, stored: 'sleeps' },
};

/** Notification collections and the resource that fetches one of their objects. */
export const BY_COLLECTION: Record<string, Resource> = {
  goals: 'goal',
  sessions: 'session',
  sleeps: 'sleep',
  profiles: 'profile',
  devices: 'device',
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_RANGE_DAYS = 30;

export interface Request {
  /** Path under /move/resource/v1/user/me/, with its query. */
  path: string;
  /** Name the answer is stored under in sensors/misfit/USER. */
  stored: string;
  /** The answer's list key, if it comes as a list. */
  list?: string;
}

export function storedName(resource: Resource): string {
  return PATHS[resource].stored;
}

export function requestFor(
  resource: string,
  args: { start_date?: string; end_date?: string; object_id?: string; detail?: string },
): Request {
  const spec = PATHS[resource as Resource];
  if (!spec) throw new ArgumentError(`unknown resource ${resource}; known: ${RESOURCES.join(', ')}`);
  const { start_date: start, end_date: end, object_id: id } = args;
  if (id !== undefined && id !== '') {
    if (resource === 'summary') throw new ArgumentError('summary takes a date range, not an object_id');
    if (!OBJECT_ID.test(id)) throw new ArgumentError(`object_id=${id} is not a Misfit object id`);
    return { path: `${spec.path}${id}/`, stored: spec.stored, ...(spec.list ? { list: spec.list } : {}) };
  }
  if (!spec.ranged) return { path: spec.path, stored: spec.stored };
  if (!start || !end)
    throw new ArgumentError(`${resource} needs start_date and end_date (YYYY-MM-DD)${resource === 'summary' ? '' : ', or object_id'}`);
  for (const [name, value] of [
    ['start_date', start],
    ['end_date', end],
  ] as const) {
    if (!DATE.test(value) || Number.isNaN(Date.parse(value))) throw new ArgumentError(`${name}=${value} is not a date (YYYY-MM-DD)`);
  }
  const days = (Date.parse(end) - Date.parse(start)) / 86_400_000;
  if (days < 0) throw new ArgumentError('start_date must not be after end_date');
  if (days > MAX_RANGE_DAYS)
    throw new ArgumentError(`Misfit gives at most ${MAX_RANGE_DAYS} days at a time (${start} to ${end} is ${days})`);
  const query = new URLSearchParams({ start_date: start, end_date: end });
  if (resource === 'summary') query.set('detail', args.detail === 'false' ? 'false' : 'true');
  return { path: `${spec.path}?${query}`, stored: spec.stored, ...(spec.list ? { list: spec.list } : {}) };
}

export interface MisfitFailure {
  status: number;
  message: string;
}

/** How python-misfit reads an error answer: `code`/`error_code` and `message`/`error_message` in a JSON body win. */
export function failureOf(status: number, body: string): MisfitFailure {
  let code = status;
  let message = 'Unknown error';
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    if (parsed && typeof parsed === 'object') {
      const m = parsed['message'] ?? parsed['error_message'];
      const c = parsed['code'] ?? parsed['error_code'];
      if (typeof m === 'string' && m) message = m;
      if (typeof c === 'number' && c >= 400 && c < 600) code = c;
    }
  } catch {
    /* a body that is not JSON keeps the HTTP status */
  }
  return { status: code, message };
}

/** Today and six days before, as Misfit dates (UTC). */
export function lastWeek(now = new Date()): { start_date: string; end_date: string } {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return { start_date: day(new Date(now.getTime() - 6 * 86_400_000)), end_date: day(now) };
}
