/**
 * OAuth2 (authorization code grant, over simple-oauth2) for a plugin: auth1 sends the user's browser to the
 * provider with a random, single-use, expiring `state` bound to the user and plugin; auth2 checks it, trades
 * the code for a token and stores it under identities/U/plugindata/NAME/token. Requests then carry the token,
 * refreshed before it expires and after a 401 — one refresh at a time per user, stored before it is used. A
 * refresh the provider refuses marks the user as needing to authorise again. A person's entry, as a setup page
 * shows and changes it, is userEntry.ts's.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AccessToken, AuthorizationCode, ModuleOptions } from 'simple-oauth2';
import { BadGatewayError, BadRequestError, ForbiddenError, IgorError } from '../errors.ts';
import type { HttpRequest, HttpResponse, Json, JsonObject, OAuth2Client, OAuth2Provider, PluginCall } from '../plugin-api.ts';
import { userEntry } from './userEntry.ts';

/** How long a `state` from auth1 stays good: the time a person takes to log in at the provider. */
const STATE_LIFETIME_MS = 10 * 60 * 1000;
const MAX_PENDING = 1000;
/** Refresh this long before the token expires rather than have a request fail. */
const EXPIRY_MARGIN_S = 60;

export interface OAuth2Deps {
  plugin: string;
  provider: () => OAuth2Provider;
  redirectUri: () => string;
  /** The user's stored token (with secrets), or undefined. */
  readToken(user: string): JsonObject | undefined;
  /** The users who have a token. */
  usersWithTokens(): string[];
  /** identities/USER/plugindata/NAME, or undefined. */
  readUserData(user: string): JsonObject | undefined;
  writeToken(user: string, token: JsonObject): Promise<void>;
  /** Marks the user as needing to authorise again, saying why (or clears the mark), and says so under status/. */
  setNeedsAuthorisation(user: string, reason: string | undefined): Promise<void>;
  /** Why the user must authorise again, or undefined. */
  authorisationProblem(user: string): string | undefined;
  http(url: string, req?: HttpRequest): Promise<HttpResponse>;
  timeoutMs: number;
}

export class OAuth2Flow implements OAuth2Client {
  /** Authorisations under way, by state: whose, until when, and the PKCE verifier. */
  private readonly pending = new Map<string, { user: string; expires: number; verifier?: string }>();
  private readonly refreshing = new Map<string, Promise<string>>();

  constructor(private readonly deps: OAuth2Deps) {}

  /** The provider's settings, once it has the client id and secret every step needs. */
  private provider(): OAuth2Provider & { clientId: string; clientSecret: string } {
    const provider = this.deps.provider();
    if (!provider.clientId || !provider.clientSecret) {
      throw new BadRequestError(
        `${this.deps.plugin} has no client_id and client_secret yet: set them on its setup page (plugindata/${this.deps.plugin})`,
      );
    }
    return provider as OAuth2Provider & { clientId: string; clientSecret: string };
  }

  /**
   * simple-oauth2 for the calls to the token endpoint. It (with joi and @hapi/wreck, about 250 files and
   * 15 MB) is loaded at the first token trade or refresh, not at start-up: most starts never need it.
   */
  private async client(): Promise<AuthorizationCode> {
    const provider = this.provider();
    const { AuthorizationCode } = await import('simple-oauth2');
    const token = new URL(provider.tokenUrl);
    const authorize = new URL(provider.authorizeUrl);
    const options: ModuleOptions = {
      client: { id: provider.clientId, secret: provider.clientSecret },
      auth: {
        tokenHost: token.origin,
        tokenPath: token.pathname,
        refreshPath: token.pathname,
        authorizeHost: authorize.origin,
        authorizePath: authorize.pathname,
      },
      options: { authorizationMethod: provider.clientAuth ?? 'header' },
      http: { timeout: this.deps.timeoutMs } as ModuleOptions['http'],
    };
    return new AuthorizationCode(options);
  }

