/**
 * The periodic fetch: for each person, what to ask which provider for (only what is newer than the last
 * stored point; the first time `backfillDays` back), merging it into sensors/fitbit/USER with its units, and
 * what to do when a provider says no — translated once from Problems into the host's vocabulary: authorise
 * again (403), slow down (429 with Retry-After, a growing pause with jitter, retried by itself), try later
 * (502). How each person's last fetch went is kept, and status/sensors/NAME says it in one sentence each.
 */
import type { Json, JsonObject, OAuth2Client, PluginHost, PluginSettings } from 'igor-ts/plugin-api';
import { ArgumentError, legacyAnswer, legacyUnits, pathFor } from './fitbitApi.ts';
import { enabledKinds, filterName, granted, scopeUrl, type Kind, type Units } from './dataTypes.ts';
import { GoogleHealthApi, isObject, toCivil } from './googleHealthApi.ts';
import { ProviderProblem, type Problem } from './problems.ts';

export const SENSORS = 'sensors/fitbit';
/** Per-user keys that are not method arguments (legacy provider). */
const NOT_ARGUMENTS = new Set(['token', 'methods', 'needsAuthorisation', 'user', '_csrf', 'returnTo', 'units']);
/** Backing off after a 429: the first pause, and the longest. */
const FIRST_PAUSE_S = 60;
const LONGEST_PAUSE_S = 3600;
/**
 * The longest Retry-After taken as said: a day (the scheduled fetches go on meanwhile). Longer is read as a day,
 * and a timer cannot wait more than 24.8 days anyway: setTimeout fires at once beyond that, which would hammer.
 */
const LONGEST_RETRY_AFTER_S = 86_400;
/** Converting what is stored when a person changes units. */
const FACTORS: Record<string, [factor: number, places: number]> = {
  'kg>lb': [1 / 0.45359237, 1],
  'lb>kg': [0.45359237, 2],
  'km>mi': [1 / 1.609344, 3],
  'mi>km': [1.609344, 3],
};

/**
 * The pause after the attempt-th 429 in a row: what the provider asked for (up to a day), else a doubling pause
 * from a minute, capped at an hour, with jitter (half to all of it) so that many servers do not come back at once.
 */
export function backoffSeconds(attempt: number, retryAfter?: number, random = Math.random): number {
  if (retryAfter !== undefined) return Math.min(Math.max(1, retryAfter), LONGEST_RETRY_AFTER_S);
  return Math.max(1, Math.round(Math.min(LONGEST_PAUSE_S, FIRST_PAUSE_S * 2 ** attempt) * (0.5 + random() / 2)));
}
const DAY_MS = 86_400_000;

/** Only the points of one data type in one interval (a webhook notification). */
export interface Narrow {
  kind: Kind;
  /** RFC 3339 instants. */
  start: string;
  end: string;
}

function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

/** When an entry of the layout was measured, as sortable text. */
function timeOf(entry: JsonObject): string {
  const date = text(entry['date']);
  return text(entry['dateTime']) || (date ? `${date}T${text(entry['time'])}` : text(entry['startTime']));
}

