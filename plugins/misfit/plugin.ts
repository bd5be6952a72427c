/**
 * misfit: activity data from the Misfit cloud into sensors/misfit/USER — pulled by a periodic action through
 * the Resource API (OAuth2 through the host's helper), and pushed by Misfit's signed SNS notifications, which
 * are verified, answered at once and processed afterwards.
 */
import type { Json, JsonObject, PluginCall, PluginDefinition, PluginHost } from 'igor-ts/plugin-api';
import { ArgumentError, BY_COLLECTION, failureOf, lastWeek, requestFor, RESOURCES, storedName, type Resource } from './misfitApi.ts';
import { readMisfitNotification, type MisfitMessage } from './notification.ts';
import { AWS_SNS_HOST, checkAwsUrl, SnsError, SnsVerifier } from './sns.ts';

const DEFAULT_API = 'https://api.misfitwearables.com';
const NOT_ARGUMENTS = new Set(['token', 'needsAuthorisation', 'user', 'userId', 'resources', '_csrf', 'returnTo']);
const OBJECT_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** How long a MessageId is remembered, so that SNS's redeliveries are processed once. */
const SEEN_MS = 24 * 3600 * 1000;

function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

function create(host: PluginHost) {
  const settings = host.declareSettings(
    {
      client_id: {},
      client_secret: { kind: 'secret' },
      apiBase: { kind: 'url', default: DEFAULT_API },
      snsHostPattern: {
        check: (v) => {
          try {
            new RegExp(v);
            return undefined;
          } catch {
            return 'snsHostPattern is not a regular expression';
          }
        },
      },
      snsTopicArn: {},
      snsCa: {},
    },
    () => ({
      callbackUrl: host.publicUrl(`/plugin/${host.name}/auth2`),
      notificationUrl: host.publicUrl(`/plugin/${host.name}/notification`),
    }),
  );
  const setting = settings.get;
  const apiBase = () => setting('apiBase').replace(/\/+$/, '');
  const oauth = host.oauth2(() => ({
    authorizeUrl: `${apiBase()}/auth/dialog/authorize`,
    tokenUrl: `${apiBase()}/auth/tokens/exchange/`,
    clientId: setting('client_id'),
    clientSecret: setting('client_secret'),
    scope: ['public', 'birthday', 'email'],
    clientAuth: 'body', // Misfit takes the client's credentials in the form, not as Basic auth
  }));
  const seen = new Map<string, number>();

  const hostPattern = (): RegExp => {
    const pattern = setting('snsHostPattern');
    return pattern ? new RegExp(pattern) : AWS_SNS_HOST;
  };
  const verifier = () =>
    new SnsVerifier({
      hostPattern: hostPattern(),
      topics: setting('snsTopicArn')
        .split(',')
        .map((t) => t.trim()),
      fetchCertificate: async (url) => {
        const res = await host.http(url, { ca: setting('snsCa') || undefined, timeoutMs: 5000 });
        if (res.status !== 200) throw new SnsError(`the signing certificate could not be fetched (HTTP ${res.status})`, 403);
        return res.body;
      },
    });
  // Certificates are cached by the verifier; a new one is made only when the settings change.
  let cached: { key: string; verifier: SnsVerifier } | undefined;
  const currentVerifier = () => {
    const key = ['snsHostPattern', 'snsTopicArn', 'snsCa'].map((k) => setting(k)).join('\0');
    if (cached?.key !== key) cached = { key, verifier: verifier() };
    return cached.verifier;
  };

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

  async function index(call: PluginCall) {
    const user = call.user ?? host.fail(400, `${host.name} needs user=NAME: whose Misfit data to get`);
    return fetchFor(user, call.userData, call.params);
  }

  async function all() {
    return { users: await oauth.forAuthorisedUsers((user) => fetchFor(user, host.userData(user), {})) };
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

  async function notification(call: PluginCall) {
    if (call.method !== 'POST') host.fail(400, 'SNS notifications are POSTed');
    let n;
    try {
      n = await readMisfitNotification(call.body?.raw ?? '', currentVerifier());
    } catch (err) {
      if (err instanceof SnsError) {
        host.logger.warn(`refused an SNS message: ${err.message}`);
        return host.reply(err.status, `${err.message}\n`, { 'content-type': 'text/plain; charset=utf-8' });
      }
      throw err;
    }
    if (n.Type === 'SubscriptionConfirmation') {
      let url: URL;
      try {
        url = checkAwsUrl(n.SubscribeURL ?? '', hostPattern(), 'SubscribeURL', false);
      } catch (err) {
        return host.reply(403, `${(err as Error).message}\n`, { 'content-type': 'text/plain; charset=utf-8' });
      }
      const res = await host.http(url.href, { ca: setting('snsCa') || undefined, timeoutMs: 10_000 });
      if (res.status >= 400) host.fail(502, `confirming the subscription failed: HTTP ${res.status}`);
      host.logger.info(`confirmed the SNS subscription to ${n.TopicArn}`);
      await host.recordStatus(`sensors/${host.name}`, { ok: true });
      return host.reply(200, '');
    }
    if (n.Type === 'UnsubscribeConfirmation') {
      host.logger.warn(`the SNS subscription to ${n.TopicArn} was ended`); // its SubscribeURL would subscribe again: not visited
      return host.reply(200, '');
    }
    const now = Date.now();
    for (const [id, at] of seen) if (at < now - SEEN_MS) seen.delete(id);
    if (seen.has(n.MessageId)) return host.reply(200, ''); // a redelivery: done already
    seen.set(n.MessageId, now);
    // SNS wants an answer within 15 s: answer now, fetch the changed objects afterwards.
    host.background(`misfit notification ${n.MessageId}`, () => processChanges(n.Message));
    return host.reply(200, '');
  }

  return {
    methods: {
      index: { access: 'user' as const, handler: index },
      all,
      notification: { access: 'public' as const, handler: notification },
      settings: settings.method,
      userSettings: { access: 'user' as const, handler: (call: PluginCall) => oauth.userEntry(call, { resources: RESOURCES.join(',') }) },
    },
    commands: {
      /** `igor plugin misfit authorize --user U`: the URL U opens in a browser to authorise this Igor. */
      authorize: (args: Record<string, string>) => {
        const user = args['user'];
        if (!user || !/^[A-Za-z_][\w.-]*$/.test(user)) host.fail(400, 'authorize needs --user NAME');
        if (!host.userData(user)) host.fail(404, `${user} has no ${host.name} entry yet: create it on the setup page first`);
        return `Open this in a browser, as ${user}, within 10 minutes:\n${oauth.authorizeUrl(user)}\n`;
      },
    },
  };
}

export default {
  description: 'Misfit activity data (goals, summaries, sessions, sleep) into sensors/misfit/USER, with signed SNS notifications',
  create,
} satisfies PluginDefinition;
