/**
 * /submit: a client with a valid auth token submits data (the form field `responses` as JSON text, or a JSON
 * body) and files, stored under sensors/submit/CLIENT_ID/submission and files/submit/CLIENT_ID/.
 */
import type { Json, JsonObject, PluginCall, PluginHost } from 'igor-ts/plugin-api';
import { statusAnswer } from './answers.ts';
import { text, type SubmitRecords } from './records.ts';

const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The most plugindata/submit/maxUploadBytes can raise the limit to: a request body is held in memory. */
export const HARD_MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export class BadResponses extends Error {}

function parseResponses(textValue: string): Json {
  try {
    return JSON.parse(textValue) as Json;
  } catch (err) {
    throw new BadResponses(`responses is not valid JSON: ${(err as Error).message}`);
  }
}

/** The data of a submission: the form field `responses` (JSON text), or a JSON body; BadResponses if not JSON. */
export function responsesOf(call: Pick<PluginCall, 'body' | 'params'>): Json | undefined {
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

/** The files of a submission: the multipart fields named `file`, and any other field that is a file. */
function uploadsOf(call: PluginCall) {
  return (call.body?.files ?? []).filter((f) => f.field === 'file' || f.filename);
}

export function submitMethod(host: PluginHost, records: SubmitRecords) {
  const status = statusAnswer(host);
  /** The per-file limit, read afresh so that a changed setting counts at once. */
  const maxUploadBytes = () => Math.min(Number(text(host.settings()['maxUploadBytes'])) || DEFAULT_MAX_UPLOAD_BYTES, HARD_MAX_UPLOAD_BYTES);

  /** The client the call's auth token is for, or the refusal (with the original's words). */
  async function clientOf(call: PluginCall, now: number) {
    const given = call.params['auth_token'] ?? (call.body?.json as JsonObject | undefined)?.['auth_token'];
    if (typeof given !== 'string' || given === '') return { refused: status(403, 'Unauthorized') };
    const checked = records.checkToken(given, now);
    if ('refused' in checked) {
      if (checked.refused === 'Token expired') await records.dropExpiredTokens(now);
      return { refused: status(403, checked.refused) };
    }
    return { clientId: text(checked.record['client_id']), participant: text(checked.record['participant_id']) };
  }

  /** The files, written durably, as the submission lists them. */
  async function storeFiles(uploads: ReturnType<typeof uploadsOf>, clientId: string): Promise<JsonObject[]> {
    const files: JsonObject[] = [];
    for (const f of uploads) {
      const path = await host.files.write(clientId, f.filename || 'upload', f.data);
      files.push({ name: f.filename, path, size: f.data.length, contentType: f.contentType });
    }
    return files;
  }

  return async function submit(call: PluginCall) {
    if (call.method !== 'POST')
      return host.reply(405, { status: 'method_not_allowed', message: 'submit takes a POST' }, { allow: 'POST, OPTIONS' });
    const now = Math.floor(Date.now() / 1000);
    const who = await clientOf(call, now);
    if ('refused' in who) return who.refused;
    let responses: Json | undefined;
    try {
      responses = responsesOf(call);
    } catch (err) {
      if (err instanceof BadResponses) return status(400, 'bad_responses', { message: err.message });
      throw err;
    }
    const limit = maxUploadBytes();
    const uploads = uploadsOf(call);
    if (uploads.some((f) => f.data.length > limit))
      return status(413, 'file_too_large', { message: `a file may have at most ${limit} bytes` });
    const files = await storeFiles(uploads, who.clientId);
    if (responses !== undefined || files.length) {
      await records.addSubmission(who.clientId, {
        time: new Date().toISOString(),
        ...(who.participant ? { participant_id: who.participant } : {}),
        // A list cannot be one element: its items become repeated <response> elements.
        ...(responses !== undefined ? { responses: Array.isArray(responses) ? { response: responses } : responses } : {}),
        ...(files.length ? { file: files } : {}),
      });
    }
    await records.dropExpiredTokens(now);
    return { status: 'accepted' };
  };
}
