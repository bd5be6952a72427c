/**
 * /register: a client app registers once with the secret registration token and the URL /token sends it back
 * to. A callback on this machine is refused outside development mode: a token handed to a loopback URL would
 * be handed to whatever listens on this server's own machine.
 */
import type { PluginCall, PluginHost } from 'igor-ts/plugin-api';
import { statusAnswer } from './answers.ts';
import type { SubmitRecords } from './records.ts';

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

/** A callback URL as given: a URL, or the status and message that refuse it. */
export function callbackUrl(callback: string | undefined): URL | { status: string; message: string } {
  if (!callback) return { status: 'missing_callback_url', message: 'register needs callback_url: where /token sends the client back to' };
  let url: URL;
  try {
    url = new URL(callback);
  } catch {
    return { status: 'bad_callback_url', message: `callback_url ${callback} is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { status: 'bad_callback_url', message: 'callback_url must be http(s)' };
  return url;
}

export function registerMethod(host: PluginHost, records: SubmitRecords) {
  const status = statusAnswer(host);
  return async function register(call: PluginCall) {
    await records.ready;
    const given = call.params['token'];
    if (!given) return status(403, 'not_authorized');
    if (!records.isRegistrationToken(given)) return status(403, 'not_authorized_token');
    const url = callbackUrl(call.params['callback_url']);
    if (!(url instanceof URL)) return status(400, url.status, { message: url.message });
    if (!host.devMode && isLoopback(url)) return status(403, 'not_authorized_url');
    return { client_id: await records.addClient(url) };
  };
}
