/**
 * A local server speaking the Pusher Channels HTTP API that checks every request as Pusher does: auth_key,
 * a timestamp within 600 s, body_md5 against the body, and auth_signature over the sorted query.
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer } from '../../helpers.ts';

export interface FakePusher {
  url: string;
  port: number;
  requests: { method: string; path: string; query: Record<string, string>; body: any; valid: boolean }[];
}

export async function startFakePusher(appId: string, key: string, secret: string): Promise<FakePusher> {
  const fake: FakePusher = { url: '', port: 0, requests: [] };
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const { auth_signature: signature, ...signed } = query;
    const toSign = `${req.method}\n${url.pathname}\n${Object.keys(signed)
      .sort()
      .map((k) => `${k}=${signed[k]}`)
      .join('&')}`;
    const valid =
      signed['auth_key'] === key &&
      Math.abs(Number(signed['auth_timestamp']) - Date.now() / 1000) <= 600 &&
      signed['auth_version'] === '1.0' &&
      signed['body_md5'] === createHash('md5').update(body).digest('hex') &&
      signature === createHmac('sha256', secret).update(toSign).digest('hex');
    fake.requests.push({ method: req.method ?? '', path: url.pathname, query, body: body ? JSON.parse(body) : undefined, valid });
    const send = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (!valid) return send(401, { error: 'Invalid signature' });
    const base = `/apps/${appId}`;
    if (req.method === 'POST' && url.pathname === `${base}/events`) return send(200, {});
    if (req.method === 'POST' && url.pathname === `${base}/batch_events`) return send(200, {});
    if (req.method === 'GET' && url.pathname === `${base}/channels`) {
      const all: Record<string, unknown> = { 'presence-chatroom': { user_count: 2 }, 'presence-lobby': { user_count: 1 }, 'private-x': {} };
      const prefix = query['filter_by_prefix'] ?? '';
      return send(200, { channels: Object.fromEntries(Object.entries(all).filter(([name]) => name.startsWith(prefix))) });
    }
    if (req.method === 'GET' && new RegExp(`^${base}/channels/([^/]+)/users$`).test(url.pathname))
      return send(200, { users: [{ id: '1035' }, { id: '4821' }] });
    if (req.method === 'GET' && new RegExp(`^${base}/channels/([^/]+)$`).test(url.pathname))
      return send(200, { occupied: true, ...(query['info']?.includes('user_count') ? { user_count: 42 } : {}) });
    return send(404, { error: `no route ${url.pathname}` });
  };
  const { url } = await startHttpServer((req, res) => void handler(req, res));
  fake.url = url;
  fake.port = Number(new URL(url).port);
  return fake;
}
