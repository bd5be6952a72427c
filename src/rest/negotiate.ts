/** Content negotiation among the three representations the tree has: XML, JSON and plain text. */
import type { Request, Response } from 'express';
import { NotAcceptableError } from '../errors.ts';

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
export function negotiate(req: Request, order: readonly Format[] = ['xml', 'json', 'text']): Format {
  if (!req.headers.accept) return order[0]!;
  const best = req.accepts(order.map((f) => MIME[f]));
  if (!best) {
    throw new NotAcceptableError(`cannot answer in any type the Accept header allows; this resource has ${order.map((f) => MIME[f]).join(', ')}`);
  }
  return FORMAT_OF[best]!;
}

/** For error bodies: JSON only for a client that prefers it, plain text otherwise. */
export function errorFormat(req: Request): 'json' | 'text' {
  return req.headers.accept && req.accepts(['text/plain', 'application/json']) === 'application/json' ? 'json' : 'text';
}

export function send(res: Response, format: Format, body: string, status = 200): void {
  res.status(status).set('Content-Type', CONTENT_TYPE[format]).send(body);
}
