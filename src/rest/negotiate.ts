/**
 * Content negotiation among the three representations the tree has (XML, JSON, plain text), and sending
 * answers. Works on plain node:http requests, so the hot /data path needs no framework.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Negotiator from 'negotiator';
import { NotAcceptableError } from '../errors.ts';
import { canonicalOf } from '../http/canonical.ts';

export type Format = 'xml' | 'json' | 'text';

const MIME: Record<Format, string> = { xml: 'application/xml', json: 'application/json', text: 'text/plain' };
const FORMAT_OF: Record<string, Format> = { 'application/xml': 'xml', 'application/json': 'json', 'text/plain': 'text' };
export const CONTENT_TYPE: Record<Format, string> = {
  xml: 'application/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

/**
 * The best format by the client's Accept header, honouring q-values; `order` breaks ties and is the answer
 * when there is no Accept header or it says `*\/*`. Nothing acceptable → 406.
 */
export function negotiate(req: IncomingMessage, order: readonly Format[] = ['xml', 'json', 'text']): Format {
  if (!req.headers.accept) return order[0]!;
  const best = new Negotiator(req).mediaType(order.map((f) => MIME[f]));
  if (!best) {
    throw new NotAcceptableError(
      `cannot answer in any type the Accept header allows; this resource has ${order.map((f) => MIME[f]).join(', ')}`,
    );
  }
  return FORMAT_OF[best]!;
}

/**
 * The answer of a route that has one meaning, a line of text such as "OK" (with a JSON form for clients that
 * prefer JSON): JSON when the client prefers it, else the text — also for a client whose Accept names only XML,
 * as Igor's own clients send on every request (`Accept: application/xml`). Igor answers those with the text; a
 * 406 there would only break them, and HTTP lets a server disregard Accept instead (RFC 9110 §12.5.1).
 * /data, where the choice is real, keeps answering 406.
 */
export function answerText(req: IncomingMessage, res: ServerResponse, text: string, json: unknown = text): void {
  const asJson =
    req.headers.accept !== undefined && new Negotiator(req).mediaType(['text/plain', 'application/json']) === 'application/json';
  send(res, asJson ? 'json' : 'text', asJson ? JSON.stringify(json) + '\n' : text + '\n');
}

/** For error bodies: JSON only for a client that prefers it, plain text otherwise. */
export function errorFormat(req: IncomingMessage): 'json' | 'text' {
  return req.headers.accept && new Negotiator(req).mediaType(['text/plain', 'application/json']) === 'application/json' ? 'json' : 'text';
}

export function send(res: ServerResponse, format: Format, body: string, status = 200): void {
  res.writeHead(status, { 'Content-Type': CONTENT_TYPE[format], 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The request's query parameters, in order, decoded: the canonical request's (http/canonical.ts). */
export function queryOf(req: IncomingMessage): URLSearchParams {
  return canonicalOf(req).query;
}
