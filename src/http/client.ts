/**
 * The one way the host makes HTTP calls (CLI client, actions, plugins): fetch with a timeout, answering with
 * status, headers and the body as text. A call made for someone else goes through the outbound guard
 * (outbound.ts): public addresses only, checked when the connection is made. Messages never carry the user name
 * and password a URL may hold.
 */
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Agent } from 'undici';
import { TimeoutError } from '../errors.ts';
import type { HttpRequest, HttpResponse } from '../plugin-api.ts';
import { checkDestination, REFUSED_ADDRESS, refusedConnection, type OutboundPolicy } from './outbound.ts';
import { redactUrls } from './redact.ts';

/**
 * One connection pool per extra CA and outbound policy, kept: a new Agent per call would defeat keep-alive.
 * undici (about 330 files) is loaded only when a call needs its own CA or a checked lookup: plain calls use
 * Node's built-in fetch.
 */
const agents = new Map<string, Promise<Agent>>();
/** Each outbound policy (one per server) gets its own pools: its lookup is part of the connection. */
const policyKeys = new WeakMap<OutboundPolicy, number>();
let policies = 0;

function agentFor(ca: string | undefined, policy: OutboundPolicy | undefined, lookup: LookupFunction | undefined): Promise<Agent> {
  if (policy && !policyKeys.has(policy)) policyKeys.set(policy, ++policies);
  const key = `${ca ?? ''}\0${policy ? policyKeys.get(policy) : ''}`;
  let agent = agents.get(key);
  if (!agent) {
    const connect = { ...(ca ? { ca: [...rootCertificates, ca] } : {}), ...(lookup ? { lookup } : {}) };
    agent = import('undici').then(({ Agent }) => new Agent({ connect }));
    agents.set(key, agent);
  }
  return agent;
}

/** The server could not be reached at all (refused, reset, DNS). */
export class ConnectionError extends Error {}

/**
 * fetch() with the options every call here shares: no redirects followed, the extra CA if any, and for a call
 * made for someone (`guard`) the destination checked before and while connecting.
 */
async function send(url: string, req: HttpRequest, signal: AbortSignal, guard?: OutboundPolicy): Promise<Response> {
  const { lookup } = guard ? checkDestination(url, guard) : {};
  const { target, headers } = credentialsAsHeader(url, req.headers);
  return fetch(target, {
    method: req.method ?? 'GET',
    headers,
    body: req.body as BodyInit | undefined,
    redirect: 'manual',
    signal,
    ...(req.ca || lookup ? { dispatcher: await agentFor(req.ca, lookup && guard, lookup) } : {}),
  } as RequestInit);
}

/**
 * A URL's user name and password, sent as HTTP Basic as Igor's calls send them (fetch refuses such a URL), unless
 * the request has its own Authorization header.
 */
function credentialsAsHeader(url: string, given: Record<string, string> = {}): { target: string; headers: Record<string, string> } {
  const parsed = URL.parse?.(url) ?? null;
  if (!parsed || (!parsed.username && !parsed.password)) return { target: url, headers: given };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const has = Object.keys(given).some((k) => k.toLowerCase() === 'authorization');
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { target: parsed.href, headers: has ? given : { ...given, Authorization: basic } };
}

/** A failed fetch as one of ours: it took too long, the server could not be reached, or it may not be. */
function failure(err: unknown, url: string, req: HttpRequest, timeoutMs: number): Error {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const shown = redactUrls(url);
  if (e.name === 'TimeoutError') return new TimeoutError(`${req.method ?? 'GET'} ${shown} did not answer within ${timeoutMs} ms`);
  if (e.cause?.code === REFUSED_ADDRESS) return refusedConnection(url, e.cause);
  if (e.name === 'AbortError' || e instanceof ConnectionError || (e as { status?: number }).status === 403) return e;
  return new ConnectionError(`cannot reach ${shown}: ${redactUrls(e.cause?.code ?? e.cause?.message ?? e.message)}`);
}

/** An HTTP call; `guard`: made for someone, so only to destinations the outbound policy allows (a 403 if not). */
export async function httpRequest(url: string, req: HttpRequest = {}, guard?: OutboundPolicy): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? 30_000;
  try {
    const res = await send(url, req, AbortSignal.timeout(timeoutMs), guard);
    return { status: res.status, headers: res.headers, body: await res.text() };
  } catch (err) {
    throw failure(err, url, req, timeoutMs);
  }
}

export interface HttpStream {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array>;
}

/**
 * A request whose answer is read as it arrives (an event stream): `connectTimeoutMs` limits the wait for the
 * answer's headers, `signal` ends it.
 */
export async function httpStream(url: string, req: HttpRequest & { signal: AbortSignal; connectTimeoutMs?: number }): Promise<HttpStream> {
  const connectTimeoutMs = req.connectTimeoutMs ?? 30_000;
  try {
    const res = await send(url, req, AbortSignal.any([req.signal, AbortSignal.timeout(connectTimeoutMs)]));
    if (!res.body) throw new ConnectionError(`${url} answered without a body`);
    return { status: res.status, headers: res.headers, body: res.body };
  } catch (err) {
    throw failure(err, url, req, connectTimeoutMs);
  }
}
