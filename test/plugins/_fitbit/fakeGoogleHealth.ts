/**
 * A local Google: its OAuth 2.0 endpoints and the Health API v4, written from the checklist in
 * ../shared/specs/google-health-api.md section 8. OAuth: the authorisation redirect (offline access and
 * consent decide whether a refresh token is issued, PKCE S256 checked, a partial grant possible), the token
 * endpoint (client secret in the body or as Basic; a refresh answers without refresh_token), revocation.
 * API: Bearer tokens, scopes per data type, list with the filter grammar, newest first and opaque page
 * tokens, dailyRollUp per civil day with its range limits, proto3 JSON (int64 as strings, zeros left out),
 * and the error envelope for 400/401/403/429/5xx.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer } from '../../helpers.ts';

export const SCOPE = (s: string) => `https://www.googleapis.com/auth/googlehealth.${s}`;

/** One stored measurement: when (start, or the sample time), until when, the offset then, and its value object. */
export interface FakePoint {
  at: string;
  end?: string;
  /** The person's UTC offset then, in seconds. */
  offset: number;
  /** For daily types: the civil date. */
  date?: string;
  /** Identifiable types (weight, sleep) have a name; this is its last part. */
  id?: string;
  value: Record<string, unknown>;
}

type Kind = 'interval' | 'sample' | 'daily' | 'session';

const TYPES: Record<string, { kind: Kind; scope: string }> = {
  steps: { kind: 'interval', scope: 'activity_and_fitness' },
  distance: { kind: 'interval', scope: 'activity_and_fitness' },
  floors: { kind: 'interval', scope: 'activity_and_fitness' },
  'total-calories': { kind: 'interval', scope: 'activity_and_fitness' },
  'active-minutes': { kind: 'interval', scope: 'activity_and_fitness' },
  weight: { kind: 'sample', scope: 'health_metrics_and_measurements' },
  'body-fat': { kind: 'sample', scope: 'health_metrics_and_measurements' },
  'heart-rate': { kind: 'sample', scope: 'health_metrics_and_measurements' },
  'daily-resting-heart-rate': { kind: 'daily', scope: 'health_metrics_and_measurements' },
  'daily-oxygen-saturation': { kind: 'daily', scope: 'health_metrics_and_measurements' },
  sleep: { kind: 'session', scope: 'sleep' },
};
/** Roll-ups Google limits to 14 days; the rest to 90. */
const FOURTEEN_DAYS = new Set(['heart-rate', 'active-minutes', 'total-calories', 'calories-in-heart-rate-zone']);
/** total-calories exists only as a roll-up. */
const ROLLUP_ONLY = new Set(['total-calories']);

