/**
 * The one way the host makes HTTP calls (CLI client, actions, plugins): fetch with a timeout,
 * answering with status, headers and the body as text.
 */
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
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

/** One connection pool per extra CA, kept: a new Agent per call would defeat keep-alive. */
const agents = new Map<string, Agent>();

function agentFor(ca: string): Agent {
  let agent = agents.get(ca);
  if (!agent) {
    agent = new Agent({ connect: { ca: [...rootCertificates, ca] } });
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

export async function httpRequest(url: string, req: HttpRequest = {}): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? 30_000;
  try {
    const res = await fetch(url, {
      method: req.method ?? 'GET',
      headers: req.headers,
      body: req.body as BodyInit | undefined,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      ...(req.ca ? { dispatcher: agentFor(req.ca) } : {}),
    } as RequestInit);
    return { status: res.status, headers: res.headers, body: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new TimeoutError(`${req.method ?? 'GET'} ${url} did not answer within ${timeoutMs} ms`);
    throw new ConnectionError(`cannot reach ${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
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
  const connect = AbortSignal.timeout(connectTimeoutMs);
  try {
    const res = await fetch(url, {
      method: req.method ?? 'GET',
      headers: req.headers,
      body: req.body as BodyInit | undefined,
      redirect: 'manual',
      signal: AbortSignal.any([req.signal, connect]),
      ...(req.ca ? { dispatcher: agentFor(req.ca) } : {}),
    } as RequestInit);
    if (!res.body) throw new ConnectionError(`${url} answered without a body`);
    return { status: res.status, headers: res.headers, body: res.body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new TimeoutError(`${req.method ?? 'GET'} ${url} did not answer within ${connectTimeoutMs} ms`);
    if (e.name === 'AbortError' || e instanceof ConnectionError) throw err;
    throw new ConnectionError(`cannot reach ${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
}
