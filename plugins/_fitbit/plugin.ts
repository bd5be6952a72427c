/**
 * _fitbit: Fitbit data into sensors/fitbit/USER for each person who authorised it — through the Google Health
 * API (the default) or a server still speaking the retired Fitbit Web API. A short method table: the protocols
 * are in googleHealthApi.ts and fitbitApi.ts, what lands in the tree in dataTypes.ts, the fetching and its
 * failures in sync.ts (with googleSync.ts and legacySync.ts), push notifications in webhook.ts.
 */
import type { OAuth2Provider, PluginCall, PluginDefinition, PluginHost } from 'igor-ts/plugin-api';
import { KIND_LABELS, KIND_NAMES, scopesFor } from './dataTypes.ts';
import { SENSORS, Sync } from './sync.ts';
import { webhook } from './webhook.ts';

const ENDPOINTS = {
  'google-health': {
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
    apiBase: 'https://health.googleapis.com',
  },
  'fitbit-legacy': {
    authorizeUrl: 'https://www.fitbit.com/oauth2/authorize',
    tokenUrl: 'https://api.fitbit.com/oauth2/token',
    revokeUrl: 'https://api.fitbit.com/oauth2/revoke',
    apiBase: 'https://api.fitbit.com',
  },
} as const;
type Provider = keyof typeof ENDPOINTS;

/** The legacy scopes the legacy methods read (not location or social, which none uses). */
const LEGACY_SCOPES = ['activity', 'heartrate', 'nutrition', 'profile', 'settings', 'sleep', 'weight'];

function create(host: PluginHost) {
  const provider = (): Provider => (settings.get('provider') === 'fitbit-legacy' ? 'fitbit-legacy' : 'google-health');
  const endpoint = (key: keyof (typeof ENDPOINTS)[Provider]) => () => {
    // Databases from before these settings kept one authBase for the authorisation page.
    const authBase = key === 'authorizeUrl' ? String(host.settings()['authBase'] ?? '') : '';
    return authBase ? `${authBase.replace(/\/+$/, '')}/oauth2/authorize` : ENDPOINTS[provider()][key];
  };
  const settings = host.declareSettings(
    {
      provider: { kind: 'choice', choices: Object.keys(ENDPOINTS), default: 'google-health' },
      client_id: {},
      client_secret: { kind: 'secret' },
      data: {
        default: KIND_NAMES.join(','),
        check: (v) => {
          const unknown = v.split(',').filter((k) => k.trim() && !KIND_NAMES.includes(k.trim()));
          return unknown.length ? `data: ${unknown.join(', ')} unknown; known: ${KIND_NAMES.join(', ')}` : undefined;
        },
      },
      backfillDays: { kind: 'number', min: 1, max: 3650, default: '30' },
      authorizeUrl: { kind: 'url', default: endpoint('authorizeUrl') },
      tokenUrl: { kind: 'url', default: endpoint('tokenUrl') },
      revokeUrl: { kind: 'url', default: endpoint('revokeUrl') },
      apiBase: { kind: 'url', default: endpoint('apiBase') },
      system: { kind: 'choice', choices: ['en_US', 'en_GB'] },
      webhookSecret: { kind: 'secret' },
    },
    () => ({
      callbackUrl: host.publicUrl(`/plugin/${host.name}/auth2`),
      webhookUrl: host.publicUrl(`/plugin/${host.name}/webhook`),
      scopes: provider() === 'fitbit-legacy' ? LEGACY_SCOPES : scopesFor(settings.get('data')),
      kinds: KIND_NAMES,
      kindNames: KIND_LABELS,
    }),
  );
  const oauth = host.oauth2((): OAuth2Provider => {
    const legacy = provider() === 'fitbit-legacy';
    return {
      authorizeUrl: settings.get('authorizeUrl'),
      tokenUrl: settings.get('tokenUrl'),
      revokeUrl: settings.get('revokeUrl'),
      clientId: settings.get('client_id'),
      clientSecret: settings.get('client_secret'),
      scope: legacy ? LEGACY_SCOPES : scopesFor(settings.get('data')),
      pkce: true,
      clientAuth: legacy ? 'header' : 'body',
      // Google gives a refresh token only for offline access, and again only when consent is asked anew.
      authorizeParams: legacy ? {} : { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
    };
  });
  const sync = new Sync(host, oauth, settings);

  return {
    methods: {
      index: {
        access: 'user' as const,
        handler: (call: PluginCall) =>
          sync.fetchFor(call.user ?? host.fail(400, `${host.name} needs user=NAME: whose Fitbit data to get`), call.params),
      },
      all: () => sync.fetchAll(),
      settings: settings.method,
      userSettings: {
        access: 'user' as const,
        handler: async (call: PluginCall) => {
          const entry = await oauth.userEntry(call, provider() === 'fitbit-legacy' ? { methods: 'get_bodyweight' } : { units: 'metric' });
          // A form without script goes back where it came from, as it did before the Google provider.
          if (call.method === 'POST') {
            const back = host.redirectBack(call.params['returnTo']);
            if (back) return back;
          }
          // What the person's page shows: which fields apply, and whom they authorise.
          return { ...entry, provider: provider(), providerName: provider() === 'fitbit-legacy' ? 'Fitbit' : 'Google' };
        },
      },
      webhook: webhook(host, settings, sync),
    },
    stop: () => sync.stop(),
  };
}

export default {
  description: 'Fitbit data (steps, distance, weight, sleep, heart rate, SpO2…) through the Google Health API into sensors/fitbit/USER',
  writes: [SENSORS],
  create,
} satisfies PluginDefinition;
