/**
 * The OAuth2 helper end to end, against a real OAuth2 server on 127.0.0.1 (oauth2-mock-server, made strict:
 * it checks the client's credentials, single-use codes, the redirect URI and the refresh token) and a small
 * API that takes only live access tokens.
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setPassword } from '../../src/auth/users.ts';
import { basic, requestAs, startHttpServer, startTestServer, tempDir, type TestServer } from '../helpers.ts';
import { startOAuthProvider, type StrictProvider } from '../oauthProvider.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/plugins', import.meta.url));
const JACK = basic('jack', 'jack-password');
const JILL = basic('jill', 'jill-password');
const CLIENT = { id: 'igor-client', secret: 'client-s3cret' };

let provider: StrictProvider & { apiDelayMs: number };
let apiUrl: string;
let s: TestServer;

before(async () => {
  provider = Object.assign(await startOAuthProvider(CLIENT), { apiDelayMs: 0 });
  const api = await startHttpServer((req, res) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    setTimeout(() => {
      if (!provider.liveAccessTokens.has(token)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"errorType":"expired_token"}]}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ profile: { name: 'Jack' } }));
    }, provider.apiDelayMs);
  });
  apiUrl = api.url;

  const dir = await tempDir();
  await cp(join(FIXTURES, 'tester'), join(dir, 'plugins', 'tester'), { recursive: true });
  s = await startTestServer({}, dir);
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
  assert.equal((await s.request('/internal/plugins/cloud?source=tester', { method: 'PUT' })).status, 200);
  const settings = { client_id: CLIENT.id, client_secret: CLIENT.secret, authBase: provider.url, apiBase: apiUrl };
  for (const [key, value] of Object.entries(settings)) {
    await s.request(`/data/plugindata/cloud/${key}`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: value });
  }
});

const as = (auth: string | undefined, path: string, init?: RequestInit) => requestAs(s, auth, path, init);

/** Runs auth1 as jack and the provider's authorize step; answers the callback URL the browser would follow. */
async function authorise(auth = JACK, user = 'jack'): Promise<URL> {
  const start = await as(auth, `/plugin/cloud/auth1?user=${user}`);
  assert.equal(start.status, 303, await start.text());
  const authorize = new URL(start.headers.get('location')!);
  const provided = await fetch(authorize, { redirect: 'manual' });
  assert.equal(provided.status, 302);
  return new URL(provided.headers.get('location')!);
}

async function storedToken(user = 'jack'): Promise<Record<string, unknown>> {
  const r = await s.request(`/data/identities/${user}/plugindata/cloud/token?.VARIANT=raw`, { headers: { accept: 'application/json' } });
  return ((await r.json()) as { token: Record<string, unknown> }).token;
}

async function expireStoredToken(): Promise<void> {
  await s.request('/data/identities/jack/plugindata/cloud/token/expires_at?.VARIANT=raw', {
    method: 'PUT',
    headers: { 'content-type': 'text/plain' },
    body: '1000',
  });
}

describe('authorising', () => {
  it('sends the browser to the provider with a random state and the public redirect URI', async () => {
    const start = await as(JACK, '/plugin/cloud/auth1?user=jack');
    assert.equal(start.status, 303);
    const url = new URL(start.headers.get('location')!);
    assert.equal(url.origin + url.pathname, provider.authorizeUrl);
    assert.equal(url.searchParams.get('client_id'), CLIENT.id);
    assert.equal(url.searchParams.get('response_type'), 'code');
    assert.equal(url.searchParams.get('redirect_uri'), `${s.url}/plugin/cloud/auth2`);
    assert.equal(url.searchParams.get('scope'), 'profile weight');
    const state = url.searchParams.get('state')!;
    assert.ok(state.length >= 32 && !state.includes('jack'), state);
  });

  it('lets only the user or an admin start it, and says what to set up first', async () => {
    assert.equal((await as(undefined, '/plugin/cloud/auth1?user=jack')).status, 401);
    assert.equal((await as(JILL, '/plugin/cloud/auth1?user=jack')).status, 403);
    assert.equal((await as(JACK, '/plugin/cloud/auth1')).status, 400);
    await s.request('/internal/plugins/bare?source=tester', { method: 'PUT' });
    const bare = await as(JACK, '/plugin/bare/auth1?user=jack');
    assert.equal(bare.status, 400);
    assert.match(await bare.text(), /no client_id and client_secret yet/);
  });

  it('trades the code for a token at the callback and stores it for the user the state was made for', async () => {
    const callback = await authorise();
    assert.equal(callback.origin + callback.pathname, `${s.url}/plugin/cloud/auth2`);
    const done = await as(undefined, callback.pathname + callback.search); // the provider's redirect carries no credentials
    assert.equal(done.status, 200, await done.clone().text());
    assert.equal(await done.text(), 'cloud authorised for jack\n');
    const token = await storedToken();
    assert.ok(provider.liveAccessTokens.has(token['access_token'] as string));
    assert.ok(provider.refreshTokens.has(token['refresh_token'] as string));
    assert.equal(typeof token['expires_at'], 'number');
    assert.ok((token['expires_at'] as number) > Date.now() / 1000);
    assert.equal(await (await as(JACK, '/plugin/cloud/authState?user=jack')).text(), 'authorised');
    const replay = await as(undefined, callback.pathname + callback.search);
    assert.equal(replay.status, 403, 'a state is good once');
  });

  it("refuses a forged or missing state, a missing code, and a provider's refusal", async () => {
    const callback = await authorise();
    const forged = new URL(callback);
    forged.searchParams.set('state', 'jack');
    assert.equal((await as(undefined, forged.pathname + forged.search)).status, 403);
    const noState = new URL(callback);
    noState.searchParams.delete('state');
    assert.equal((await as(undefined, noState.pathname + noState.search)).status, 400);
    const denied = await as(undefined, '/plugin/cloud/auth2?error=access_denied&error_description=The+user+said+no');
    assert.equal(denied.status, 400);
    assert.match(await denied.text(), /The user said no/);
    // The real callback still works: the forgeries did not use up its state.
    assert.equal((await as(undefined, callback.pathname + callback.search)).status, 200);
  });

  it('does not show the token to anyone but an admin asking raw', async () => {
    const token = (await storedToken())['access_token'] as string;
    for (const read of [
      () => as(JACK, '/data/identities/jack', { headers: { accept: 'application/json' } }),
      () => s.request('/data/identities/jack/plugindata/cloud'),
    ]) {
      assert.ok(!(await (await read()).text()).includes(token));
    }
  });
});

