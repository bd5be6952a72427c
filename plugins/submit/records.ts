/**
 * What submit keeps in the tree: the registration token and the registered clients (plugindata/submit), the
 * auth tokens handed out (only their SHA-256, never the token itself, so a copy of the tree lets no one submit),
 * and the submissions (sensors/submit/CLIENT_ID). The one place that knows these paths.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Json, JsonObject, PluginHost } from 'igor-ts/plugin-api';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
export const text = (v: Json | undefined) => (v === undefined || v === null || typeof v === 'object' ? '' : String(v));
const asObject = (v: Json | undefined) => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);

/** An auth token as the client is given it. */
export interface IssuedToken {
  authToken: string;
  expiry: Date;
}

export class SubmitRecords {
  private readonly base: string;
  private readonly sensors: string;
  /** Settled once there is a registration token (made at the first start). */
  readonly ready: Promise<void>;

  constructor(private readonly host: PluginHost) {
    this.base = `/data/plugindata/${host.name}`;
    this.sensors = `/data/sensors/${host.name}`;
    this.ready = this.registrationToken() ? Promise.resolve() : this.rotateRegistrationToken().then(() => undefined);
  }

  registrationToken(): string {
    return text(this.host.data.get(`${this.base}/token_id`));
  }

  /** Whether `given` is the registration token, compared in constant time. */
  isRegistrationToken(given: string): boolean {
    const expected = Buffer.from(this.registrationToken());
    const presented = Buffer.from(given);
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }

  /** A new registration token, logged for the admin (clients registered with the old one keep working). */
  async rotateRegistrationToken(): Promise<string> {
    const token = hex(16);
    await this.host.data.put(`${this.base}/token_id`, token);
    this.host.logger.info(`TOKEN=${token}`, {
      hint: `the registration token of ${this.host.name}: client apps register with /plugin/${this.host.name}/register?token=…`,
    });
    return token;
  }

  /** A new client calling back to `callback`; answers its id. */
  async addClient(callback: URL): Promise<string> {
    const id = `c${hex(16)}`;
    await this.host.data.post(`${this.base}/clients/client`, { id, callback_url: callback.href, registered: new Date().toISOString() });
    this.host.logger.info(`New client: ${id} Callback: ${callback.href}`);
    return id;
  }

  client(id: string): JsonObject | undefined {
    if (!/^c[0-9a-f]{32}$/.test(id)) return undefined;
    return asObject(this.host.data.get(`${this.base}/clients/client[id='${id}']`));
  }

  clients(): Json[] {
    return this.host.data.getAll(`${this.base}/clients/client`);
  }

  /** A new auth token for a client, expiring in `minutes`, kept as its hash. */
  async issueToken(clientId: string, minutes: number, participant?: string): Promise<IssuedToken> {
    const authToken = hex(16);
    const expiry = new Date(Date.now() + minutes * 60_000);
    await this.host.data.post(`${this.base}/tokens/token`, {
      hash: sha256(authToken),
      client_id: clientId,
      expires: Math.floor(expiry.getTime() / 1000),
      ...(participant ? { participant_id: participant } : {}),
    });
    return { authToken, expiry };
  }

  /** The record of an auth token, expired or not, or undefined when there is none. */
  token(given: string): JsonObject | undefined {
    if (!/^[0-9a-f]{32}$/.test(given)) return undefined;
    return asObject(this.host.data.get(`${this.base}/tokens/token[hash='${sha256(given)}']`));
  }

  /** The record of a token that is good at `now` (seconds) and whose client is still registered, or why not. */
  checkToken(given: string, now: number): { record: JsonObject } | { refused: 'Unauthorized token' | 'Token expired' } {
    const record = this.token(given);
    if (!record) return { refused: 'Unauthorized token' };
    if (Number(record['expires']) < now) return { refused: 'Token expired' };
    if (!this.client(text(record['client_id']))) return { refused: 'Unauthorized token' };
    return { record };
  }

  /** The record of a token that is good at `now` (seconds) and whose client is still registered. */
  validToken(given: unknown, now: number): JsonObject | undefined {
    const checked = typeof given === 'string' ? this.checkToken(given, now) : undefined;
    return checked && 'record' in checked ? checked.record : undefined;
  }

  async dropExpiredTokens(now: number): Promise<void> {
    await this.host.data.delete(`${this.base}/tokens/token[expires < ${now}]`);
  }

  async addSubmission(clientId: string, submission: JsonObject): Promise<void> {
    await this.host.data.post(`${this.sensors}/${clientId}/submission`, submission);
  }
}
