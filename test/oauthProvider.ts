/**
 * A real OAuth2 server on 127.0.0.1 (oauth2-mock-server) made strict like a real provider: it checks the
 * client's credentials (HTTP Basic), that a code is used once with the redirect URI it was issued for, and
 * that a refresh token is the current one (each refresh replaces it). It records what it issued, so a fake
 * API can accept exactly the live access tokens, and can be told to refuse refreshes.
 */
import type { IncomingMessage } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';
import { onCleanup } from './helpers.ts';

export interface StrictProvider {
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  liveAccessTokens: Set<string>;
  refreshTokens: Set<string>;
  grants: { authorization_code: number; refresh_token: number };
  refuseRefresh: boolean;
  /** Answer a refresh as Google does: no refresh_token in it, the one sent staying valid. */
  omitRefreshToken: boolean;
}

export async function startOAuthProvider(
  client: { id: string; secret: string },
  endpoints: { authorize?: string; token?: string } = {},
  /** How the client must send its credentials to the token endpoint (Fitbit: header; Misfit: body). */
  clientAuth: 'header' | 'body' = 'header',
): Promise<StrictProvider> {
  const server = new OAuth2Server(undefined, undefined, { endpoints });
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  onCleanup(() => server.stop());
  const url = server.issuer.url!;
  const codes = new Map<string, string>(); // code → redirect_uri
  let issued = 0;
  const provider: StrictProvider = {
    url,
    authorizeUrl: url + (endpoints.authorize ?? '/authorize'),
    tokenUrl: url + (endpoints.token ?? '/token'),
    liveAccessTokens: new Set(),
    refreshTokens: new Set(),
    grants: { authorization_code: 0, refresh_token: 0 },
    refuseRefresh: false,
    omitRefreshToken: false,
  };
  server.service.on('beforeAuthorizeRedirect', (redirect: { url: URL }, req: IncomingMessage & { query: Record<string, string> }) => {
    const code = redirect.url.searchParams.get('code');
    if (code && req.query['client_id'] === client.id) codes.set(code, req.query['redirect_uri']!);
  });
  server.service.on(
    'beforeResponse',
    (response: { body: Record<string, unknown>; statusCode: number }, req: IncomingMessage & { body: Record<string, string> }) => {
      const refuse = (error: string) => {
        response.statusCode = error === 'invalid_client' ? 401 : 400;
        response.body = { errors: [{ errorType: error, message: error }], success: false };
      };
      const body = req.body;
      const expected = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
      const credentialsOk =
        clientAuth === 'header'
          ? req.headers.authorization === expected
          : body['client_id'] === client.id && body['client_secret'] === client.secret;
      if (!credentialsOk) return refuse('invalid_client');
      if (body['grant_type'] === 'authorization_code') {
        const redirect = codes.get(body['code'] ?? '');
        codes.delete(body['code'] ?? '');
        if (redirect === undefined || redirect !== body['redirect_uri']) return refuse('invalid_grant');
        provider.grants.authorization_code++;
      } else if (body['grant_type'] === 'refresh_token') {
        provider.grants.refresh_token++;
        if (provider.refuseRefresh || !provider.refreshTokens.delete(body['refresh_token'] ?? '')) return refuse('invalid_grant');
      }
      // The mock signs the same claims within one second into the same JWT: make each token unique.
      response.body['access_token'] = `${response.body['access_token'] as string}~${++issued}`;
      if (body['grant_type'] === 'refresh_token' && provider.omitRefreshToken) {
        provider.refreshTokens.add(body['refresh_token']!);
        delete response.body['refresh_token'];
      } else provider.refreshTokens.add(response.body['refresh_token'] as string);
      provider.liveAccessTokens.add(response.body['access_token'] as string);
    },
  );
  return provider;
}