describe('calling the API', () => {
  it('sends the access token', async () => {
    const r = await as(JACK, '/plugin/cloud/profile?user=jack');
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await r.json(), { profile: { name: 'Jack' } });
  });

  it('refreshes after a 401 and stores the new token', async () => {
    const before = await storedToken();
    provider.liveAccessTokens.delete(before['access_token'] as string); // revoked at the provider's side
    const refreshes = provider.grants.refresh_token;
    const r = await as(JACK, '/plugin/cloud/profile?user=jack');
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(provider.grants.refresh_token, refreshes + 1);
    const after = await storedToken();
    assert.notEqual(after['access_token'], before['access_token']);
    assert.notEqual(after['refresh_token'], before['refresh_token']);
  });

  it("keeps the refresh token when the provider's refresh answer has none (as Google's), across refreshes", async () => {
    provider.omitRefreshToken = true;
    const original = (await storedToken())['refresh_token'];
    for (let i = 0; i < 3; i++) {
      await expireStoredToken();
      const refreshes = provider.grants.refresh_token;
      const r = await as(JACK, '/plugin/cloud/profile?user=jack');
      assert.equal(r.status, 200, `refresh ${i + 1}: ${await r.clone().text()}`);
      assert.equal(provider.grants.refresh_token, refreshes + 1);
      assert.equal((await storedToken())['refresh_token'], original, `refresh ${i + 1} kept the refresh token`);
    }
    provider.omitRefreshToken = false;
  });

  it('refreshes before expiry, once for many concurrent calls', async () => {
    await expireStoredToken();
    provider.apiDelayMs = 50;
    const refreshes = provider.grants.refresh_token;
    const answers = await Promise.all(Array.from({ length: 8 }, () => as(JACK, '/plugin/cloud/profile?user=jack')));
    provider.apiDelayMs = 0;
    assert.deepEqual(
      answers.map((r) => r.status),
      Array(8).fill(200),
    );
    assert.equal(provider.grants.refresh_token, refreshes + 1);
    assert.ok(((await storedToken())['expires_at'] as number) > Date.now() / 1000);
  });

  it('marks the user for re-authorisation when the provider refuses a refresh, and recovers after it', async () => {
    provider.refuseRefresh = true;
    await expireStoredToken();
    const failed = await as(JACK, '/plugin/cloud/profile?user=jack');
    assert.equal(failed.status, 403);
    assert.match(await failed.text(), /jack must authorise cloud again/);
    assert.equal(await (await as(JACK, '/plugin/cloud/authState?user=jack')).text(), 'reauthorise');
    const status = await (await s.request('/data/status/sensors/cloud', { headers: { accept: 'application/json' } })).json();
    assert.equal(status.cloud.alive, false);
    assert.match(status.cloud.errorMessage, /jack must authorise cloud again/);
    const attempts = provider.grants.refresh_token;
    assert.equal((await as(JACK, '/plugin/cloud/profile?user=jack')).status, 403);
    assert.equal(provider.grants.refresh_token, attempts, 'no more refreshes until the user authorises again');

    provider.refuseRefresh = false;
    const callback = await authorise();
    assert.equal((await as(undefined, callback.pathname + callback.search)).status, 200);
    assert.equal(await (await as(JACK, '/plugin/cloud/authState?user=jack')).text(), 'authorised');
    assert.equal((await as(JACK, '/plugin/cloud/profile?user=jack')).status, 200);
  });
});

describe('behind a reverse proxy', () => {
  it('derives the redirect URI from --public-url', async () => {
    const dir = await tempDir();
    await cp(join(FIXTURES, 'tester'), join(dir, 'plugins', 'tester'), { recursive: true });
    const proxied = await startTestServer({ publicUrl: 'https://home.example.org/igor' }, dir);
    await proxied.request('/internal/plugins/cloud?source=tester', { method: 'PUT' });
    for (const [key, value] of Object.entries({ client_id: 'c', client_secret: 's', authBase: 'https://provider.example' })) {
      await proxied.request(`/data/plugindata/cloud/${key}`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: value });
    }
    const r = await proxied.request('/plugin/cloud/auth1?user=admin', { redirect: 'manual' });
    const url = new URL(r.headers.get('location')!);
    assert.equal(url.searchParams.get('redirect_uri'), 'https://home.example.org/igor/plugin/cloud/auth2');
  });
});
