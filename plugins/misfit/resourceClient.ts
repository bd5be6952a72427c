/**
 * The thin client of Misfit's Resource API: one call for a person (with their token, through the host's OAuth2
 * helper), its answer as a JSON object, and Misfit's refusals as one sentence each: its rate limit as a 429
 * with Retry-After, a bad argument as a 400 or 404, anything else as a 502.
 */
import type { Json, JsonObject, OAuth2Client, PluginHost } from 'igor-ts/plugin-api';
import { failureOf } from './misfitApi.ts';

/** Seconds until Misfit's rate limit resets (X-RateLimit-Reset, seconds since 1970), or a minute when it does not say. */
export function resetSeconds(reset: string | null, nowMs: number): number {
  const at = Number(reset);
  return reset && Number.isFinite(at) && at > 0 ? Math.max(1, Math.ceil(at - nowMs / 1000)) : 60;
}

export class MisfitClient {
  constructor(
    private readonly host: PluginHost,
    private readonly oauth: OAuth2Client,
    /** The API's base URL, from the settings, read at each call. */
    private readonly apiBase: () => string,
  ) {}

  /** One Resource API call for a user: the parsed answer, or a failure saying what Misfit said. */
  async fetch(user: string, path: string): Promise<JsonObject> {
    const res = await this.oauth.request(user, `${this.apiBase()}/move/resource/v1/user/me/${path}`, {
      headers: { accept: 'application/json' },
    });
    if (res.status === 429) {
      const seconds = resetSeconds(res.headers.get('x-ratelimit-reset'), Date.now());
      const limit = res.headers.get('x-ratelimit-limit') ?? '?';
      const when = new Date(Date.now() + seconds * 1000).toISOString();
      this.host.fail(429, `Misfit's rate limit (${limit} calls an hour) is used up; it resets at ${when} (in ${seconds} s)`, {
        'retry-after': String(seconds),
      });
    }
    if (res.status >= 400) {
      const failure = failureOf(res.status, res.body);
      this.host.fail(
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
    this.host.fail(502, `Misfit answered ${path} with something that is not a JSON object`);
  }
}
