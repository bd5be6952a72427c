/** Live updates: /events over SSE with permissions, heartbeats, resume and limits; eventSources into the tree. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { setPassword } from '../../src/auth/users.ts';
import { basic, onCleanup, startHttpServer, startTestServer, waitFor, type TestServer } from '../helpers.ts';

const JACK = basic('jack', 'jack-password');

interface Stream {
  status: number;
  events: EventSourceMessage[];
  comments: string[];
  /** The first change event (after `from`) whose data satisfies `match`. */
  next(match: (data: any) => boolean, what: string, from?: number): Promise<any>;
  close(): void;
}

async function open(s: TestServer, path: string, headers: Record<string, string> = {}): Promise<Stream> {
  const abort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${s.port}${path}`, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const stream: Stream = {
    status: res.status,
    events: [],
    comments: [],
    async next(match, what, from = 0) {
      const found = await waitFor(
        () => stream.events.slice(from).find((e) => e.event === 'change' && match(JSON.parse(e.data))),
        what,
        5000,
      );
      return JSON.parse(found!.data);
    },
    close: () => abort.abort(),
  };
  onCleanup(async () => abort.abort());
  if (res.status !== 200) return stream;
  const parser = createParser({ onEvent: (e) => stream.events.push(e), onComment: (c) => stream.comments.push(c) });
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      /* aborted */
    }
  })();
  return stream;
}

const put = (s: TestServer, path: string, body: string, type = 'text/plain') =>
  s.request(path, { method: 'PUT', headers: { 'content-type': type }, body });

let s: TestServer;
before(async () => {
  s = await startTestServer({ sseHeartbeatMs: '100', maxSseClients: '5' });
  await setPassword(s.db, 'jack', 'jack-password');
  await setPassword(s.db, 'jill', 'jill-password');
});

describe('GET /events', () => {
  it('streams each change under the watched path with its operation and new value', async () => {
    const stream = await open(s, '/events?xpath=/data/sandbox', { authorization: basic('admin', s.adminPassword) });
    assert.equal(stream.status, 200);
    await put(s, '/data/sandbox/reading', '{"reading":{"value":21.5,"unit":"C"}}', 'application/json');
    assert.deepEqual(await stream.next((d) => d.path === '/data/sandbox/reading', 'the add'), {
      path: '/data/sandbox/reading',
      operation: 'add',
      value: { value: 21.5, unit: 'C' },
    });
    await put(s, '/data/sandbox/reading/value', '22');
    assert.deepEqual(await stream.next((d) => d.operation === 'replace', 'the replace'), {
      path: '/data/sandbox/reading/value',
      operation: 'replace',
      value: 22,
    });
    await s.request('/data/sandbox/reading', { method: 'DELETE' });
    assert.deepEqual(await stream.next((d) => d.operation === 'delete', 'the delete'), {
      path: '/data/sandbox/reading',
      operation: 'delete',
    });
    await put(s, '/data/environment/elsewhere', '1');
    await put(s, '/data/sandbox/marker', '1');
    await stream.next((d) => d.path === '/data/sandbox/marker', 'the marker');
    assert.ok(!stream.events.some((e) => e.data.includes('elsewhere')), 'nothing from outside the watched path');
    assert.ok(
      stream.events.every((e, i) => i === 0 || e.id === undefined || e.id > (stream.events[i - 1]!.id ?? '')),
      'ids count up',
    );
    stream.close();
  });

  it('sends a client only what it may read, and never secrets or hidden data', async () => {
    const anonymous = await open(s, '/events');
    const jack = await open(s, '/events', { authorization: JACK });
    const admin = await open(s, '/events', { authorization: basic('admin', s.adminPassword) });
    await put(s, '/data/sensors/temp', '19');
    await put(s, '/data/identities/jill/note', 'private to jill');
    await put(
      s,
      '/data/identities/jack/plugindata/cloud',
      '{"cloud":{"token":{"access_token":"tok-secret"},"units":"metric"}}',
      'application/json',
    );
    await put(s, '/data/sandbox/last', 'done');
    for (const stream of [anonymous, jack, admin]) await stream.next((d) => d.path === '/data/sandbox/last', 'the last change');
    const seen = (stream: Stream) => stream.events.filter((e) => e.event === 'change').map((e) => JSON.parse(e.data).path);
    assert.ok(!seen(anonymous).includes('/data/sensors/temp'));
    assert.ok(seen(jack).includes('/data/sensors/temp'));
    assert.ok(!seen(jack).some((p: string) => p.startsWith('/data/identities/jill')));
    assert.ok(seen(admin).some((p: string) => p.startsWith('/data/identities/jill')));
    const cloud = await jack.next((d) => d.path === '/data/identities/jack/plugindata', "jack's plugin data (its container was made)");
    assert.deepEqual(cloud.value, { cloud: { units: 'metric' } });
    for (const stream of [anonymous, jack, admin]) assert.ok(!stream.events.some((e) => e.data.includes('tok-secret')));
    for (const stream of [anonymous, jack, admin]) stream.close();
  });

  it('sends heartbeats on a quiet stream', async () => {
    const stream = await open(s, '/events?xpath=/data/nothing');
    await waitFor(() => stream.comments.filter((c) => c.trim() === 'heartbeat').length >= 2, 'two heartbeats');
    stream.close();
  });

  it('resumes after Last-Event-ID with the changes it missed, or says reset when it cannot', async () => {
    await put(s, '/data/sandbox/resume', '<resume/>', 'application/xml');
    const first = await open(s, '/events?xpath=/data/sandbox/resume');
    await put(s, '/data/sandbox/resume/a', '1');
    await first.next((d) => d.path === '/data/sandbox/resume/a', 'a');
    const lastId = first.events.filter((e) => e.event === 'change').at(-1)!.id!;
    first.close();
    await put(s, '/data/sandbox/resume/b', '2');
    await put(s, '/data/sandbox/resume/c', '3');
    const again = await open(s, '/events?xpath=/data/sandbox/resume', { 'last-event-id': lastId });
    await again.next((d) => d.path === '/data/sandbox/resume/c', 'c');
    assert.deepEqual(
      again.events.filter((e) => e.event === 'change').map((e) => JSON.parse(e.data).path),
      ['/data/sandbox/resume/b', '/data/sandbox/resume/c'],
    );
    again.close();
    const stale = await open(s, '/events?xpath=/data/sandbox', { 'last-event-id': 'anotherboot:5' });
    await waitFor(() => stale.events.some((e) => e.event === 'reset'), 'a reset event');
    stale.close();
  });

  it('refuses a path it cannot follow', async () => {
    const bad = await s.anonymous('/events?xpath=/data/sandbox[1]');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /plain paths/);
  });

  it('refuses clients over the limit, and takes new ones when others leave', async () => {
    const small = await startTestServer({ maxSseClients: '2' });
    const asAdmin = { authorization: basic('admin', small.adminPassword) };
    const a = await open(small, '/events', asAdmin);
    const b = await open(small, '/events', asAdmin);
    assert.deepEqual([a.status, b.status], [200, 200]);
    const over = await small.anonymous('/events');
    assert.equal(over.status, 503);
    assert.match(await over.text(), /already 2 live-update clients/);
    a.close();
    await waitFor(async () => {
      const c = await open(small, '/events', asAdmin);
      c.close();
      return c.status === 200;
    }, 'a free place');
    b.close();
  });

  it('shares the slots: anonymous clients together and any one user get a quarter, and an admin always gets one', async () => {
    const small = await startTestServer({ maxSseClients: '8' });
    await setPassword(small.db, 'jack', 'jack-password');
    const anonymous = [await open(small, '/events'), await open(small, '/events')];
    assert.deepEqual(
      anonymous.map((a) => a.status),
      [200, 200],
    );
    const third = await open(small, '/events');
    assert.equal(third.status, 503, 'anonymous clients have had their quarter');
    const jacks = [await open(small, '/events', { authorization: JACK }), await open(small, '/events', { authorization: JACK })];
    assert.deepEqual(
      jacks.map((j) => j.status),
      [200, 200],
    );
    assert.equal((await open(small, '/events', { authorization: JACK })).status, 503, 'so has jack');
    const admins = [];
    for (let i = 0; i < 4; i++) admins.push(await open(small, '/events', { authorization: basic('admin', small.adminPassword) }));
    assert.deepEqual(
      admins.map((a) => a.status),
      [200, 200, 200, 200],
      'the admin gets the rest',
    );
    for (const stream of [...anonymous, ...jacks, ...admins]) stream.close();
  });
});

describe('eventSources', () => {
  it('writes each event of an external SSE source into the tree, and stops when removed', async () => {
    const clients = new Set<import('node:http').ServerResponse>();
    let connects = 0;
    const source = await startHttpServer((req, res) => {
      connects++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      clients.add(res);
      req.on('close', () => clients.delete(res));
    });
    const emit = (text: string) => clients.forEach((c) => c.write(text));
    const definition = `<eventSource><src>${source.url}/stream</src><dst>/data/sensors/outside/weather</dst><event>weather</event></eventSource>`;
    assert.equal(
      (
        await s.request('/data/eventSources/eventSource', {
          method: 'POST',
          headers: { 'content-type': 'application/xml' },
          body: definition,
        })
      ).status,
      200,
    );
    await waitFor(() => clients.size === 1, 'the connection');
    emit('id: 1\nevent: weather\ndata: {"weather":{"temperature":12}}\n\n');
    emit('event: other\ndata: {"weather":{"temperature":99}}\n\n');
    emit('id: 2\nevent: weather\ndata: {"weather":{"temperature":13}}\n\n');
    await waitFor(
      async () =>
        (await (await s.request('/data/sensors/outside/weather/temperature', { headers: { accept: 'text/plain' } })).text()).trim() ===
        '13',
      'the second reading',
    );
    const status = await (await s.request('/data/status/eventSources/source1/alive', { headers: { accept: 'text/plain' } })).text();
    assert.equal(status.trim(), 'true');
    await s.request('/data/eventSources', { method: 'DELETE' });
    await waitFor(() => clients.size === 0, 'the connection to close');
    assert.equal(connects, 1);
  });
});
