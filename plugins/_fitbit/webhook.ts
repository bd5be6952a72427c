/**
 * Google Health's push (spec section 6): /plugin/NAME/webhook answers the endpoint verification (201 with the
 * shared secret, 401 without), checks the secret on every notification in constant time, answers at once and
 * afterwards fetches only the data type and interval that changed, for the person it names. A notification
 * delivered again is processed once. Notifications carry no data, so nothing in them is written as it is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Json, JsonObject, PluginCall, PluginHost, PluginMethodSpec, PluginSettings } from 'igor-ts/plugin-api';
import { KINDS } from './dataTypes.ts';
import { arr, isObject, obj, str } from './googleHealthApi.ts';
import type { Narrow } from './googleQueries.ts';
import type { Sync } from './sync.ts';

/** How long a notification is remembered, so that a redelivery is processed once. */
const SEEN_MS = 24 * 3600 * 1000;
const MAX_SEEN = 10_000;

function sameSecret(given: string, expected: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and the secret's length does not leak either.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A notification's intervals as RFC 3339 instants: the physical one, else the civil ISO 8601 dates. */
function intervalsOf(data: JsonObject): { start: string; end: string }[] {
  const out: { start: string; end: string }[] = [];
  for (const i of arr(data['intervals'])) {
    const physical = obj(obj(i)['physicalTimeInterval']);
    const start = str(physical['startTime']);
    const end = str(physical['endTime']);
    if (start && end && Number.isFinite(Date.parse(start)) && Number.isFinite(Date.parse(end))) {
      out.push({ start, end });
      continue;
    }
    const civil = /^(\d{4}-\d{2}-\d{2})(?:T[\d:.]+)?\/(\d{4}-\d{2}-\d{2})/.exec(str(obj(i)['civilIso8601TimeInterval']) ?? '');
    // Civil dates have no zone: a day either side covers every offset a person can have.
    if (civil)
      out.push({
        start: new Date(Date.parse(civil[1]!) - 86_400_000).toISOString(),
        end: new Date(Date.parse(civil[2]!) + 86_400_000).toISOString(),
      });
  }
  return out;
}

export function webhook(host: PluginHost, settings: PluginSettings, sync: Sync): PluginMethodSpec {
  const seen = new Map<string, number>();

  function firstTime(data: JsonObject): boolean {
    const now = Date.now();
    for (const [id, at] of seen) if (at < now - SEEN_MS || seen.size > MAX_SEEN) seen.delete(id);
    const id = createHash('sha256').update(JSON.stringify(data)).digest('hex');
    if (seen.has(id)) return false;
    seen.set(id, now);
    return true;
  }

  /** The fetches a notification asks for; what cannot be understood is logged and left. */
  function work(items: Json[]): { user: string; narrow: Narrow }[] {
    const todo: { user: string; narrow: Narrow }[] = [];
    for (const item of items) {
      const data = isObject(obj(item)['data']) ? obj(obj(item)['data']) : obj(item);
      const id = str(data['healthUserId']) ?? '';
      const user = sync.userOfHealthId(id);
      const kind = KINDS.find((k) => k.dataType === str(data['dataType']));
      if (!user || !kind) {
        host.logger.info('a notification for nobody here, or of a data type this plugin does not read', {
          dataType: str(data['dataType']),
          known: !!user,
        });
        continue;
      }
      if (!firstTime(data)) continue;
      for (const interval of intervalsOf(data)) todo.push({ user, narrow: { kind, ...interval } });
    }
    return todo;
  }

  return {
    access: 'public', // Google calls it; the shared secret is the proof
    ownAuthorization: true, // and it comes as the Authorization header
    maxBodyBytes: 256 * 1024,
    async handler(call: PluginCall) {
      const secret = settings.get('webhookSecret');
      if (!secret) host.fail(404, `${host.name} does not take notifications: set a webhook secret on its setup page first`);
      if (call.method !== 'POST') host.fail(400, 'notifications are POSTed');
      const json = call.body?.json;
      if (!sameSecret(call.headers['authorization'] ?? '', secret)) {
        // Verification sends one request without the secret, which must be refused (401 or 403).
        return host.reply(401, 'the Authorization header does not carry the shared secret\n', {
          'content-type': 'text/plain; charset=utf-8',
        });
      }
      if (isObject(json) && json['type'] === 'verification') return host.reply(201, '');
      if (json === undefined || (typeof json !== 'object' && !Array.isArray(json)) || json === null)
        host.fail(400, 'a notification is a JSON object or array');
      const todo = work(Array.isArray(json) ? json : [json]);
      // Google wants an answer at once: the fetches run afterwards, each recorded like any fetch.
      if (todo.length)
        host.background(`${host.name} notification`, async () => {
          for (const { user, narrow } of todo) await sync.fetchFor(user, {}, narrow).catch(() => {});
        });
      return host.reply(204, '');
    },
  };
}
