/**
 * misfit's fetching: the Resource API calls for a person, what each answer is stored as under
 * sensors/misfit/USER, and the changes a notification announces (re-fetched, or removed). What to call and
 * what to store are plain functions (requestsFor, answerOf); MisfitSync does the calls and the writing.
 */
import type { Json, JsonObject, PluginHost } from 'igor-ts/plugin-api';
import { ArgumentError, BY_COLLECTION, lastWeek, requestFor, RESOURCES, storedName, type Resource } from './misfitApi.ts';
import type { MisfitMessage } from './notification.ts';
import type { MisfitClient } from './resourceClient.ts';

const NOT_ARGUMENTS = new Set(['token', 'needsAuthorisation', 'user', 'userId', 'resources', '_csrf', 'returnTo']);
const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;

function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

/** One call to make: which resource, at which path, and the key its list comes in. */
export interface ResourceRequest {
  resource: Resource;
  path: string;
  list?: string | undefined;
}

/**
 * The calls for a person's fetch: the resources the call names, else those of their entry, else all; over the
 * last week unless the entry or the call give other arguments (the call's win). Throws ArgumentError.
 */
export function requestsFor(
  userData: JsonObject,
  params: Record<string, string>,
  now = new Date(),
): { resources: string[]; requests: ResourceRequest[] } {
  const args: Record<string, string> = { ...lastWeek(now) };
  for (const [k, v] of Object.entries(userData)) if (!NOT_ARGUMENTS.has(k) && text(v)) args[k] = text(v);
  for (const [k, v] of Object.entries(params)) if (!NOT_ARGUMENTS.has(k)) args[k] = v;
  const resources = (params['resources'] || text(userData['resources']) || RESOURCES.join(','))
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  return { resources, requests: resources.map((r) => ({ resource: r as Resource, ...requestFor(r, args) })) };
}

/** What one resource's answer is stored as: lists by id or date, single objects of a list kind as one entry. */
export function answerOf(resource: Resource, list: string | undefined, body: JsonObject): JsonObject {
  const name = storedName(resource);
  if (list && Array.isArray(body[list])) return { [name]: body[list] };
  if (resource === 'summary') return { summaryTotal: body }; // detail=false: one aggregate without a date
  if (list) return { [name]: [body] };
  return { [name]: body };
}

/** Why a notified change cannot be applied: no resource of its type, no user of its owner, or a bad id. */
function problemOf(change: MisfitMessage, resource: Resource | undefined, user: string | undefined): string {
  if (!resource) return `a change of unknown type ${change.type}`;
  if (!user) return `a change for Misfit user ${change.ownerId}, who has not authorised this Igor`;
  return `a change with a bad id`;
}

export class MisfitSync {
  constructor(
    private readonly host: PluginHost,
    private readonly client: MisfitClient,
    private readonly setting: (key: string) => string,
  ) {}

  async fetchFor(user: string, userData: JsonObject | undefined, params: Record<string, string>): Promise<JsonObject> {
    const { name } = this.host;
    if (!this.setting('client_id') || !this.setting('client_secret')) {
      this.host.fail(400, `${name} is not set up: an admin enters the Misfit app's key and secret on /plugin/${name}/page/setup.html`);
    }
    if (!userData) this.host.fail(404, `${user} has no ${name} entry yet: create it on /plugin/${name}/page/setup.html?user=${user}`);
    let planned: ReturnType<typeof requestsFor>;
    try {
      planned = requestsFor(userData, params);
    } catch (err) {
      if (err instanceof ArgumentError) this.host.fail(400, err.message);
      throw err;
    }
    const answer: JsonObject = {};
    for (const r of planned.requests) {
      const body = await this.client.fetch(user, r.path);
      Object.assign(answer, answerOf(r.resource, r.list, body));
      if (r.resource === 'profile' && typeof body['userId'] === 'string' && OBJECT_ID.test(body['userId'])) {
        // Who this is at Misfit: notifications name their owner by it.
        if (userData['userId'] !== body['userId'])
          await this.host.data.put(`/data/identities/${user}/plugindata/${name}/userId`, body['userId']);
      }
    }
    const stored = await this.host.storeSeries(`/data/sensors/${name}/${user}`, answer, { keys: ['id', 'date'] });
    return { user, resources: planned.resources, stored };
  }

  /** Re-fetches (or removes) each changed object for its owner, and says under status/ what could not be done. */
  async processChanges(changes: MisfitMessage[]): Promise<void> {
    const problems: string[] = [];
    for (const change of changes) {
      const resource = BY_COLLECTION[change.type];
      const user = this.userOf(change.ownerId);
      if (!resource || !user || !OBJECT_ID.test(change.id)) {
        problems.push(problemOf(change, resource, user));
        continue;
      }
      try {
        await this.apply(change, resource, user);
      } catch (err) {
        problems.push(`${change.action} ${change.type} ${change.id} of ${user}: ${(err as Error).message}`);
      }
    }
    await this.host.recordStatus(
      `sensors/${this.host.name}`,
      problems.length ? { ok: false, message: `notification: ${problems.join('; ')}` } : { ok: true },
    );
  }

  /** The Igor user whose Misfit user id this is. */
  private userOf(ownerId: string): string | undefined {
    if (!OBJECT_ID.test(ownerId)) return undefined;
    return this.host.data.refs(`/data/identities/*/plugindata/${this.host.name}[userId='${ownerId}']`)[0]?.split('/')[3];
  }

  private async apply(change: MisfitMessage, resource: Resource, user: string): Promise<void> {
    const base = `/data/sensors/${this.host.name}/${user}`;
    const name = storedName(resource);
    if (change.action === 'deleted') {
      if (resource === 'profile' || resource === 'device') await this.host.data.delete(`${base}/${name}`);
      else await this.host.data.delete(`${base}/${name}[id='${change.id}']`);
      return;
    }
    const r = requestFor(resource, { object_id: change.id });
    await this.host.storeSeries(base, answerOf(resource, r.list, await this.client.fetch(user, r.path)), { keys: ['id', 'date'] });
  }
}
