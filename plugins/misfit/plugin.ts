/**
 * misfit: activity data from the Misfit cloud into sensors/misfit/USER — pulled by a periodic action through
 * the Resource API (OAuth2 through the host's helper), and pushed by Misfit's signed SNS notifications, which
 * are verified, answered at once and processed afterwards. A short method table: the protocol is in
 * misfitApi.ts, fetching and applying changes in sync.ts, SNS in sns.ts and notification.ts.
 */
import type { PluginCall, PluginDefinition, PluginHost } from 'igor-ts/plugin-api';
import { RESOURCES } from './misfitApi.ts';
import { readMisfitNotification } from './notification.ts';
import { AWS_SNS_HOST, checkAwsUrl, SnsError, SnsVerifier } from './sns.ts';
import { createSync } from './sync.ts';

const DEFAULT_API = 'https://api.misfitwearables.com';
/** How long a MessageId is remembered, so that SNS's redeliveries are processed once. */
const SEEN_MS = 24 * 3600 * 1000;

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

  const sync = createSync(host, oauth, setting);

  async function index(call: PluginCall) {
    const user = call.user ?? host.fail(400, `${host.name} needs user=NAME: whose Misfit data to get`);
    return sync.fetchFor(user, call.userData, call.params);
  }

  async function all() {
    return { users: await oauth.forAuthorisedUsers((user) => sync.fetchFor(user, host.userData(user), {})) };
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
    host.background(`misfit notification ${n.MessageId}`, () => sync.processChanges(n.Message));
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
  };
}

export default {
  description: 'Misfit activity data (goals, summaries, sessions, sleep) into sensors/misfit/USER, with signed SNS notifications',
  create,
} satisfies PluginDefinition;
