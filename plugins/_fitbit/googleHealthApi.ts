/**
 * A thin client of the Google Health API v4 (../shared/specs/google-health-api.md): the user's identity, a
 * data type's points (`list`, newest first, every page) and its daily roll-ups, with proto3 JSON read as it
 * comes (int64 as strings, durations as "7200s", zero fields left out) and Google's errors translated once
 * into Problems. It knows nothing of the tree.
 */
import type { HttpRequest, HttpResponse, Json, JsonObject } from 'igor-ts/plugin-api';
import { ProviderProblem, retryAfterSeconds } from './problems.ts';

export const SCOPE_PREFIX = 'https://www.googleapis.com/auth/googlehealth.';

export type Fetch = (url: string, req?: HttpRequest) => Promise<HttpResponse>;

/** A civil date as Google writes it in requests and answers. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** How many pages a list may take before we stop (a runaway nextPageToken must not loop for ever). */
const MAX_PAGES = 200;

export class GoogleHealthApi {
  constructor(
    private readonly fetch: Fetch,
    /** e.g. https://health.googleapis.com, without /v4. */
    private readonly base: string,
  ) {}

  /** The user's healthUserId (what webhook notifications name them by). */
  async identity(): Promise<{ healthUserId?: string; legacyUserId?: string }> {
    const body = await this.call('GET', 'users/me/identity');
    return { healthUserId: str(body['healthUserId']), legacyUserId: str(body['legacyUserId']) };
  }

  /**
   * Every data point of `dataType` (kebab-case) matching `filter`, walking the pages until the last one;
   * `pageSize` 25 for sleep and exercise, as Google caps them.
   */
  async list(dataType: string, filter: string, pageSize = 1000): Promise<JsonObject[]> {
    const points: JsonObject[] = [];
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({ filter, pageSize: String(pageSize), ...(pageToken ? { pageToken } : {}) });
      const body = await this.call('GET', `users/me/dataTypes/${dataType}/dataPoints?${query}`);
      for (const p of arr(body['dataPoints'])) if (isObject(p)) points.push(p);
      pageToken = str(body['nextPageToken']) ?? '';
      if (!pageToken) return points;
    }
    throw new ProviderProblem({ kind: 'later', why: `Google Health kept answering more pages of ${dataType} (over ${MAX_PAGES})` });
  }

  /** One roll-up per civil day from `start` up to (not including) `end`, as Google gives them. */
  async dailyRollUp(dataType: string, start: CivilDate, end: CivilDate): Promise<JsonObject[]> {
    const body = await this.call('POST', `users/me/dataTypes/${dataType}/dataPoints:dailyRollUp`, {
      range: { start: { date: { ...start } }, end: { date: { ...end } } },
      windowSizeDays: 1,
    });
    return arr(body['rollupDataPoints']).filter(isObject);
  }

  private async call(method: 'GET' | 'POST', path: string, body?: JsonObject): Promise<JsonObject> {
    // The colon of a custom method (dataPoints:dailyRollUp) is sent as it is: Google's paths need it literal.
    const url = `${this.base}/v4/${path}`;
    // Network failures and the host's own refusals (authorise again) pass through: sync.ts words them.
    const res = await this.fetch(url, {
      method,
      headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status >= 400) throw new ProviderProblem(problemOf(res));
    try {
      const parsed = JSON.parse(res.body) as Json;
      if (isObject(parsed)) return parsed;
    } catch {
      /* below */
    }
    throw new ProviderProblem({ kind: 'later', why: `Google Health answered with something that is not JSON (HTTP ${res.status})` });
  }
}

/** Google's error envelope ({error:{code,status,message,details:[{reason}]}}) as a Problem. */
export function problemOf(res: HttpResponse): ConstructorParameters<typeof ProviderProblem>[0] {
  let reason = '';
  let status = '';
  try {
    const e = (JSON.parse(res.body) as { error?: { status?: string; details?: { reason?: string }[] } }).error;
    status = e?.status ?? '';
    reason = e?.details?.find((d) => typeof d?.reason === 'string')?.reason ?? '';
  } catch {
    /* a body that is not Google's envelope: the status decides */
  }
  if (res.status === 429) return { kind: 'rateLimited', retryAfter: retryAfterSeconds(res.headers.get('retry-after')) };
  if (reason === 'ACCESS_TOKEN_SCOPE_INSUFFICIENT')
    return { kind: 'reauthorise', why: 'Google did not grant Igor access to all the data it reads', missingScope: true };
  if (reason === 'ACCOUNT_NOT_LINKED')
    return {
      kind: 'reauthorise',
      why: 'this Google account has no Fitbit or Google Health data; authorise with the Google account your Fitbit uses',
    };
  if (reason === 'SERVICE_DISABLED')
    return { kind: 'refused', why: 'the Google Health API is not enabled in the Google Cloud project of this client id' };
  if (res.status === 403) return { kind: 'reauthorise', why: 'Google refused access to this account (403 PERMISSION_DENIED)' };
  if (res.status >= 500) return { kind: 'later', why: `Google Health had a problem (HTTP ${res.status}${status ? ` ${status}` : ''})` };
  return {
    kind: 'refused',
    why: `Google Health refused the request (HTTP ${res.status}${reason ? ` ${reason}` : status ? ` ${status}` : ''})`,
  };
}

// proto3 JSON, read defensively: a missing field is its zero value, int64 comes as a string.

export function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function obj(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

export function arr(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A scalar as text; nothing, null or an object as ''. */
export function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

/** A number sent as a number or (int64) as a string; a missing field is 0. */
export function num(value: Json | undefined): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return 0;
}

/** A Duration ("7200s", "-14400s", "1.5s") in seconds; missing is 0. */
export function seconds(value: Json | undefined): number {
  const m = typeof value === 'string' ? /^(-?\d+(?:\.\d+)?)s$/.exec(value.trim()) : null;
  return m ? Number(m[1]) : typeof value === 'number' ? value : 0;
}

/** A CivilDate object ({year, month, day}) as YYYY-MM-DD, or undefined. */
export function civilDate(value: Json | undefined): string | undefined {
  const d = obj(value);
  const year = num(d['year']);
  if (!year) return undefined;
  return `${year}-${pad(num(d['month']) || 1)}-${pad(num(d['day']) || 1)}`;
}

/** A CivilDateTime ({date, time}) as YYYY-MM-DD and HH:MM:SS (midnight when time is left out). */
export function civilDateTime(value: Json | undefined): { date?: string; time: string } {
  const v = obj(value);
  const t = obj(v['time']);
  return { date: civilDate(v['date']), time: `${pad(num(t['hours']))}:${pad(num(t['minutes']))}:${pad(num(t['seconds']))}` };
}

/**
 * The person's local date and time of a physical instant: UTC plus the offset Google sent with it. Without
 * an offset the civil time Google derived is used, and failing that UTC.
 */
export function localTime(physical: Json | undefined, offset: Json | undefined, civil?: Json): { date: string; time: string } | undefined {
  const at = typeof physical === 'string' ? Date.parse(physical) : Number.NaN;
  if (Number.isFinite(at) && (offset !== undefined || civil === undefined)) {
    const iso = new Date(at + seconds(offset) * 1000).toISOString();
    return { date: iso.slice(0, 10), time: iso.slice(11, 19) };
  }
  const c = civilDateTime(civil);
  return c.date ? { date: c.date, time: c.time } : undefined;
}

export function toCivil(date: string): CivilDate {
  const [year, month, day] = date.split('-').map(Number);
  return { year: year!, month: month!, day: day! };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
