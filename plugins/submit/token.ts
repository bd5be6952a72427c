/**
 * /token: a registered client trades its client_id for an auth token that expires (90 minutes unless it asks
 * for another time, at most a week), sent back to its callback URL as the original did, or as JSON.
 */
import type { JsonObject, PluginCall, PluginHost } from 'igor-ts/plugin-api';
import { statusAnswer } from './answers.ts';
import { text, type SubmitRecords } from './records.ts';

const DEFAULT_EXPIRY_MINUTES = 90;
export const MAX_EXPIRY_MINUTES = 7 * 24 * 60;

/** expiry_minutes as given: a whole number of minutes from 1 to a week, the default when absent; else undefined. */
export function expiryMinutes(given: string | undefined): number | undefined {
  const minutes = given === undefined || given === '' ? DEFAULT_EXPIRY_MINUTES : Number(given);
  return Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_EXPIRY_MINUTES ? minutes : undefined;
}

export function tokenMethod(host: PluginHost, records: SubmitRecords) {
  const status = statusAnswer(host);
  return async function token(call: PluginCall) {
    const clientId = call.params['client_id'] ?? '';
    const client = clientId ? records.client(clientId) : undefined;
    if (!client) return status(403, 'not_authorized');
    const minutes = expiryMinutes(call.params['expiry_minutes']);
    if (minutes === undefined) {
      return status(400, 'bad_expiry_minutes', { message: `expiry_minutes is a whole number from 1 to ${MAX_EXPIRY_MINUTES}` });
    }
    const participant = call.params['participant_id'];
    if (participant !== undefined && participant.length > 200)
      return status(400, 'bad_participant_id', { message: 'participant_id has at most 200 characters' });
    const { authToken, expiry } = await records.issueToken(clientId, minutes, participant);
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
  };
}
