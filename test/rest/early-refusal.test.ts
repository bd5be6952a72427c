/**
 * Who may send a body is decided before the body is read: the answer comes while the client is still sending,
 * and the connection is closed, so an unwanted upload costs neither memory nor waiting.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer();
  assert.equal((await s.request('/internal/plugins/submit', { method: 'PUT' })).status, 200);
  assert.equal((await s.request('/internal/plugins/hello', { method: 'PUT' })).status, 200);
});

/**
 * Starts a request that says it will send `declared` bytes (or chunks, without a length), sends the first
 * 64 KiB (1.06 MiB when chunked), and waits for the answer without sending more.
 */
function startUpload(
  path: string,
  declared: number | 'chunked',
  headers: Record<string, string> = {},
): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          ...(declared === 'chunked' ? {} : { 'content-length': declared }),
          ...headers,
        },
      },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode!, connection: res.headers.connection });
        req.destroy();
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
    // Without a length, the server can only count: a little over its limit is sent. Then nothing more: a
    // server that read the whole body first would never answer.
    for (let i = 0; i < (declared === 'chunked' ? 17 : 1); i++) req.write(Buffer.alloc(64 * 1024, 1));
  });
}

describe('a body is refused before it is read', () => {
  it('for an anonymous upload to a method that takes large bodies only with a token', { timeout: 10_000 }, async () => {
    const r = await startUpload('/plugin/submit/submit', 62 * 1024 * 1024);
    assert.equal(r.status, 413);
    assert.equal(r.connection, 'close');
    const chunked = await startUpload('/plugin/submit/submit', 'chunked', { 'content-type': 'multipart/form-data; boundary=x' });
    assert.equal(chunked.status, 413, 'counted as it comes, when no length is said');
  });

  it('for an anonymous call of a method that needs a user', { timeout: 10_000 }, async () => {
    const r = await startUpload('/plugin/hello/settings', 500_000);
    assert.equal(r.status, 401);
    assert.equal(r.connection, 'close');
  });

  it('for a write to /data where the rules refuse it whatever the tree holds', { timeout: 10_000 }, async () => {
    const r = await startUpload('/data/identities/admin/x', 500_000, { 'content-type': 'text/plain' });
    assert.equal(r.status, 401);
    assert.equal(r.connection, 'close');
  });
});
