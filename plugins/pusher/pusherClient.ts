/**
 * The thin client of Pusher's HTTP API: where it is (from plugindata/pusher), each request signed
 * (pusherApi.ts) and sent with the host's HTTP client, and Pusher's answer as JSON or as one sentence saying
 * what it refused (a 502 to our caller: the fault is between us and Pusher, not in the caller's request).
 */
import type { Json, JsonObject, PluginHost } from 'igor-ts/plugin-api';
import { signRequest } from './pusherApi.ts';

export function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

/** The app's credentials and the API's address. */
export interface PusherConfig {
  appId: string;
  key: string;
  secret: string;
  /** e.g. https://api-eu.pusher.com:443 */
  base: string;
}

/** What Pusher's refusal means, in words. */
function reasonOf(status: number): string {
  if (status === 400) return 'refused the request';
  if (status === 401) return 'refused our signature (check key and secret)';
  if (status === 403) return 'forbids it (app disabled or over quota?)';
  return `answered ${status}`;
}

export class PusherClient {
  constructor(private readonly host: PluginHost) {}

  /** Where the HTTP API is: host and port, or api-CLUSTER.pusher.com, or api.pusherapp.com; https unless ssl=false. */
  config(): PusherConfig {
    const s = this.host.settings();
    const setting = (key: string) => text(s[key]);
    const appId = setting('app_id');
    const key = setting('key');
    const secret = setting('secret');
    if (!/^\d+$/.test(appId) || !key || !secret) {
      const name = this.host.name;
      this.host.fail(
        400,
        `${name} is not set up: an admin sets app_id (digits), key and secret in plugindata/${name} (or on /plugin/${name}/settings)`,
      );
    }
    const ssl = setting('ssl') !== 'false';
    const hostName = setting('host') || (setting('cluster') ? `api-${setting('cluster')}.pusher.com` : 'api.pusherapp.com');
    const port = setting('port') || (ssl ? '443' : '80');
    return { appId, key, secret, base: `${ssl ? 'https' : 'http'}://${hostName}:${port}` };
  }

  /** One signed request to /apps/APP_ID/PATH: Pusher's JSON answer, or a 502 saying what it refused. */
  async call(method: 'GET' | 'POST', path: string, payload?: JsonObject, params?: Record<string, string>): Promise<Json> {
    const c = this.config();
    const signed = signRequest({
      key: c.key,
      secret: c.secret,
      method,
      path: `/apps/${c.appId}${path}`,
      ...(params ? { params } : {}),
      ...(payload ? { body: JSON.stringify(payload) } : {}),
    });
    const res = await this.host.http(c.base + signed.url, {
      method,
      headers: { 'x-pusher-library': 'igor-ts pusher 1.0', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: signed.body } : {}),
    });
    if (res.status === 200 || res.status === 202) {
      try {
        return JSON.parse(res.body || '{}') as Json;
      } catch {
        this.host.fail(502, `Pusher answered with something that is not JSON`);
      }
    }
    this.host.fail(502, `Pusher ${reasonOf(res.status)}: ${res.body.trim().slice(0, 300)}`);
  }
}
