/**
 * misfit: activity data from the Misfit cloud into sensors/misfit/USER — pulled by a periodic action through
 * the Resource API (OAuth2 through the host's helper), and pushed by Misfit's signed SNS notifications, which
 * are verified, answered at once and processed afterwards. A short method table: the protocol is in
 * misfitApi.ts and resourceClient.ts, fetching and applying changes in sync.ts, SNS in sns.ts, notification.ts
 * and notificationEndpoint.ts.
 */
import type { PluginCall, PluginDefinition, PluginHost } from 'igor-ts/plugin-api';
import { RESOURCES } from './misfitApi.ts';
import { notificationMethod } from './notificationEndpoint.ts';
import { MisfitClient } from './resourceClient.ts';
import { MisfitSync } from './sync.ts';

const DEFAULT_API = 'https://api.misfitwearables.com';

function declareMisfitSettings(host: PluginHost) {
  return host.declareSettings(
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
}

function create(host: PluginHost) {
  const settings = declareMisfitSettings(host);
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
  const sync = new MisfitSync(host, new MisfitClient(host, oauth, apiBase), setting);

  return {
    methods: {
      index: {
        access: 'user' as const,
        handler: (call: PluginCall) =>
          sync.fetchFor(call.user ?? host.fail(400, `${host.name} needs user=NAME: whose Misfit data to get`), call.userData, call.params),
      },
      all: async () => ({ users: await oauth.forAuthorisedUsers((user) => sync.fetchFor(user, host.userData(user), {})) }),
      notification: { access: 'public' as const, handler: notificationMethod(host, setting, sync) },
      settings: settings.method,
      userSettings: { access: 'user' as const, handler: (call: PluginCall) => oauth.userEntry(call, { resources: RESOURCES.join(',') }) },
    },
  };
}

export default {
  description: 'Misfit activity data (goals, summaries, sessions, sleep) into sensors/misfit/USER, with signed SNS notifications',
  create,
} satisfies PluginDefinition;
