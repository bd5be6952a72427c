/**
 * _fitbit: health data from the Fitbit Web API into sensors/fitbit/USER, for each user who authorised it
 * (OAuth2 through the host's helper). Methods and URL patterns follow python-fitbit, which Igor's plugin used.
 */
import type { Json, JsonObject, PluginCall, PluginDefinition, PluginHost } from 'igor-ts/plugin-api';
import { ArgumentError, pathFor } from './fitbitApi.ts';

const DEFAULTS = { apiBase: 'https://api.fitbit.com', authBase: 'https://www.fitbit.com' };
const SCOPE = ['activity', 'nutrition', 'heartrate', 'location', 'profile', 'settings', 'sleep', 'social', 'weight'];
/** Per-user keys that are not method arguments. */
const NOT_ARGUMENTS = new Set(['token', 'methods', 'needsAuthorisation', 'user', '_csrf', 'returnTo']);
const SETTINGS = ['client_id', 'client_secret', 'system', 'apiBase', 'authBase', 'tokenUrl'] as const;
const SENSORS = 'sensors/fitbit';

function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

function localPath(returnTo: string | undefined): string | undefined {
  return returnTo && returnTo.startsWith('/') && !returnTo.startsWith('//') && !returnTo.includes('\\') ? returnTo : undefined;
}

