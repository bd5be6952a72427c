/**
 * One person's fetch from a server still speaking the retired Fitbit Web API: the methods they ask for (in the
 * call, else in their entry, else their weight), with the arguments their entry and the call give, each answer
 * stored under sensors/fitbit/USER with the units of the server's unit system.
 */
import type { JsonObject, OAuth2Client, PluginHost, PluginSettings } from 'igor-ts/plugin-api';
import { ArgumentError, legacyAnswer, legacyUnits, pathFor } from './fitbitApi.ts';
import { text } from './googleHealthApi.ts';

/** Per-user keys that are not method arguments. */
const NOT_ARGUMENTS = new Set(['token', 'methods', 'needsAuthorisation', 'user', '_csrf', 'returnTo', 'units']);

/**
 * The methods to call and their arguments: the person's entry, overridden by the call's parameters; the
 * plugin's own state (names starting with `_`) is never an argument.
 */
export function legacyRequest(userData: JsonObject, params: Record<string, string>): { methods: string[]; args: Record<string, string> } {
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(userData)) if (!NOT_ARGUMENTS.has(k) && !k.startsWith('_') && text(v)) args[k] = text(v);
  for (const [k, v] of Object.entries(params)) if (!NOT_ARGUMENTS.has(k)) args[k] = v;
  const methods = (params['methods'] || text(userData['methods']) || 'get_bodyweight')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  return { methods, args };
}

export async function syncLegacy(
  host: PluginHost,
  oauth: OAuth2Client,
  settings: PluginSettings,
  { user, userData, params, sensors }: { user: string; userData: JsonObject; params: Record<string, string>; sensors: string },
): Promise<JsonObject> {
  const { methods, args } = legacyRequest(userData, params);
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
  const counts = await host.storeSeries(sensors, answer, {
    keys: ['logId', 'dateTime', 'date'],
    units: legacyUnits(system, Object.keys(answer)),
  });
  return { methods, stored: counts };
}
