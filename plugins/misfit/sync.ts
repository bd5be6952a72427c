/**
 * misfit's fetching: the Resource API calls for a person, what each answer is stored as under
 * sensors/misfit/USER, and the changes a notification announces (re-fetched, or removed).
 */
import type { Json, JsonObject, OAuth2Client, PluginHost } from 'igor-ts/plugin-api';
import { ArgumentError, BY_COLLECTION, failureOf, lastWeek, requestFor, RESOURCES, storedName, type Resource } from './misfitApi.ts';
import type { MisfitMessage } from './notification.ts';

const NOT_ARGUMENTS = new Set(['token', 'needsAuthorisation', 'user', 'userId', 'resources', '_csrf', 'returnTo']);
const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

export function createSync(host: PluginHost, oauth: OAuth2Client, setting: (key: string) => string) {
  const apiBase = () => setting('apiBase').replace(/\/+$/, '');

  /** One Resource API call for a user: the parsed answer, or a failure saying what Misfit said. */
  async function fetchResource(user: string, path: string): Promise<JsonObject> {
    const res = await oauth.request(user, `${apiBase()}/move/resource/v1/user/me/${path}`, { headers: { accept: 'application/json' } });
    if (res.status === 429) {
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      const limit = res.headers.get('x-ratelimit-limit') ?? '?';
      const seconds = Number.isFinite(reset) && reset > 0 ? Math.max(1, Math.ceil(reset - Date.now() / 1000)) : 60;
      const when = new Date(Date.now() + seconds * 1000).toISOString();
      host.fail(429, `Misfit's rate limit (${limit} calls an hour) is used up; it resets at ${when} (in ${seconds} s)`, {
        'retry-after': String(seconds),
      });
    }
    if (res.status >= 400) {
      const failure = failureOf(res.status, res.body);
      host.fail(
        failure.status === 400 || failure.status === 404 ? failure.status : 502,
        `Misfit answered ${failure.status}: ${failure.message}`,
      );
    }
    try {
      const body = JSON.parse(res.body) as Json;
      if (body && typeof body === 'object' && !Array.isArray(body)) return body;
    } catch {
      /* below */
    }
    host.fail(502, `Misfit answered ${path} with something that is not a JSON object`);
  }

  /** What one resource's answer is stored as: lists by id or date, single objects of a list kind as one entry. */
  function answerOf(resource: Resource, list: string | undefined, body: JsonObject): JsonObject {
    const name = storedName(resource);
    if (list && Array.isArray(body[list])) return { [name]: body[list] };
    if (resource === 'summary') return { summaryTotal: body }; // detail=false: one aggregate without a date
    if (list) return { [name]: [body] };
    return { [name]: body };
  }

  async function fetchFor(user: string, userData: JsonObject | undefined, params: Record<string, string>): Promise<JsonObject> {
    if (!setting('client_id') || !setting('client_secret')) {
      host.fail(400, `${host.name} is not set up: an admin enters the Misfit app's key and secret on /plugin/${host.name}/page/setup.html`);
    }
    if (!userData) host.fail(404, `${user} has no ${host.name} entry yet: create it on /plugin/${host.name}/page/setup.html?user=${user}`);
    const args: Record<string, string> = { ...lastWeek() };
    for (const [k, v] of Object.entries(userData)) if (!NOT_ARGUMENTS.has(k) && text(v)) args[k] = text(v);
    for (const [k, v] of Object.entries(params)) if (!NOT_ARGUMENTS.has(k)) args[k] = v;
    const resources = (params['resources'] || text(userData['resources']) || RESOURCES.join(','))
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    let requests;
    try {
      requests = resources.map((r) => ({ resource: r as Resource, ...requestFor(r, args) }));
    } catch (err) {
      if (err instanceof ArgumentError) host.fail(400, err.message);
      throw err;
    }
    const answer: JsonObject = {};
    for (const r of requests) {
      const body = await fetchResource(user, r.path);
      Object.assign(answer, answerOf(r.resource, r.list, body));
      if (r.resource === 'profile' && typeof body['userId'] === 'string' && OBJECT_ID.test(body['userId'])) {
        // Who this is at Misfit: notifications name their owner by it.
        if (userData['userId'] !== body['userId'])
          await host.data.put(`/data/identities/${user}/plugindata/${host.name}/userId`, body['userId']);
      }
    }
    const stored = await host.storeSeries(`/data/sensors/${host.name}/${user}`, answer, { keys: ['id', 'date'] });
    return { user, resources, stored };
  }

  /** The Igor user whose Misfit user id this is. */
  function userOf(ownerId: string): string | undefined {
    if (!OBJECT_ID.test(ownerId)) return undefined;
    return host.data.refs(`/data/identities/*/plugindata/${host.name}[userId='${ownerId}']`)[0]?.split('/')[3];
  }

  /** Re-fetches (or removes) each changed object for its owner. */
  async function processChanges(changes: MisfitMessage[]): Promise<void> {
    const problems: string[] = [];
    for (const change of changes) {
      const resource = BY_COLLECTION[change.type];
      const user = userOf(change.ownerId);
      if (!resource) problems.push(`a change of unknown type ${change.type}`);
      else if (!user) problems.push(`a change for Misfit user ${change.ownerId}, who has not authorised this Igor`);
      else if (!OBJECT_ID.test(change.id)) problems.push(`a change with a bad id`);
      if (!resource || !user || !OBJECT_ID.test(change.id)) continue;
      const base = `/data/sensors/${host.name}/${user}`;
      const name = storedName(resource);
      try {
        if (change.action === 'deleted') {
          if (resource === 'profile' || resource === 'device') await host.data.delete(`${base}/${name}`);
          else await host.data.delete(`${base}/${name}[id='${change.id}']`);
        } else {
          const r = requestFor(resource, { object_id: change.id });
          await host.storeSeries(base, answerOf(resource, r.list, await fetchResource(user, r.path)), { keys: ['id', 'date'] });
        }
      } catch (err) {
        problems.push(`${change.action} ${change.type} ${change.id} of ${user}: ${(err as Error).message}`);
      }
    }
    await host.recordStatus(
      `sensors/${host.name}`,
      problems.length ? { ok: false, message: `notification: ${problems.join('; ')}` } : { ok: true },
    );
  }

  return { fetchFor, processChanges };
}
