/**
 * The Pusher Channels HTTP API as pusher-http-python speaks it: request signing (auth_version 1.0), the
 * validation rules of its 1.x README (the seed), channel authentication for private- and presence- channels,
 * and webhook validation. Pure functions, checked against the library's published vectors.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export class ValidationError extends Error {}

const CHANNEL = /^[-a-zA-Z0-9_=@,.;]+$/;
const SOCKET_ID = /^\d+\.\d+$/;
export const LIMITS = { channels: 10, channelName: 200, eventName: 200, data: 10240 };

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');
const hmac = (secret: string, text: string | Buffer) => createHmac('sha256', secret).update(text).digest('hex');

export function checkChannel(channel: string): string {
  if (typeof channel !== 'string' || !CHANNEL.test(channel) || channel.length > LIMITS.channelName) {
    throw new ValidationError(`"${channel}" is not a channel name: at most ${LIMITS.channelName} of a-z A-Z 0-9 - _ = @ , . ;`);
  }
  return channel;
}

export function checkSocketId(socketId: string): string {
  if (typeof socketId !== 'string' || !SOCKET_ID.test(socketId))
    throw new ValidationError(`"${socketId}" is not a socket_id (like 1234.12)`);
  return socketId;
}

export interface Signed {
  /** Path and query to request. */
  url: string;
  body: string;
}

/**
 * Signs a request: the body's MD5 (also for GET: the empty body's), auth_key, auth_timestamp and
 * auth_version join the query, sorted by key and not URL-encoded in the string to sign.
 */
export function signRequest(opts: {
  key: string;
  secret: string;
  method: 'GET' | 'POST';
  path: string;
  params?: Record<string, string>;
  body?: string;
  now?: number;
}): Signed {
  const body = opts.method === 'POST' ? (opts.body ?? '') : '';
  const params: Record<string, string> = {
    ...(opts.method === 'GET' ? opts.params : {}),
    auth_key: opts.key,
    auth_timestamp: String(Math.round(opts.now ?? Date.now() / 1000)),
    auth_version: '1.0',
    body_md5: md5(body),
  };
  const sorted = Object.keys(params).sort();
  const query = sorted.map((k) => `${k}=${params[k]}`).join('&');
  const signature = hmac(opts.secret, `${opts.method}\n${opts.path}\n${query}`);
  const encoded = [...sorted, 'auth_signature']
    .sort()
    .map((k) => `${k}=${encodeURIComponent(k === 'auth_signature' ? signature : params[k]!)}`)
    .join('&');
  return { url: `${opts.path}?${encoded}`, body };
}

export interface TriggerRequest {
  name: string;
  channels: string[];
  data: string;
  socket_id?: string;
}

/** Checks an event before anything is sent: channel names and count, event name and data length, socket_id. */
export function triggerBody(channels: string[], event: string, data: string, socketId?: string, limits = LIMITS): TriggerRequest {
  if (channels.length === 0) throw new ValidationError('give at least one channel');
  if (channels.length > limits.channels) throw new ValidationError(`at most ${limits.channels} channels at once, not ${channels.length}`);
  channels.forEach(checkChannel);
  if (!event) throw new ValidationError('give the event name');
  if (event.length > limits.eventName) throw new ValidationError(`the event name has at most ${limits.eventName} characters`);
  if (data.length > limits.data) throw new ValidationError(`too much data: ${data.length} characters, at most ${limits.data}`);
  return { name: event, channels, data, ...(socketId ? { socket_id: checkSocketId(socketId) } : {}) };
}

/**
 * The signature that lets a browser subscribe to a private- or presence- channel: key:HMAC(socket_id:channel
 * [:channel_data]). The signed channel_data is exactly the one returned.
 */
export function authenticate(opts: { key: string; secret: string; channel: string; socketId: string; customData?: unknown }): {
  auth: string;
  channel_data?: string;
} {
  checkChannel(opts.channel);
  checkSocketId(opts.socketId);
  const channelData = opts.customData === undefined ? undefined : JSON.stringify(opts.customData);
  const toSign = `${opts.socketId}:${opts.channel}${channelData !== undefined ? `:${channelData}` : ''}`;
  return { auth: `${opts.key}:${hmac(opts.secret, toSign)}`, ...(channelData !== undefined ? { channel_data: channelData } : {}) };
}

export interface Webhook {
  time_ms: number;
  events: { name: string; channel: string; user_id?: string; event?: string; data?: string; socket_id?: string }[];
}

/**
 * A webhook's body when X-Pusher-Key is ours, X-Pusher-Signature is HMAC-SHA256(secret, body) (compared in
 * constant time), the body is JSON and its time_ms is within 5 minutes of now; else undefined.
 */
export function validateWebhook(opts: {
  key: string;
  secret: string;
  headerKey: unknown;
  headerSignature: unknown;
  body: Buffer | string;
  nowMs?: number;
}): Webhook | undefined {
  if (typeof opts.headerKey !== 'string' || typeof opts.headerSignature !== 'string') return undefined;
  if (opts.headerKey !== opts.key) return undefined;
  const expected = Buffer.from(hmac(opts.secret, opts.body));
  const given = Buffer.from(opts.headerSignature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof opts.body === 'string' ? opts.body : opts.body.toString('utf8'));
  } catch {
    return undefined;
  }
  const timeMs = (parsed as { time_ms?: unknown } | null)?.time_ms;
  if (typeof timeMs !== 'number' || !timeMs) return undefined;
  if (Math.abs((opts.nowMs ?? Date.now()) - timeMs) > 300_000) return undefined;
  const events = (parsed as { events?: unknown }).events;
  return { time_ms: timeMs, events: Array.isArray(events) ? (events as Webhook['events']) : [] };
}
