/**
 * The one way the host makes HTTP calls (CLI client, actions, plugins): fetch with a timeout,
 * answering with status, headers and the body as text.
 */
import { rootCertificates } from 'node:tls';
import type { Agent } from 'undici';
import { TimeoutError } from '../errors.ts';

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array;
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Also trust this CA (PEM) for https, besides the system's. */
  ca?: string;
}

/**
 * One connection pool per extra CA, kept: a new Agent per call would defeat keep-alive. undici (about 330
 * files) is loaded only when a call needs its own CA: plain calls use Node's built-in fetch.
 */
const agents = new Map<string, Promise<Agent>>();

function agentFor(ca: string): Promise<Agent> {
  let agent = agents.get(ca);
  if (!agent) {
    agent = import('undici').then(({ Agent }) => new Agent({ connect: { ca: [...rootCertificates, ca] } }));
    agents.set(ca, agent);
  }
  return agent;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** The server could not be reached at all (refused, reset, DNS). */
export class ConnectionError extends Error {}

/** fetch() with the options every call here shares: no redirects followed, the extra CA if any. */
async function send(url: string, req: HttpRequest, signal: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: req.method ?? 'GET',
    headers: req.headers,
    body: req.body as BodyInit | undefined,
    redirect: 'manual',
    signal,
    ...(req.ca ? { dispatcher: await agentFor(req.ca) } : {}),
  } as RequestInit);
}

/** A failed fetch as one of ours: it took too long, or the server could not be reached. */
function failure(err: unknown, url: string, req: HttpRequest, timeoutMs: number): Error {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return new TimeoutError(`${req.method ?? 'GET'} ${url} did not answer within ${timeoutMs} ms`);
  if (e.name === 'AbortError' || e instanceof ConnectionError) return e;
  return new ConnectionError(`cannot reach ${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
}

export async function httpRequest(url: string, req: HttpRequest = {}): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? 30_000;
  try {
    const res = await send(url, req, AbortSignal.timeout(timeoutMs));
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