/** Oldest first. ISO times of one form sort as text (localeCompare would load ICU's collation tables, 2 MB). */
function byTime(a: JsonObject, b: JsonObject): number {
  const [x, y] = [timeOf(a), timeOf(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The local date of the server, which stands for the person's until their data says otherwise. */
function today(): number {
  const now = new Date();
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
}

export function createSync(host: PluginHost, oauth: OAuth2Client, settings: PluginSettings) {
  const provider = () => settings.get('provider');
  const providerName = () => (provider() === 'fitbit-legacy' ? 'Fitbit' : 'Google Health');
  const backoff = new Map<string, { attempt: number; until: number }>();
  const retries = new Map<string, NodeJS.Timeout>();
  /** How each person's last fetch went: the sentence to show, or undefined when it went well. */
  const outcomes = new Map<string, string | undefined>();
  const userBase = (user: string) => `/data/identities/${user}/plugindata/${host.name}`;

  function unitsOf(userData: JsonObject): Units {
    return text(userData['units']) === 'imperial' ? 'imperial' : 'metric';
  }

  // --- Google Health -------------------------------------------------------------------------------

  const api = (user: string) =>
    new GoogleHealthApi((url, req) => oauth.request(user, url, req), settings.get('apiBase').replace(/\/+$/, ''));

  /** The points of one kind newer than `since` (or from `from`), or only those of a notification's interval. */
  async function pointsOf(
    gh: GoogleHealthApi,
    kind: Kind,
    since: string | undefined,
    from: string,
    narrow?: Narrow,
  ): Promise<JsonObject[]> {
    const f = filterName(kind.dataType);
    const quote = (v: string) => `"${v}"`;
    if (kind.how === 'rollup') {
      const first = narrow ? Date.parse(narrow.start.slice(0, 10)) : Date.parse(since ?? from);
      const last = narrow ? Date.parse(narrow.end.slice(0, 10)) + DAY_MS : today() + DAY_MS;
      const points: JsonObject[] = [];
      const step = (kind.maxDays ?? 90) * DAY_MS;
      for (let start = first; start < last; start += step) {
        const end = Math.min(start + step, last);
        points.push(...(await gh.dailyRollUp(kind.dataType, toCivil(isoDate(start)), toCivil(isoDate(end)))));
      }
      return points;
    }
    if (kind.how === 'daily') {
      const start = narrow ? narrow.start.slice(0, 10) : (since ?? from);
      const end = narrow ? ` AND ${f}.date < ${quote(isoDate(Date.parse(narrow.end.slice(0, 10)) + DAY_MS))}` : '';
      return gh.list(kind.dataType, `${f}.date >= ${quote(start)}${end}`);
    }
    const field = kind.how === 'sessions' ? `${f}.interval.end_time` : `${f}.sample_time.physical_time`;
    const civil = kind.how === 'sessions' ? `${f}.interval.civil_end_time` : `${f}.sample_time.civil_time`;
    const filter = narrow
      ? `${field} >= ${quote(narrow.start)} AND ${field} < ${quote(narrow.end)}`
      : since
        ? `${field} >= ${quote(since)}`
        : `${civil} >= ${quote(from)}`;
    return gh.list(kind.dataType, filter, kind.how === 'sessions' ? 25 : 1000);
  }

  /**
   * One person's Google Health data: each kind of data they want, stored as it comes. A kind whose scope Google
   * did not grant (as its token answer says, or as a 403 for that kind says) is skipped and named in
   * `notGranted`; the rest comes in, now and at every fetch after, and the person stays authorised.
   */
  async function syncGoogle(user: string, userData: JsonObject, narrow?: Narrow): Promise<{ stored: JsonObject; notGranted?: string }> {
    const gh = api(user);
    const grantedScopes = oauth.grantedScopes(user);
    const days = Number(settings.get('backfillDays')) || 30;
    const from = isoDate(today() - (days - 1) * DAY_MS);
    const cursors = isObject(userData['_sync']) ? userData['_sync'] : {};
    const stored: Record<string, number> = {};
    const notGranted: string[] = [];
    if (!text(userData['_healthUserId'])) {
      // Who this person is at Google: webhook notifications name them by it.
      const { healthUserId } = await gh.identity();
      if (healthUserId && /^[A-Za-z0-9-]{1,63}$/.test(healthUserId)) await host.data.put(`${userBase(user)}/_healthUserId`, healthUserId);
    }
    for (const kind of narrow ? [narrow.kind] : enabledKinds(settings.get('data'))) {
      if (!granted(grantedScopes, kind.scope)) {
        notGranted.push(`${kind.name} (${scopeUrl(kind.scope)})`);
        continue;
      }
      const since = text(cursors[kind.name]) || undefined;
      let points: JsonObject[];
      try {
        points = await pointsOf(gh, kind, since, from, narrow);
      } catch (err) {
        if (err instanceof ProviderProblem && err.problem.kind === 'reauthorise' && err.problem.missingScope) {
          notGranted.push(`${kind.name} (${scopeUrl(kind.scope)})`);
          continue;
        }
        throw err;
      }
      await convertStored(user, kind, unitsOf(userData));
      const { series, latest } = kind.convert(points, unitsOf(userData));
      // Google answers newest first: stored oldest first, so a series reads in time order.
      for (const entries of Object.values(series)) entries.sort(byTime);
      Object.assign(stored, await host.storeSeries(`/data/${SENSORS}/${user}`, series, { units: kind.units(unitsOf(userData)) }));
      if (latest && (!since || latest > since)) await host.data.put(`${userBase(user)}/_sync/${kind.name}`, latest);
    }
    if (notGranted.length === 0) return { stored };
    const notice = `Google did not grant Igor access to ${notGranted.join(', ')}; to get it, authorise again and allow it, or leave it out of the data setting`;
    host.logger.info(`${user}: ${notice}`);
    return { stored, notGranted: notice };
  }

  /**
   * When a person switches between metric and imperial, what is stored is converted too, so that a series
   * never mixes kilograms with pounds (older points than a fetch asks for would otherwise stay as they were).
   */
  async function convertStored(user: string, kind: Kind, units: Units): Promise<void> {
    const base = `/data/${SENSORS}/${user}`;
    for (const [element, fields] of Object.entries(kind.units(units))) {
      for (const [field, unit] of Object.entries(fields)) {
        const was = text(host.data.get(`${base}/units/${element}/${field}`));
        const conversion = FACTORS[`${was}>${unit}`];
        if (!conversion) continue;
        const [factor, places] = conversion;
        const changes = host.data.getAll(`${base}/${element}`).flatMap((entry, i) => {
          if (!isObject(entry) || typeof entry[field] !== 'number') return [];
          return [
            {
              op: 'put' as const,
              xpath: `${base}/${element}[${i + 1}]/${field}`,
              value: Math.round(entry[field] * factor * 10 ** places) / 10 ** places,
            },
          ];
        });
        await host.data.batch([...changes, { op: 'put', xpath: `${base}/units/${element}/${field}`, value: unit }]);
      }
    }
  }

  // --- Fitbit Web API (legacy) ---------------------------------------------------------------------

  async function syncLegacy(user: string, userData: JsonObject, params: Record<string, string>): Promise<JsonObject> {
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(userData)) if (!NOT_ARGUMENTS.has(k) && !k.startsWith('_') && text(v)) args[k] = text(v);
    for (const [k, v] of Object.entries(params)) if (!NOT_ARGUMENTS.has(k)) args[k] = v;
    const methods = (params['methods'] || text(userData['methods']) || 'get_bodyweight')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    let paths: string[];
    try {
      paths = methods.map((m) => pathFor(m, args));
    } catch (err) {
      if (err instanceof ArgumentError) host.fail(400, err.message);
      throw err;
    }
    const system = settings.get('system');
    const base = settings.get('apiBase').replace(/\/+$/, '');
    const answer: JsonObject = {};
    for (const [i, path] of paths.entries()) {
      const res = await oauth.request(user, `${base}/1${path}`, {
        headers: { accept: 'application/json', ...(system ? { 'accept-language': system } : {}) },
      });
      Object.assign(answer, legacyAnswer(methods[i]!, res, args));
    }
    const counts = await host.storeSeries(`/data/${SENSORS}/${user}`, answer, {
      keys: ['logId', 'dateTime', 'date'],
      units: legacyUnits(system, Object.keys(answer)),
    });
    return { methods, stored: counts };
  }

  // --- one person's fetch, and what its failures mean -----------------------------------------------

  /** A Problem (or the host's own refusal) as the answer to the caller, recording the person's outcome. */
  async function failed(user: string, err: unknown, retry: () => Promise<unknown>): Promise<never> {
    const problem: Problem | undefined = err instanceof ProviderProblem ? err.problem : undefined;
    const name = providerName();
    if (problem?.kind === 'rateLimited') {
      const state = backoff.get(user) ?? { attempt: 0, until: 0 };
      const seconds = backoffSeconds(state.attempt, problem.retryAfter);
      backoff.set(user, { attempt: state.attempt + 1, until: Date.now() + seconds * 1000 });
      scheduleRetry(user, seconds, retry);
      const when = new Date(Date.now() + seconds * 1000).toISOString();
      const sentence = `${name}'s rate limit for ${user}: it will be tried again at ${when} (in ${seconds} s)`;
      outcomes.set(user, sentence);
      await recordOverall();
      host.fail(429, sentence, { 'retry-after': String(seconds) });
    }
    if (problem?.kind === 'reauthorise') {
      await oauth.requireAuthorisation(user, problem.why);
      outcomes.set(user, undefined); // the host says it, as for every user who must authorise again
      await recordOverall();
      host.fail(403, `${user} must authorise ${host.name} again: ${problem.why}. Open /plugin/${host.name}/page/setup.html?user=${user}`);
    }
    const message =
      problem?.kind === 'later'
        ? `${problem.why}; the next fetch tries again`
        : problem?.kind === 'refused'
          ? problem.why
          : (err as Error).message;
    const status = (err as { status?: number }).status;
    if (status === 403)
      outcomes.set(user, undefined); // must authorise again: the host has recorded why
    else outcomes.set(user, `${user}: ${message}`);
    await recordOverall();
    if (problem) host.fail(502, message);
    throw err;
  }

  function scheduleRetry(user: string, seconds: number, retry: () => Promise<unknown>): void {
    if (retries.has(user)) return;
    const timer = setTimeout(() => {
      retries.delete(user);
      retry().catch(() => {}); // its outcome is recorded like any fetch's
    }, seconds * 1000);
    timer.unref();
    retries.set(user, timer);
  }

  /** status/sensors/NAME: fine, or one sentence per person whose data does not come in, with what to do. */
  async function recordOverall(): Promise<void> {
    const problems = overallProblems();
    await host.recordStatus(`sensors/${host.name}`, problems.length ? { ok: false, message: problems.join('\n') } : { ok: true });
  }

  function overallProblems(): string[] {
    const users = host.data.refs(`/data/identities/*/plugindata/${host.name}`).map((ref) => ref.split('/')[3]!);
    const problems: string[] = [];
    for (const user of users) {
      if (oauth.state(user) === 'reauthorise') {
        const why = text(host.userData(user)?.['needsAuthorisation']);
        problems.push(`${user} must authorise ${host.name} again${why && why !== 'true' ? `: ${why}` : ''}.`);
      } else if (outcomes.get(user)) problems.push(outcomes.get(user)!);
    }
    return problems;
  }

  /** Fetches one person's data from the chosen provider (or only a notification's interval). */
  async function fetchFor(user: string, params: Record<string, string> = {}, narrow?: Narrow): Promise<JsonObject> {
    if (!settings.get('client_id') || !settings.get('client_secret')) {
      host.fail(
        400,
        `${host.name} is not set up: an admin enters the ${providerName()} client id and secret on /plugin/${host.name}/page/setup.html`,
      );
    }
    const userData = host.userData(user);
    if (!userData) host.fail(404, `${user} has no ${host.name} entry yet: create it on /plugin/${host.name}/page/setup.html?user=${user}`);
    const waiting = backoff.get(user);
    if (waiting && waiting.until > Date.now()) {
      const seconds = Math.ceil((waiting.until - Date.now()) / 1000);
      host.fail(429, `${providerName()}'s rate limit for ${user} (still): it will be tried again in ${seconds} s`, {
        'retry-after': String(seconds),
      });
    }
    try {
      const result =
        provider() === 'fitbit-legacy'
          ? await syncLegacy(user, userData, params)
          : { provider: 'google-health', ...(await syncGoogle(user, userData, narrow)) };
      backoff.delete(user);
      outcomes.set(user, undefined);
      await recordOverall(); // a success clears the person's old error at once
      return { user, ...result };
    } catch (err) {
      return failed(user, err, () => fetchFor(user, params, narrow));
    }
  }

  /** Everyone who authorised, one after the other; fails (for the action's status) if anyone's data does not come in. */
  async function fetchAll(): Promise<JsonObject> {
    const users: JsonObject = {};
    for (const user of oauth.authorisedUsers()) users[user] = await fetchFor(user).catch((err: Error) => ({ error: err.message }));
    const problems = overallProblems();
    if (problems.length) host.fail(502, problems.join('\n'));
    return { users };
  }

  return {
    fetchFor,
    fetchAll,
    /** The person whose Google healthUserId this is. */
    userOfHealthId(id: string): string | undefined {
      if (!/^[A-Za-z0-9-]{1,63}$/.test(id)) return undefined;
      return host.data.refs(`/data/identities/*/plugindata/${host.name}[_healthUserId='${id}']`)[0]?.split('/')[3];
    },
    stop() {
      for (const timer of retries.values()) clearTimeout(timer);
      retries.clear();
    },
  };
}

export type Sync = ReturnType<typeof createSync>;
