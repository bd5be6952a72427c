/**
 * Reading a request's body, within a limit. What a body becomes (an element, a JSON object) is tree/payload.ts's
 * job, shared with MQTT's payloads.
 */
import type { IncomingMessage } from 'node:http';
import { PayloadTooLargeError } from '../errors.ts';

/** Reads the whole body, refusing it as soon as it is over `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(`the body is ${declared} bytes; the limit is ${limit}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        req.off('data', onData);
        reject(new PayloadTooLargeError(`the body is over the limit of ${limit} bytes`));
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

export function hasBody(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}