function create(host: PluginHost) {
  const settings = () => host.settings();
  const setting = (key: string) => text(settings()[key]);
  const apiBase = () => (setting('apiBase') || DEFAULTS.apiBase).replace(/\/+$/, '');
  const oauth = host.oauth2(() => ({
    authorizeUrl: `${(setting('authBase') || DEFAULTS.authBase).replace(/\/+$/, '')}/oauth2/authorize`,
    tokenUrl: setting('tokenUrl') || `${apiBase()}/oauth2/token`,
    clientId: setting('client_id'),
    clientSecret: setting('client_secret'),
    scope: SCOPE,
  }));
  /** Users Fitbit asked us to leave alone, until when (ms), and the retries waiting for that. */
  const rateLimited = new Map<string, number>();
  const retries = new Map<string, NodeJS.Timeout>();

  /** One call to the API for a user: JSON back, or a clear error. */
  async function get(user: string, path: string): Promise<JsonObject> {
    const system = setting('system');
    const res = await oauth.request(user, `${apiBase()}/1${path}`, {
      headers: { accept: 'application/json', ...(system ? { 'accept-language': system } : {}) },
    });
    if (res.status === 429) {
      const seconds = Math.max(1, Number.parseInt(res.headers.get('retry-after') ?? '', 10) || 60);
      throw new RateLimited(seconds);
    }
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      host.fail(502, `Fitbit answered ${path} with something that is not JSON (HTTP ${res.status})`);
    }
    if (res.status >= 400) {
      const errors = (body as { errors?: { message?: string; errorType?: string }[] }).errors ?? [];
      const message =
        errors
          .map((e) => e.message || e.errorType)
          .filter(Boolean)
          .join('; ') || `HTTP ${res.status}`;
      host.fail(502, `Fitbit refused ${path}: ${message}`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      host.fail(502, `Fitbit answered ${path} with something that is not an object`);
    return body as JsonObject;
  }

  /** Runs the methods for a user and merges what they answer into sensors/fitbit/USER. */
  async function fetchFor(user: string, userData: JsonObject | undefined, params: Record<string, string>): Promise<JsonObject> {
    if (!setting('client_id') || !setting('client_secret')) {
      host.fail(
        400,
        `${host.name} is not set up: an admin enters the Fitbit app's client_id and client_secret on /plugin/${host.name}/page/setup.html`,
      );
    }
    if (!userData) host.fail(404, `${user} has no ${host.name} entry yet: create it on /plugin/${host.name}/page/setup.html?user=${user}`);
    const until = rateLimited.get(user);
    if (until !== undefined && until > Date.now()) throw new RateLimited(Math.ceil((until - Date.now()) / 1000), true);
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(userData)) if (!NOT_ARGUMENTS.has(k) && text(v)) args[k] = text(v);
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
    const answer: JsonObject = {};
    for (const path of paths) {
      for (const [name, value] of Object.entries(await get(user, path))) answer[name === 'user' ? 'profile' : name] = value; // the profile's `user`
    }
    // Fitbit's own keys: a weight log by logId, a time series by dateTime.
    const counts = await host.storeSeries(`/data/${SENSORS}/${user}`, answer, ['logId', 'dateTime', 'date']);
    rateLimited.delete(user);
    return { user, methods, stored: counts };
  }

  /** A 429 from Fitbit: answer when it will be tried again, and try then. */
  function rateLimitReply(user: string, err: RateLimited, retry: () => Promise<unknown>) {
    const when = new Date(Date.now() + err.seconds * 1000);
    rateLimited.set(user, when.getTime());
    if (!retries.has(user)) {
      const timer = setTimeout(() => {
        retries.delete(user);
        rateLimited.delete(user);
        retry().then(
          () => host.recordStatus(`sensors/${host.name}`, { ok: true }),
          (e: Error) => host.recordStatus(`sensors/${host.name}`, { ok: false, message: `retry for ${user} failed: ${e.message}` }),
        );
      }, err.seconds * 1000);
      timer.unref();
      retries.set(user, timer);
    }
    const message = `Fitbit's rate limit for ${user}${err.known ? ' (still)' : ''}: it will be tried again at ${when.toISOString()} (in ${err.seconds} s)\n`;
    return host.reply(429, message, { 'retry-after': String(err.seconds), 'content-type': 'text/plain; charset=utf-8' });
  }

  async function index(call: PluginCall) {
    const user = call.user ?? host.fail(400, `${host.name} needs user=NAME: whose Fitbit data to get`);
    try {
      return await fetchFor(user, call.userData, call.params);
    } catch (err) {
      if (err instanceof RateLimited) return rateLimitReply(user, err, () => fetchFor(user, host.userData(user), call.params));
      throw err;
    }
  }

  /** Every user who authorised the plugin (what the periodic action calls). */
  async function all() {
    return { users: await oauth.forAuthorisedUsers((user) => fetchFor(user, host.userData(user), {})) };
  }

  async function settingsMethod(call: PluginCall) {
    if (call.method === 'POST' || Object.keys(call.params).some((k) => (SETTINGS as readonly string[]).includes(k))) {
      const changes: { op: 'put'; xpath: string; value: Json }[] = [];
      for (const key of SETTINGS) {
        const value = call.params[key]?.trim();
        if (value === undefined || (value === '' && key === 'client_secret')) continue; // an empty secret field keeps the secret
        if (['apiBase', 'authBase', 'tokenUrl'].includes(key) && value !== '' && !/^https?:\/\/[^\s]+$/.test(value))
          host.fail(400, `${key} must be an http(s) URL`);
        if (key === 'system' && value !== '' && !/^[a-z]{2}_[A-Z]{2}$/.test(value))
          host.fail(400, 'system is a locale such as en_US, en_GB or nl_NL');
        changes.push({ op: 'put', xpath: `/data/plugindata/${host.name}/${key}`, value });
      }
      await host.data.batch(changes);
      const back = localPath(call.params['returnTo']);
      if (back) return host.redirect(back);
    }
    const s = settings();
    return {
      client_id: text(s['client_id']),
      hasSecret: text(s['client_secret']) !== '',
      system: text(s['system']),
      apiBase: text(s['apiBase']),
      authBase: text(s['authBase']),
      tokenUrl: text(s['tokenUrl']),
      callbackUrl: host.publicUrl(`/plugin/${host.name}/auth2`),
    };
  }

  async function userSettings(call: PluginCall) {
    const entry = await oauth.userEntry(call, { methods: 'get_bodyweight' });
    const back = localPath(call.params['returnTo']);
    return back && call.method === 'POST' ? host.redirect(back) : entry;
  }

  return {
    methods: {
      index: { access: 'user' as const, handler: index },
      all,
      settings: settingsMethod,
      userSettings: { access: 'user' as const, handler: userSettings },
    },
    stop() {
      for (const timer of retries.values()) clearTimeout(timer);
      retries.clear();
    },
  };
}

class RateLimited extends Error {
  constructor(
    readonly seconds: number,
    readonly known = false,
  ) {
    super(`rate limited for ${seconds} s`);
  }
}

export default {
  description: 'Fitbit health data (weight, fat, activity, sleep, heart rate) into sensors/fitbit/USER',
  writes: [SENSORS],
  create,
} satisfies PluginDefinition;