  /** auth1 (and a CLI's authorise command): where to send the user's browser. */
  authorizeUrl(user: string): string {
    const provider = this.provider();
    const now = Date.now();
    for (const [state, p] of this.pending) if (p.expires < now) this.pending.delete(state);
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    const state = randomBytes(24).toString('base64url');
    // PKCE (RFC 7636): only the holder of the verifier, kept here, can trade the code the browser carries.
    const verifier = provider.pkce ? randomBytes(32).toString('base64url') : undefined;
    this.pending.set(state, { user, expires: now + STATE_LIFETIME_MS, verifier });
    const challenge = verifier
      ? { code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' }
      : {};
    // RFC 6749 4.1.1, built here rather than by simple-oauth2 so that sending a browser on its way does not load it.
    const url = new URL(provider.authorizeUrl);
    const params = {
      response_type: 'code',
      client_id: provider.clientId,
      ...provider.authorizeParams,
      ...challenge,
      redirect_uri: this.deps.redirectUri(),
      scope: (provider.scope ?? []).join(' '),
      state,
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  }

  /** auth2: checks the state (once), trades the code for a token, stores it; answers whose token it is. */
  async complete(params: Record<string, string>): Promise<string> {
    if (params['error'])
      throw new BadRequestError(`the provider did not authorise ${this.deps.plugin}: ${params['error_description'] ?? params['error']}`);
    const { code, state } = params;
    if (!code || !state) throw new BadRequestError('auth2 needs the code and state the provider sends back');
    const pending = this.pending.get(state);
    this.pending.delete(state);
    if (!pending || pending.expires < Date.now()) {
      throw new ForbiddenError(
        'this authorisation was not started here, was already used, or took too long; start again from the setup page',
      );
    }
    const client = await this.client();
    let token: AccessToken;
    try {
      token = await client.getToken({
        code,
        redirect_uri: this.deps.redirectUri(),
        ...(pending.verifier ? { code_verifier: pending.verifier } : {}),
      });
    } catch (err) {
      throw new BadGatewayError(`the provider refused the authorisation code: ${describeProviderError(err)}`);
    }
    await this.deps.writeToken(pending.user, storable(token.token));
    await this.deps.setNeedsAuthorisation(pending.user, undefined);
    return pending.user;
  }

  authorisedUsers(): string[] {
    return this.deps.usersWithTokens().filter((u) => this.state(u) === 'authorised');
  }

  async forAuthorisedUsers(work: (user: string) => Promise<Json>): Promise<JsonObject> {
    const results: JsonObject = {};
    const failures: string[] = [];
    for (const user of this.authorisedUsers()) {
      try {
        results[user] = await work(user);
      } catch (err) {
        failures.push(`${user}: ${(err as Error).message.trim()}`);
      }
    }
    if (failures.length) throw new BadGatewayError(failures.join('\n'));
    return results;
  }

  /** A person's entry as a setup page uses it: kept in userEntry.ts; the flow lends it the token's state and revocation. */
  userEntry(call: PluginCall, defaults: JsonObject): Promise<JsonObject> {
    return userEntry(
      {
        ...this.deps,
        state: (user) => this.state(user),
        revoke: (user) => this.revoke(user),
      },
      call,
      defaults,
    );
  }

  state(user: string): 'none' | 'authorised' | 'reauthorise' {
    if (this.deps.authorisationProblem(user) !== undefined) return 'reauthorise';
    return this.deps.readToken(user)?.['access_token'] ? 'authorised' : 'none';
  }

  grantedScopes(user: string): string[] | undefined {
    const scope = this.deps.readToken(user)?.['scope'];
    if (Array.isArray(scope)) return scope.map(String);
    return typeof scope === 'string' && scope.trim() ? scope.trim().split(/[\s,]+/) : undefined;
  }

  requireAuthorisation(user: string, reason: string): Promise<void> {
    return this.deps.setNeedsAuthorisation(user, reason);
  }

  /** Records why the user must authorise again, and fails the request saying so. */
  private async mustReauthorise(user: string, why: string): Promise<never> {
    await this.deps.setNeedsAuthorisation(user, why);
    throw new ForbiddenError(this.reauthoriseSentence(user, why));
  }

  private reauthoriseSentence(user: string, why: string): string {
    return `${user} must authorise ${this.deps.plugin} again: ${why}. Open /plugin/${this.deps.plugin}/page/setup.html?user=${user} and follow the authorise link`;
  }

  /**
   * Revokes the user's token at the provider (RFC 7009: the refresh token, which ends its access tokens too),
   * when the provider has a revocation endpoint; answers how that went in words, or undefined if there was
   * nothing to revoke. A failure does not keep the token here: the person asked to be forgotten.
   */
  private async revoke(user: string): Promise<string | undefined> {
    const token = this.deps.readToken(user);
    const provider = this.deps.provider();
    const value = token?.['refresh_token'] ?? token?.['access_token'];
    if (!provider.revokeUrl || typeof value !== 'string' || !value) return undefined;
    // The client authenticates as at the token endpoint (Fitbit requires it; Google ignores it).
    const form = new URLSearchParams({ token: value });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if ((provider.clientAuth ?? 'header') === 'header')
      headers['authorization'] = `Basic ${Buffer.from(`${provider.clientId}:${provider.clientSecret}`).toString('base64')}`;
    else form.set('client_id', provider.clientId);
    try {
      const res = await this.deps.http(provider.revokeUrl, { method: 'POST', headers, body: form.toString() });
      if (res.status < 300) return 'revoked at the provider';
      // 400 for a token the provider no longer knows: revoked already, as far as anyone can tell.
      if (res.status === 400) return 'the provider no longer knew the token';
      return `the provider did not revoke it (HTTP ${res.status}); remove this app from your account's connected apps there`;
    } catch (err) {
      return `the provider could not be reached to revoke it (${(err as Error).message}); remove this app from your account's connected apps there`;
    }
  }

  private stored(user: string): JsonObject {
    const token = this.deps.readToken(user);
    if (!token?.['access_token'])
      throw new ForbiddenError(`${user} has not authorised ${this.deps.plugin} yet: open its setup page and follow the authorise link`);
    const problem = this.deps.authorisationProblem(user);
    if (problem !== undefined) throw new ForbiddenError(this.reauthoriseSentence(user, problem));
    return token;
  }

  /** A usable access token: refreshed first if it expires within a minute. */
  private async accessToken(user: string): Promise<string> {
    const token = this.stored(user);
    const expiresAt = Number(token['expires_at']);
    if (Number.isFinite(expiresAt) && expiresAt - EXPIRY_MARGIN_S <= Date.now() / 1000)
      return this.refresh(user, String(token['access_token']));
    return String(token['access_token']);
  }

  /**
   * Refreshes the user's token, once for any number of concurrent callers. `stale` is the access token the
   * caller found wanting: if another refresh replaced it meanwhile, the newer one is used as it is.
   */
  private refresh(user: string, stale: string): Promise<string> {
    const current = this.stored(user);
    if (String(current['access_token']) !== stale) return Promise.resolve(String(current['access_token']));
    let running = this.refreshing.get(user);
    if (!running) {
      running = this.doRefresh(user, current).finally(() => this.refreshing.delete(user));
      this.refreshing.set(user, running);
    }
    return running;
  }

  private async doRefresh(user: string, current: JsonObject): Promise<string> {
    if (!current['refresh_token']) {
      // Some providers (Misfit) give no refresh token: a refused token can only be replaced by authorising again.
      return this.mustReauthorise(user, 'the token was refused and there is no refresh token to renew it');
    }
    const client = await this.client();
    let fresh: AccessToken;
    try {
      fresh = await client.createToken({ ...current }).refresh(); // expires_at in seconds is understood
    } catch (err) {
      const status = (err as { output?: { statusCode?: number } }).output?.statusCode;
      if (status === 400 || status === 401) {
        // invalid_grant and the like: the refresh token is revoked or expired; only the user can fix that.
        return this.mustReauthorise(user, `the provider refused to renew the token (${describeProviderError(err)})`);
      }
      throw new BadGatewayError(`could not refresh ${user}'s ${this.deps.plugin} token: ${describeProviderError(err)}`);
    }
    // A refresh answer may have no refresh_token (Google's never does: the old one stays valid). simple-oauth2
    // 5.1.0 then sets it to its own undefined `this.refresh_token` (lelylan/simple-oauth2#434): keep ours.
    const token = storable({ ...fresh.token, refresh_token: fresh.token['refresh_token'] ?? current['refresh_token'] });
    await this.deps.writeToken(user, token); // stored before use: a crash now does not lose the new refresh token
    return String(token['access_token']);
  }

  async request(user: string, url: string, req: HttpRequest = {}): Promise<HttpResponse> {
    const send = (accessToken: string) =>
      this.deps.http(url, { ...req, headers: { ...req.headers, authorization: `Bearer ${accessToken}` } });
    const token = await this.accessToken(user);
    const first = await send(token);
    if (first.status !== 401) return first;
    const second = await send(await this.refresh(user, token));
    if (second.status === 401) {
      return this.mustReauthorise(user, `${new URL(url).host} refuses the token even after renewing it`);
    }
    return second;
  }
}

/** The token as kept in the tree: expiry as seconds since the epoch, no Date objects. */
function storable(token: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(token)) {
    if (value instanceof Date) out[key] = Math.floor(value.getTime() / 1000);
    else if (value !== undefined) out[key] = value as Json;
  }
  return out;
}

/** A token endpoint's refusal in words: RFC 6749's error and description, or Fitbit's errors[], never raw JSON. */
function describeProviderError(err: unknown): string {
  if (err instanceof IgorError) return err.message;
  const e = err as { output?: { statusCode?: number }; data?: { payload?: unknown }; message?: string };
  const payload = e.data?.payload as
    | { error?: unknown; error_description?: unknown; errors?: { message?: string; errorType?: string }[] }
    | string
    | undefined;
  let detail = '';
  if (payload && typeof payload === 'object') {
    if (typeof payload.error === 'string')
      detail = [payload.error, typeof payload.error_description === 'string' ? payload.error_description : ''].filter(Boolean).join(': ');
    else if (Array.isArray(payload.errors))
      detail = payload.errors
        .map((x) => x?.message || x?.errorType)
        .filter(Boolean)
        .join('; ');
  } else if (typeof payload === 'string') detail = payload.slice(0, 200);
  return [e.output?.statusCode ? `HTTP ${e.output.statusCode}` : '', detail || e.message || String(err)].filter(Boolean).join(' ');
}
