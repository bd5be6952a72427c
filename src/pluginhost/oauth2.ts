/**
 * OAuth2 (authorization code grant, over simple-oauth2) for a plugin: auth1 sends the user's browser to the
 * provider with a random, single-use, expiring `state` bound to the user and plugin; auth2 checks it, trades
 * the code for a token and stores it under identities/U/plugindata/NAME/token. Requests then carry the token,
 * refreshed before it expires and after a 401 — one refresh at a time per user, stored before it is used. A
 * refresh the provider refuses marks the user as needing to authorise again.
 */
import { randomBytes } from 'node:crypto';
import { AuthorizationCode, type AccessToken, type ModuleOptions } from 'simple-oauth2';
import { BadGatewayError, BadRequestError, ForbiddenError, IgorError, NotFoundError } from '../errors.ts';
import type { HttpRequest, HttpResponse, Json, JsonObject, OAuth2Client, OAuth2Provider, PluginCall, TreeChange } from '../plugin-api.ts';

/** Request parameters of a user entry call that are not settings. */
const NOT_SETTINGS = new Set([
  'token',
  'needsAuthorisation',
  'userId',
  'user',
  '_csrf',
  'returnTo',
  'create',
  'delete',
  'forget',
  '_newName',
  '_newValue',
]);

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
  /** Marks the user as needing to authorise again (or clears the mark), and says so under status/. */
  setNeedsAuthorisation(user: string, reason: string | undefined): Promise<void>;
  needsAuthorisation(user: string): boolean;
  http(url: string, req?: HttpRequest): Promise<HttpResponse>;
  timeoutMs: number;
}

export class OAuth2Flow implements OAuth2Client {
  private readonly pending = new Map<string, { user: string; expires: number }>();
  private readonly refreshing = new Map<string, Promise<string>>();

  constructor(private readonly deps: OAuth2Deps) {}

  private client(): { client: AuthorizationCode; provider: OAuth2Provider } {
    const provider = this.deps.provider();
    if (!provider.clientId || !provider.clientSecret) {
      throw new BadRequestError(
        `${this.deps.plugin} has no client_id and client_secret yet: set them on its setup page (plugindata/${this.deps.plugin})`,
      );
    }
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
    return { client: new AuthorizationCode(options), provider };
  }

  /** auth1 (and a CLI's authorise command): where to send the user's browser. */
  authorizeUrl(user: string): string {
    const { client, provider } = this.client();
    const now = Date.now();
    for (const [state, p] of this.pending) if (p.expires < now) this.pending.delete(state);
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    const state = randomBytes(24).toString('base64url');
    this.pending.set(state, { user, expires: now + STATE_LIFETIME_MS });
    return client.authorizeURL({ redirect_uri: this.deps.redirectUri(), scope: provider.scope ?? [], state });
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
    const { client } = this.client();
    let token: AccessToken;
    try {
      token = await client.getToken({ code, redirect_uri: this.deps.redirectUri() });
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

  async userEntry(call: PluginCall, defaults: JsonObject): Promise<JsonObject> {
    const user = call.user;
    if (!user) throw new BadRequestError(`${this.deps.plugin}'s user entry needs user=NAME`);
    const base = `/data/identities/${user}/plugindata/${this.deps.plugin}`;
    const p = call.params;
    if (p['delete']) await call.data.delete(base);
    else if (p['forget']) await call.data.delete(`${base}/token | ${base}/needsAuthorisation`);
    else if (p['create'] && !call.userData) await call.data.put(base, defaults);
    else if (call.method === 'POST') {
      if (!call.userData) throw new NotFoundError(`${user} has no ${this.deps.plugin} entry yet: create it first`);
      const fields = Object.entries(p).filter(([k]) => !NOT_SETTINGS.has(k));
      if (p['_newName']) fields.push([p['_newName'], p['_newValue'] ?? '']);
      const changes: TreeChange[] = [];
      for (const [key, value] of fields) {
        if (!/^[A-Za-z_][\w.-]*$/.test(key) || NOT_SETTINGS.has(key)) throw new BadRequestError(`"${key}" cannot be a setting name`);
        changes.push(value === '' ? { op: 'delete', xpath: `${base}/${key}` } : { op: 'put', xpath: `${base}/${key}`, value });
      }
      await call.data.batch(changes);
    }
    const data = this.deps.readUserData(user);
    const shown: JsonObject = {};
    for (const [k, v] of Object.entries(data ?? {})) if (k !== 'token' && k !== 'needsAuthorisation') shown[k] = v;
    return { user, exists: data !== undefined, authorisation: this.state(user), settings: shown };
  }

  state(user: string): 'none' | 'authorised' | 'reauthorise' {
    if (this.deps.needsAuthorisation(user)) return 'reauthorise';
    return this.deps.readToken(user)?.['access_token'] ? 'authorised' : 'none';
  }

  private stored(user: string): JsonObject {
    const token = this.deps.readToken(user);
    if (!token?.['access_token'])
      throw new ForbiddenError(`${user} has not authorised ${this.deps.plugin} yet: open its setup page and follow the authorise link`);
    if (this.deps.needsAuthorisation(user))
      throw new ForbiddenError(`${user} must authorise ${this.deps.plugin} again: open its setup page and follow the authorise link`);
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
      const reason = `${user}'s ${this.deps.plugin} token was refused and there is no refresh token; ${user} must authorise ${this.deps.plugin} again`;
      await this.deps.setNeedsAuthorisation(user, reason);
      throw new ForbiddenError(reason);
    }
    const { client } = this.client();
    let fresh: AccessToken;
    try {
      fresh = await client.createToken({ ...current }).refresh(); // expires_at in seconds is understood
    } catch (err) {
      const status = (err as { output?: { statusCode?: number } }).output?.statusCode;
      if (status === 400 || status === 401) {
        // invalid_grant and the like: the refresh token is revoked or expired; only the user can fix that.
        const reason = `the provider refused to refresh the token (${describeProviderError(err)}); ${user} must authorise ${this.deps.plugin} again`;
        await this.deps.setNeedsAuthorisation(user, reason);
        throw new ForbiddenError(reason);
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
      const reason = `${url} refuses ${user}'s token even after a refresh; ${user} must authorise ${this.deps.plugin} again`;
      await this.deps.setNeedsAuthorisation(user, reason);
      throw new ForbiddenError(reason);
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

function describeProviderError(err: unknown): string {
  if (err instanceof IgorError) return err.message;
  const e = err as { output?: { statusCode?: number }; data?: { payload?: unknown }; message?: string };
  const payload = e.data?.payload;
  const detail = payload && typeof payload === 'object' ? JSON.stringify(payload) : payload ? String(payload) : '';
  return [e.output?.statusCode ? `HTTP ${e.output.statusCode}` : '', detail || e.message || String(err)].filter(Boolean).join(' ');
}
