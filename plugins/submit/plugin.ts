/**
 * submit: client apps register with a secret registration token, trade their client_id for expiring auth
 * tokens, and submit data (JSON and files) with them — the SIG voice-backend server (sensein/voice-backend,
 * serve.py at a367732) as a plugin, with its flaws fixed (see readme.md).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Json, JsonObject, PluginCall, PluginDefinition, PluginHost } from 'igor-ts/plugin-api';

const DEFAULT_EXPIRY_MINUTES = 90;
const MAX_EXPIRY_MINUTES = 7 * 24 * 60;
const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The most plugindata/submit/maxUploadBytes can raise the limit to: a request body is held in memory. */
const HARD_MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Loopback and unspecified addresses, in any of the spellings the URL parser normalises. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    host === '0.0.0.0' ||
    host === '[::1]' ||
    host === '[::]' ||
    /^\[::ffff:(7f[0-9a-f]{2}:|127\.)/.test(host) ||
    /^\[::ffff:0:0\]$/.test(host)
  );
}

function create(host: PluginHost) {
  const base = `/data/plugindata/${host.name}`;
  const sensors = `/data/sensors/${host.name}`;
  const status = (code: number, value: string, extra: JsonObject = {}) => host.reply(code, { status: value, ...extra });
  const text = (v: Json | undefined) => (v === undefined || v === null || typeof v === 'object' ? '' : String(v));

  async function rotateRegistrationToken(): Promise<string> {
    const token = hex(16);
    await host.data.put(`${base}/token_id`, token);
    host.logger.info(`TOKEN=${token}`, {
      hint: `the registration token of ${host.name}: client apps register with /plugin/${host.name}/register?token=…`,
    });
    return token;
  }
  const ready = text(host.data.get(`${base}/token_id`)) ? Promise.resolve() : rotateRegistrationToken().then(() => undefined);

  function knownClient(id: string): JsonObject | undefined {
    if (!/^c[0-9a-f]{32}$/.test(id)) return undefined;
    const found = host.data.get(`${base}/clients/client[id='${id}']`);
    return found && typeof found === 'object' && !Array.isArray(found) ? found : undefined;
  }

  async function register(call: PluginCall) {
    await ready;
    const given = call.params['token'];
    if (!given) return status(403, 'not_authorized');
    const expected = Buffer.from(text(host.data.get(`${base}/token_id`)));
    const presented = Buffer.from(given);
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return status(403, 'not_authorized_token');
    const callback = call.params['callback_url'];
    if (!callback)
      return status(400, 'missing_callback_url', { message: 'register needs callback_url: where /token sends the client back to' });
    let url: URL;
    try {
      url = new URL(callback);
    } catch {
      return status(400, 'bad_callback_url', { message: `callback_url ${callback} is not a URL` });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return status(400, 'bad_callback_url', { message: 'callback_url must be http(s)' });
    if (!host.devMode && isLoopback(url)) return status(403, 'not_authorized_url');
    const id = `c${hex(16)}`;
    await host.data.post(`${base}/clients/client`, { id, callback_url: url.href, registered: new Date().toISOString() });
    host.logger.info(`New client: ${id} Callback: ${url.href}`);
    return { client_id: id };
  }

  async function token(call: PluginCall) {
    const clientId = call.params['client_id'] ?? '';
    const client = clientId ? knownClient(clientId) : undefined;
    if (!client) return status(403, 'not_authorized');
    const minutesText = call.params['expiry_minutes'];
    const minutes = minutesText === undefined || minutesText === '' ? DEFAULT_EXPIRY_MINUTES : Number(minutesText);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_EXPIRY_MINUTES) {
      return status(400, 'bad_expiry_minutes', { message: `expiry_minutes is a whole number from 1 to ${MAX_EXPIRY_MINUTES}` });
    }
    const participant = call.params['participant_id'];
    if (participant !== undefined && participant.length > 200)
      return status(400, 'bad_participant_id', { message: 'participant_id has at most 200 characters' });
    const authToken = hex(16);
    const expiry = new Date(Date.now() + minutes * 60_000);
    await host.data.post(`${base}/tokens/token`, {
      hash: sha256(authToken),
      client_id: clientId,
      expires: Math.floor(expiry.getTime() / 1000),
      ...(participant ? { participant_id: participant } : {}),
    });
    const answer: JsonObject = {
      auth_token: authToken,
      expiry: expiry.toISOString(),
      ...(participant ? { participant_id: participant } : {}),
    };
    if (/application\/json/.test(call.headers['accept'] ?? '') || call.params['format'] === 'json') return answer;
    // As the original: back to the client's callback with the token; but properly encoded, and after any query it had.
    const target = new URL(text(client['callback_url']));
    for (const [k, v] of Object.entries(answer)) target.searchParams.set(k, String(v));
    return host.redirect(target.href, 302);
  }

  /** The data of a submission: the form field `responses` (JSON text), or a JSON body. */
  function responsesOf(call: PluginCall): Json | undefined {
    const json = call.body?.json;
    if (json !== undefined && json !== null && typeof json === 'object' && !Array.isArray(json)) {
      if ('responses' in json) {
        const r = json['responses'];
        return typeof r === 'string' ? parseResponses(r) : r;
      }
      const rest = Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'auth_token'));
      return Object.keys(rest).length ? rest : undefined;
    }
    if (json !== undefined) return json;
    const field = call.params['responses'];
    return field === undefined || field === '' ? undefined : parseResponses(field);
  }

  function parseResponses(textValue: string): Json {
    try {
      return JSON.parse(textValue) as Json;
    } catch (err) {
      throw new BadResponses(`responses is not valid JSON: ${(err as Error).message}`);
    }
  }

  /** The per-file limit, read afresh so that a changed setting counts at once. */
  const maxUploadBytes = () => Math.min(Number(text(host.settings()['maxUploadBytes'])) || DEFAULT_MAX_UPLOAD_BYTES, HARD_MAX_UPLOAD_BYTES);

  /** The client's token, if the call carries a valid one. */
  function tokenRecord(given: unknown, now: number): JsonObject | undefined {
    if (typeof given !== 'string' || !/^[0-9a-f]{32}$/.test(given)) return undefined;
    const record = host.data.get(`${base}/tokens/token[hash='${sha256(given)}']`);
    if (!record || typeof record !== 'object' || Array.isArray(record) || Number(record['expires']) < now) return undefined;
    return knownClient(text(record['client_id'])) ? record : undefined;
  }

  async function submit(call: PluginCall) {
    if (call.method !== 'POST')
      return host.reply(405, { status: 'method_not_allowed', message: 'submit takes a POST' }, { allow: 'POST, OPTIONS' });
    const given = call.params['auth_token'] ?? (call.body?.json as JsonObject | undefined)?.['auth_token'];
    if (typeof given !== 'string' || given === '') return status(403, 'Unauthorized');
    const now = Math.floor(Date.now() / 1000);
    const record = /^[0-9a-f]{32}$/.test(given) ? host.data.get(`${base}/tokens/token[hash='${sha256(given)}']`) : undefined;
    if (!record || typeof record !== 'object' || Array.isArray(record)) return status(403, 'Unauthorized token');
    if (Number(record['expires']) < now) {
      await host.data.delete(`${base}/tokens/token[expires < ${now}]`);
      return status(403, 'Token expired');
    }
    const clientId = text(record['client_id']);
    if (!knownClient(clientId)) return status(403, 'Unauthorized token');
    let responses: Json | undefined;
    try {
      responses = responsesOf(call);
    } catch (err) {
      if (err instanceof BadResponses) return status(400, 'bad_responses', { message: err.message });
      throw err;
    }
    const uploads = (call.body?.files ?? []).filter((f) => f.field === 'file' || f.filename);
    const limit = maxUploadBytes();
    for (const f of uploads) {
      if (f.data.length > limit) return status(413, 'file_too_large', { message: `a file may have at most ${limit} bytes` });
    }
    const files: JsonObject[] = [];
    for (const f of uploads) {
      const path = await host.files.write(clientId, f.filename || 'upload', f.data);
      files.push({ name: f.filename, path, size: f.data.length, contentType: f.contentType });
    }
    const participant = text(record['participant_id']);
    if (responses !== undefined || files.length) {
      const submission: JsonObject = {
        time: new Date().toISOString(),
        ...(participant ? { participant_id: participant } : {}),
        // A list cannot be one element: its items become repeated <response> elements.
        ...(responses !== undefined ? { responses: Array.isArray(responses) ? { response: responses } : responses } : {}),
        ...(files.length ? { file: files } : {}),
      };
      await host.data.post(`${sensors}/${clientId}/submission`, submission);
    }
    await host.data.delete(`${base}/tokens/token[expires < ${now}]`);
    return { status: 'accepted' };
  }

  const open = { access: 'public' as const, cors: true };
  return {
    methods: {
      index: { ...open, handler: () => ({ hello: 'world' }) },
      register: { ...open, handler: register },
      token: { ...open, handler: token },
      // Files make large bodies: only with a valid auth_token in the query, checked before the body is read.
      submit: {
        ...open,
        maxBodyBytes: HARD_MAX_UPLOAD_BYTES + 1024 * 1024,
        acceptsLargeBody: ({ params }: { params: Readonly<Record<string, string>> }) =>
          tokenRecord(params['auth_token'], Math.floor(Date.now() / 1000)) !== undefined,
        handler: submit,
      },
    },
    commands: {
      /** The registration token; --rotate makes a new one (clients registered with the old one keep working). */
      token: async (args: Record<string, string>) => {
        await ready;
        const value =
          args['rotate'] && args['rotate'] !== 'false' ? await rotateRegistrationToken() : text(host.data.get(`${base}/token_id`));
        return `${value}\n`;
      },
      /** The registered clients and their callback URLs. */
      clients: () => host.data.getAll(`${base}/clients/client`),
    },
  };
}

class BadResponses extends Error {}

export default {
  description: 'Client apps register, get expiring tokens and submit data (JSON and files)',
  create,
} satisfies PluginDefinition;