export interface FakeGoogle {
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  client: { id: string; secret: string };
  points: Map<string, FakePoint[]>;
  /** Every request: method, path (with query) and body. */
  requests: { method: string; path: string; body: string; authorised: boolean }[];
  /** What the last authorisation request asked for. */
  lastAuthorize?: Record<string, string>;
  grants: { authorization_code: number; refresh_token: number; revoke: number };
  /** Grant only these scopes (suffixes such as 'sleep.readonly'), as a person unticking boxes would. */
  grantOnly?: string[];
  /** Refresh answers 400 invalid_grant (revoked, or Testing mode's 7 days ran out). */
  refuseRefresh: boolean;
  /** Seconds an access token lives. */
  expiresIn: number;
  /** The next API request answers this, once. */
  next?: { status: number; reason?: string; retryAfter?: string };
  /** Every API request answers 400 ACCOUNT_NOT_LINKED. */
  notLinked: boolean;
  /** More than this many API requests a minute per token's user answer 429 RESOURCE_EXHAUSTED. */
  perMinute: number;
  healthUserId: string;
  accessTokens: Map<string, { refresh?: string; scope: string[]; expires: number }>;
  refreshTokens: Map<string, { scope: string[] }>;
  /** Ends every live access token now (so the next request is a 401 that needs a refresh). */
  expireAll(): void;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The civil date and time at `iso` for someone `offset` seconds from UTC. */
function civil(iso: string, offset: number): { date: string; time: string; object: Record<string, unknown> } {
  const d = new Date(Date.parse(iso) + offset * 1000);
  const date = d.toISOString().slice(0, 10);
  const [h, m, s] = [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  const time: Record<string, number> = {};
  // proto3 JSON leaves zeros out: midnight has no time at all.
  if (h) time['hours'] = h;
  if (m) time['minutes'] = m;
  if (s) time['seconds'] = s;
  return {
    date,
    time: `${pad(h)}:${pad(m)}:${pad(s)}`,
    object: {
      date: { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() },
      ...(Object.keys(time).length ? { time } : {}),
    },
  };
}

const camel = (t: string) => t.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const snake = (t: string) => t.replace(/-/g, '_');

/** int64 fields go out as strings, and zero fields not at all. */
function proto(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === 0 || v === false || v === '' || v === undefined || (typeof v === 'bigint' && v === BigInt(0))) continue;
    if (typeof v === 'bigint') out[k] = String(v);
    else if (Array.isArray(v)) out[k] = v.map((e) => (e && typeof e === 'object' ? proto(e as Record<string, unknown>) : e));
    else if (v && typeof v === 'object') out[k] = proto(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

function pointJson(type: string, p: FakePoint, user: string): Record<string, unknown> {
  const { kind } = TYPES[type]!;
  const value: Record<string, unknown> = { ...p.value };
  if (kind === 'sample') value['sampleTime'] = { physicalTime: p.at, utcOffset: `${p.offset}s`, civilTime: civil(p.at, p.offset).object };
  else if (kind === 'daily') {
    const [year, month, day] = p.date!.split('-').map(Number);
    value['date'] = { year, month, day };
  } else
    value['interval'] = {
      startTime: p.at,
      startUtcOffset: `${p.offset}s`,
      endTime: p.end,
      endUtcOffset: `${p.offset}s`,
      civilStartTime: civil(p.at, p.offset).object,
      civilEndTime: civil(p.end!, p.offset).object,
    };
  return proto({
    ...(p.id ? { name: `users/${user}/dataTypes/${type}/dataPoints/${p.id}` } : {}),
    dataSource: { recordingMethod: 'PASSIVELY_MEASURED', device: { displayName: 'Charge 6' }, platform: 'FITBIT' },
    [camel(type)]: value,
  });
}

function googleError(
  res: ServerResponse,
  code: number,
  status: string,
  message: string,
  reason?: string,
  headers: Record<string, string> = {},
) {
  const details = reason ? [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' }] : [];
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify({ error: { code, message, status, details } }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

interface Clause {
  field: string;
  op: '>=' | '<';
  literal: string;
}

/** The filter grammar of section 3.3: `type.field op "literal"` joined by AND (and OR for sleep). Undefined: a syntax error. */
function parseFilter(filter: string, type: string): Clause[][] | undefined {
  const groups: Clause[][] = [[]];
  const re = /\s*([a-z_]+(?:\.[a-z_]+)+)\s*(>=|<)\s*"([^"]+)"\s*(AND|OR)?/y;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < filter.length && (m = re.exec(filter))) {
    pos = re.lastIndex;
    if (!m[1]!.startsWith(`${snake(type)}.`)) return undefined;
    groups.at(-1)!.push({ field: m[1]!.slice(snake(type).length + 1), op: m[2] as '>=' | '<', literal: m[3]! });
    if (m[4] === 'OR') {
      if (type !== 'sleep') return undefined;
      groups.push([]);
    } else if (!m[4] && pos < filter.trim().length) return undefined;
  }
  if (pos < filter.trim().length || groups.some((g) => g.length === 0)) return undefined;
  return groups;
}

const FIELDS: Record<Kind, Record<string, 'physical' | 'civil'>> = {
  interval: { 'interval.start_time': 'physical', 'interval.civil_start_time': 'civil' },
  session: { 'interval.end_time': 'physical', 'interval.civil_end_time': 'civil' },
  sample: { 'sample_time.physical_time': 'physical', 'sample_time.civil_time': 'civil' },
  daily: { date: 'civil' },
};

function matches(p: FakePoint, type: string, clause: Clause): boolean | undefined {
  const { kind } = TYPES[type]!;
  const how = FIELDS[kind][clause.field];
  if (!how) return undefined;
  const instant = kind === 'session' ? p.end! : p.at;
  if (how === 'physical') {
    const lit = Date.parse(clause.literal);
    if (!Number.isFinite(lit) || !/Z$/.test(clause.literal)) return undefined;
    return clause.op === '>=' ? Date.parse(instant) >= lit : Date.parse(instant) < lit;
  }
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$/.test(clause.literal)) return undefined;
  const here = kind === 'daily' ? p.date! : `${civil(instant, p.offset).date}T${civil(instant, p.offset).time}`;
  const lit = kind === 'daily' ? clause.literal : clause.literal.length === 10 ? `${clause.literal}T00:00:00` : clause.literal;
  return clause.op === '>=' ? here >= lit : here < lit;
}

/** One day's roll-up value object of a type, from its points that day. */
function rollupValue(type: string, points: FakePoint[]): Record<string, unknown> {
  const sum = (field: string) => points.reduce((n, p) => n + Number(p.value[field] ?? 0), 0);
  switch (type) {
    case 'steps':
    case 'floors':
      return { countSum: BigInt(sum('count')) };
    case 'distance':
      return { millimetersSum: BigInt(sum('millimeters')) };
    case 'total-calories':
      return { kcalSum: sum('kcal') };
    case 'active-minutes': {
      const byLevel = new Map<string, number>();
      for (const p of points)
        for (const l of p.value['activeMinutesByActivityLevel'] as { activityLevel: string; activeMinutes: number }[])
          byLevel.set(l.activityLevel, (byLevel.get(l.activityLevel) ?? 0) + l.activeMinutes);
      return {
        activeMinutesRollupByActivityLevel: [...byLevel].map(([activityLevel, n]) => ({ activityLevel, activeMinutesSum: BigInt(n) })),
      };
    }
    case 'heart-rate': {
      const bpm = points.map((p) => Number(p.value['beatsPerMinute']));
      return {
        beatsPerMinuteAvg: bpm.reduce((a, b) => a + b, 0) / bpm.length,
        beatsPerMinuteMin: BigInt(Math.min(...bpm)),
        beatsPerMinuteMax: BigInt(Math.max(...bpm)),
      };
    }
    default:
      return {};
  }
}

/** The _fitbit settings that point the plugin at this fake (POST /plugin/_fitbit/settings as JSON). */
export function pluginSettings(fake: FakeGoogle): Record<string, string> {
  return {
    client_id: fake.client.id,
    client_secret: fake.client.secret,
    authorizeUrl: fake.authorizeUrl,
    tokenUrl: fake.tokenUrl,
    revokeUrl: fake.revokeUrl,
    apiBase: fake.url,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

export async function startFakeGoogle(
  client = { id: 'igor.apps.googleusercontent.com', secret: 'GOCSPX-fake-secret' },
): Promise<FakeGoogle> {
  const codes = new Map<string, { redirect: string; scope: string[]; challenge?: string; offline: boolean }>();
  const perMinute = new Map<string, number[]>();
  const fake: FakeGoogle = {
    url: '',
    authorizeUrl: '',
    tokenUrl: '',
    revokeUrl: '',
    client,
    points: new Map(),
    requests: [],
    grants: { authorization_code: 0, refresh_token: 0, revoke: 0 },
    refuseRefresh: false,
    expiresIn: 3599,
    notLinked: false,
    perMinute: 300,
    healthUserId: 'Hx7-jack-0001',
    accessTokens: new Map(),
    refreshTokens: new Map(),
    expireAll() {
      for (const t of fake.accessTokens.values()) t.expires = 0;
    },
  };

  function issue(scope: string[], refresh?: string): Record<string, unknown> {
    const access = `ya29.${randomBytes(12).toString('base64url')}`;
    fake.accessTokens.set(access, { refresh, scope, expires: Date.now() + fake.expiresIn * 1000 });
    return { access_token: access, expires_in: fake.expiresIn, scope: scope.join(' '), token_type: 'Bearer' };
  }

  function authorize(url: URL, res: ServerResponse): void {
    const q = Object.fromEntries(url.searchParams);
    fake.lastAuthorize = q;
    const redirect = q['redirect_uri'] ?? '';
    if (q['client_id'] !== client.id || q['response_type'] !== 'code' || !/^https?:\/\//.test(redirect))
      return json(res, 400, { error: 'invalid_request', error_description: 'client_id, redirect_uri and response_type=code are needed' });
    const asked = (q['scope'] ?? '').split(' ').filter(Boolean);
    const scope = fake.grantOnly ? asked.filter((s) => fake.grantOnly!.some((g) => s === SCOPE(g))) : asked;
    const code = `4/${randomBytes(12).toString('base64url')}`;
    codes.set(code, {
      redirect,
      scope,
      challenge: q['code_challenge_method'] === 'S256' ? q['code_challenge'] : undefined,
      // A refresh token only for offline access, and (for someone who consented before) only when consent is asked again.
      offline: q['access_type'] === 'offline' && q['prompt'] === 'consent',
    });
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    back.searchParams.set('state', q['state'] ?? '');
    back.searchParams.set('scope', scope.join(' '));
    res.writeHead(302, { location: back.href }).end();
  }

  function token(req: IncomingMessage, body: string, res: ServerResponse): void {
    const form = Object.fromEntries(new URLSearchParams(body));
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [id, secret] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':') : [form['client_id'], form['client_secret']];
    if (id !== client.id || secret !== client.secret)
      return json(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    if (form['grant_type'] === 'authorization_code') {
      const issued = codes.get(form['code'] ?? '');
      codes.delete(form['code'] ?? '');
      if (!issued || issued.redirect !== form['redirect_uri'])
        return json(res, 400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
      if (issued.challenge) {
        const verifier = form['code_verifier'] ?? '';
        if (createHash('sha256').update(verifier).digest('base64url') !== issued.challenge)
          return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid code verifier.' });
      }
      fake.grants.authorization_code++;
      const refresh = issued.offline ? `1//${randomBytes(16).toString('base64url')}` : undefined;
      if (refresh) fake.refreshTokens.set(refresh, { scope: issued.scope });
      return json(res, 200, { ...issue(issued.scope, refresh), ...(refresh ? { refresh_token: refresh } : {}) });
    }
    if (form['grant_type'] === 'refresh_token') {
      fake.grants.refresh_token++;
      const known = fake.refreshTokens.get(form['refresh_token'] ?? '');
      if (!known || fake.refuseRefresh)
        return json(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      return json(res, 200, issue(known.scope, form['refresh_token'])); // no refresh_token: Google does not rotate it
    }
    return json(res, 400, { error: 'unsupported_grant_type' });
  }

  function revoke(url: URL, body: string, res: ServerResponse): void {
    const value = url.searchParams.get('token') ?? new URLSearchParams(body).get('token') ?? '';
    fake.grants.revoke++;
    if (fake.refreshTokens.delete(value)) {
      for (const [access, t] of fake.accessTokens) if (t.refresh === value) fake.accessTokens.delete(access);
      return json(res, 200, {});
    }
    if (fake.accessTokens.delete(value)) return json(res, 200, {});
    return json(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
  }

  async function api(req: IncomingMessage, url: URL, body: string, res: ServerResponse): Promise<void> {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer)
      return googleError(res, 401, 'UNAUTHENTICATED', 'Request is missing required authentication credential.', 'CREDENTIALS_MISSING');
    const t = fake.accessTokens.get(bearer);
    if (!t || t.expires < Date.now())
      return googleError(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token. INVALID_AUTHENTICATOR',
        'ACCESS_TOKEN_EXPIRED',
      );
    fake.requests.at(-1)!.authorised = true;
    const now = Date.now();
    const recent = (perMinute.get(t.refresh ?? bearer) ?? []).filter((at) => at > now - 60_000);
    recent.push(now);
    perMinute.set(t.refresh ?? bearer, recent);
    if (recent.length > fake.perMinute)
      return googleError(res, 429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric per user per minute.', 'RATE_LIMIT_EXCEEDED');
    if (fake.next) {
      const { status, reason, retryAfter } = fake.next;
      fake.next = undefined;
      const name = status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT';
      return googleError(res, status, name, `The service answered ${status}.`, reason, retryAfter ? { 'retry-after': retryAfter } : {});
    }
    if (fake.notLinked)
      return googleError(res, 400, 'FAILED_PRECONDITION', 'The account is not linked to Google Health.', 'ACCOUNT_NOT_LINKED');
    const path = url.pathname;
    if (path === '/v4/users/me/identity')
      return json(res, 200, { name: 'users/me/identity', healthUserId: fake.healthUserId, legacyUserId: 'ABC123' });
    const m = /^\/v4\/users\/(me|[A-Za-z0-9-]+)\/dataTypes\/([^/:]+)\/dataPoints(:dailyRollUp)?$/.exec(path);
    if (!m) return googleError(res, 404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`);
    const type = m[2]!;
    const info = TYPES[type];
    if (!info)
      return googleError(res, 400, 'INVALID_ARGUMENT', `The data type ID ${type} is not supported.`, 'INVALID_PARENT_DATA_TYPE_COLLECTION');
    const scopeOk = t.scope.some((s) => s === SCOPE(`${info.scope}.readonly`) || s === SCOPE(info.scope));
    if (!scopeOk)
      return googleError(
        res,
        403,
        'PERMISSION_DENIED',
        'Request had insufficient authentication scopes.',
        'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
      );
    const points = fake.points.get(type) ?? [];
    if (m[3]) {
      if (req.method !== 'POST') return googleError(res, 404, 'NOT_FOUND', 'dailyRollUp is POSTed');
      let request: {
        range?: { start?: { date?: Record<string, unknown> }; end?: { date?: Record<string, unknown> } };
        windowSizeDays?: number;
      };
      try {
        request = JSON.parse(body);
      } catch {
        return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      }
      const dateOf = (d: Record<string, unknown> | undefined) =>
        d && [d['year'], d['month'], d['day']].every((n) => typeof n === 'number')
          ? `${d['year']}-${pad(d['month'] as number)}-${pad(d['day'] as number)}`
          : undefined;
      const start = dateOf(request.range?.start?.date);
      const end = dateOf(request.range?.end?.date);
      if (!start || !end || start >= end || (request.windowSizeDays ?? 1) !== 1)
        return googleError(res, 400, 'INVALID_ARGUMENT', 'range.start and range.end must be civil dates, start before end');
      const days = (Date.parse(end) - Date.parse(start)) / 86_400_000;
      if (days > (FOURTEEN_DAYS.has(type) ? 14 : 90))
        return googleError(res, 400, 'INVALID_ARGUMENT', `The range is longer than ${FOURTEEN_DAYS.has(type) ? 14 : 90} days.`);
      const rollups = [];
      for (let d = Date.parse(start); d < Date.parse(end); d += 86_400_000) {
        const day = new Date(d).toISOString().slice(0, 10);
        const those = points.filter((p) => civil(p.at, p.offset).date === day);
        if (!those.length) continue;
        const next = new Date(d + 86_400_000).toISOString().slice(0, 10);
        const civilDate = (s: string) => ({ date: { year: +s.slice(0, 4), month: +s.slice(5, 7), day: +s.slice(8, 10) } });
        rollups.push(proto({ civilStartTime: civilDate(day), civilEndTime: civilDate(next), [camel(type)]: rollupValue(type, those) }));
      }
      return json(res, 200, { rollupDataPoints: rollups });
    }
    if (ROLLUP_ONLY.has(type)) return googleError(res, 400, 'INVALID_ARGUMENT', `The data type ID ${type} is not supported.`);
    const q = url.searchParams;
    const groups = parseFilter(q.get('filter') ?? '', type);
    if (!groups) return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid filter.', 'INVALID_DATA_POINT_FILTER_SYNTAX');
    const selected: FakePoint[] = [];
    for (const p of points) {
      const results = groups.map((g) => g.map((c) => matches(p, type, c)));
      if (results.flat().some((r) => r === undefined))
        return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid filter field.', 'INVALID_DATA_POINT_FILTER_DATA_TYPE_RESTRICTION');
      if (results.some((g) => g.every(Boolean))) selected.push(p);
    }
    const timeOf = (p: FakePoint) => (info.kind === 'daily' ? p.date! : p.at);
    selected.sort((a, b) => timeOf(b).localeCompare(timeOf(a))); // newest first
    const cap = info.kind === 'session' ? 25 : 10_000;
    const size = Math.min(cap, Number(q.get('pageSize') ?? q.get('page_size') ?? (info.kind === 'session' ? 25 : 1440)) || cap);
    const token = q.get('pageToken') ?? q.get('page_token');
    const from = token
      ? Number(
          Buffer.from(token, 'base64url')
            .toString()
            .replace(/^offset:/, ''),
        )
      : 0;
    const page = selected.slice(from, from + size);
    const more = from + size < selected.length;
    return json(res, 200, {
      dataPoints: page.map((p) => pointJson(type, p, fake.healthUserId)),
      ...(more ? { nextPageToken: Buffer.from(`offset:${from + size}`).toString('base64url') } : {}),
    });
  }

  const { url } = await startHttpServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const body = await readBody(req);
    fake.requests.push({ method: req.method ?? 'GET', path: u.pathname + u.search, body, authorised: false });
    if (u.pathname === '/o/oauth2/v2/auth') return authorize(u, res);
    if (u.pathname === '/token' && req.method === 'POST') return token(req, body, res);
    if (u.pathname === '/revoke' && req.method === 'POST') return revoke(u, body, res);
    if (u.pathname.startsWith('/v4/')) return api(req, u, body, res);
    json(res, 404, { error: 'not found' });
  });
  Object.assign(fake, { url, authorizeUrl: `${url}/o/oauth2/v2/auth`, tokenUrl: `${url}/token`, revokeUrl: `${url}/revoke` });
  return fake;
}
