/** Actions end to end: written into a running server's tree over REST, triggered, run, recorded. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SHOW_ALL } from '../../src/tree/dom.ts';
import { serialize } from '../../src/tree/serialize.ts';
import { startHttpServer, startTestServer, waitFor, type TestServer } from '../helpers.ts';

let server: TestServer;
const external: { method: string; url: string; body: string }[] = [];
let externalUrl: string;
let releaseHeld: (() => void)[] = [];
/** Whether /hold/… calls wait for releaseHeld (else they are answered at once). */
let holding = true;

before(async () => {
  server = await startTestServer({ callTimeoutMs: '500' });
  const ext = await startHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      external.push({ method: req.method!, url: req.url!, body });
      if (req.url!.startsWith('/fail')) res.writeHead(500).end('the service broke');
      else if (req.url!.startsWith('/hang'))
        return; // never answers
      else if (req.url!.startsWith('/reset'))
        req.socket.destroy(); // drops the connection
      else if (req.url!.startsWith('/hold') && holding) releaseHeld.push(() => res.writeHead(200).end('released'));
      else res.writeHead(200).end('ok');
    });
  });
  externalUrl = ext.url;
});

async function call(method: string, path: string, body?: string, type = 'text/plain') {
  const res = await server.request(path, {
    method,
    body,
    headers: body === undefined ? { Accept: 'text/plain' } : { 'Content-Type': type, Accept: 'text/plain' },
  });
  return { status: res.status, body: await res.text() };
}
const text = async (path: string) => (await call('GET', path)).body.trimEnd();
const flush = () => call('GET', '/internal/flush');
/** Adds an action under actions/ (or elsewhere) and returns its reference. */
async function addAction(inner: string, where = '/data/actions/action') {
  const res = await call('POST', where, `<action>${inner}</action>`, 'application/xml');
  assert.equal(res.status, 200, res.body);
  return res.body.trim();
}
const status = async (rep: string) =>
  JSON.parse(await server.request(`/data/status/${rep}`, { headers: { Accept: 'application/json' } }).then((r) => r.text()));

describe('triggers', () => {
  it('xpath: a change to a matching node runs the action, with the node as template context', async () => {
    await addAction(
      '<xpath>/data/sandbox/t1/in</xpath><url>/data/sandbox/t1/out</url><method>PUT</method><data>{. * 2} from {name(..)}</data><representing>sandbox/t1</representing>',
    );
    await call('PUT', '/data/sandbox/t1/in', '21');
    await flush();
    assert.equal(await text('/data/sandbox/t1/out'), '42 from t1', 'numbers print as people write them');
    const s = (await status('sandbox/t1')).t1;
    assert.equal(s.alive, true);
    assert.equal(typeof s.lastSuccess, 'number');
    assert.deepEqual(s.errorMessage, {});
  });

  it('xpath: adding, replacing and deleting matching nodes all trigger; predicates are applied', async () => {
    await addAction(
      '<xpath>/data/sandbox/t2/watch/*[. != "ignore"]</xpath><url>/data/sandbox/t2/log/e</url><method>POST</method><data>{name()}</data>',
    );
    await call('PUT', '/data/sandbox/t2/watch/a', '1');
    await flush();
    await call('PUT', '/data/sandbox/t2/watch/a', '2');
    await flush();
    await call('PUT', '/data/sandbox/t2/watch/b', 'ignore');
    await flush();
    assert.equal((await call('GET', '/data/sandbox/t2/log/e')).body, 'a\na\n', 'added, replaced, and b filtered out by the predicate');
    await call('DELETE', '/data/sandbox/t2/watch/a');
    await flush();
    assert.equal(
      (await call('GET', '/data/sandbox/t2/log/e')).body,
      'a\na\na\n',
      'deleting a matching node triggers, with the deleted node as context',
    );
  });

  it('multiple: once per matching node, otherwise once per change', async () => {
    await addAction(
      '<xpath>/data/sandbox/t3/m/*</xpath><multiple>true</multiple><url>/data/sandbox/t3/many/e</url><method>POST</method><data>{.}</data>',
    );
    await addAction('<xpath>/data/sandbox/t3/m/*</xpath><url>/data/sandbox/t3/one/e</url><method>POST</method><data>{.}</data>');
    await call('PUT', '/data/sandbox/t3/m', '<m><a>1</a><b>2</b><c>3</c></m>', 'application/xml');
    await flush();
    assert.equal((await call('GET', '/data/sandbox/t3/many/e')).body, '1\n2\n3\n');
    assert.equal((await call('GET', '/data/sandbox/t3/one/e')).body, '1\n');
  });

  it('condition: the action runs only when it holds for the triggering node', async () => {
    await addAction(
      '<xpath>/data/sandbox/t4/v</xpath><condition>. &gt; 10</condition><url>/data/sandbox/t4/big/e</url><method>POST</method><data>{.}</data>',
    );
    for (const v of ['5', '50', '7', '70']) {
      await call('PUT', '/data/sandbox/t4/v', v);
      await flush();
    }
    assert.equal((await call('GET', '/data/sandbox/t4/big/e')).body, '50\n70\n');
  });

  it('name: /action/NAME and /action/PLUGIN/NAME run it; unknown names are 404', async () => {
    await addAction('<name>bump</name><url>/data/sandbox/t5/e</url><method>POST</method><data>top</data>');
    await addAction(
      '<name>bump</name><url>/data/sandbox/t5/e</url><method>POST</method><data>plugin</data>',
      '/data/plugindata/myplugin/action',
    );
    assert.equal((await call('GET', '/action/bump')).body, 'OK\n');
    assert.equal((await call('GET', '/action/myplugin/bump')).body, 'OK\n');
    await flush();
    assert.equal((await call('GET', '/data/sandbox/t5/e')).body, 'top\nplugin\n');
    assert.equal((await call('GET', '/action/nosuch')).status, 404);
    assert.equal((await call('GET', '/action/otherplugin/bump')).status, 404);
  });

  it('interval: runs when created, then again and again; deleting it stops it at once', async () => {
    const ref = await addAction('<interval>1</interval><url>/data/sandbox/t6/tick</url><method>POST</method><data>t</data>');
    await waitFor(async () => server.db.tree.select('/data/sandbox/t6/tick').length >= 2, 'two runs of an interval action');
    await call('DELETE', ref);
    await flush();
    const after = server.db.tree.select('/data/sandbox/t6/tick').length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(server.db.tree.select('/data/sandbox/t6/tick').length, after, 'a deleted action does not run on');
  });

  it('cron: runs on the clock', async () => {
    const ref = await addAction('<cron>* * * * * *</cron><url>/data/sandbox/t7/tick</url><method>POST</method><data>c</data>');
    await waitFor(async () => server.db.tree.select('/data/sandbox/t7/tick').length >= 1, 'a cron run');
    await call('DELETE', ref);
  });

  it('changing an action takes effect at once', async () => {
    const ref = await addAction('<name>which</name><url>/data/sandbox/t8/v</url><method>PUT</method><data>old</data>');
    await call('PUT', `${ref}/data`, 'new');
    await call('GET', '/action/which');
    await flush();
    assert.equal(await text('/data/sandbox/t8/v'), 'new');
  });
});

describe('rate limits and queues', () => {
  it('minInterval defers a trigger inside the window to its end instead of dropping it', async (t) => {
    await addAction(
      '<xpath>/data/sandbox/r1/v</xpath><minInterval>1</minInterval><url>/data/sandbox/r1/seen/e</url><method>POST</method><data>{.}</data>',
    );
    // The window is judged by Date: held still while the three writes are made, however long a busy machine
    // takes over them, they all fall in it; set on past its end, the deferred run finds it over.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    for (const v of ['1', '2', '3']) await call('PUT', '/data/sandbox/r1/v', v);
    await flush();
    assert.equal((await call('GET', '/data/sandbox/r1/seen/e')).body, '1\n', 'the first runs at once');
    t.mock.timers.setTime(Date.now() + 1000);
    await waitFor(async () => server.db.tree.select('/data/sandbox/r1/seen/e').length === 2, 'the deferred run');
    await flush();
    assert.equal(
      (await call('GET', '/data/sandbox/r1/seen/e')).body,
      '1\n3\n',
      'the later ones run once, at the end, with the latest value',
    );
  });

  it('waits out an interval or a minInterval longer than a timer holds (24.8 days)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    // 35 days each: setTimeout fires after 1 ms for anything over 2^31 - 1 ms.
    await addAction('<interval>3000000</interval><url>/data/sandbox/r9/every</url><method>POST</method><data>1</data>');
    await addAction(
      '<xpath>/data/sandbox/r9/v</xpath><minInterval>3000000</minInterval><url>/data/sandbox/r9/calm</url><method>POST</method><data>{.}</data>',
    );
    for (const v of ['1', '2']) await call('PUT', '/data/sandbox/r9/v', v);
    await new Promise((r) => setTimeout(r, 400));
    await flush();
    process.off('warning', onWarning);
    assert.equal(server.db.tree.select('/data/sandbox/r9/every').length, 1, 'the interval ran once, at once');
    assert.equal(server.db.tree.select('/data/sandbox/r9/calm').length, 1, 'the second trigger waits for its window');
    assert.deepEqual(warnings, []);
  });

  it('aggregate: identical calls waiting in the queue are made once', async () => {
    external.length = 0;
    await addAction(`<name>agg</name><aggregate>true</aggregate><url>${externalUrl}/hold/agg</url>`);
    await addAction(`<name>noagg</name><url>${externalUrl}/hold/noagg</url>`);
    for (let i = 0; i < 10; i++) await call('GET', '/action/agg');
    await waitFor(() => external.length === 4, 'the four calls the external lane runs at once');
    for (let i = 0; i < 3; i++) await call('GET', '/action/noagg');
    // Let everything through: what is held now, and whatever comes after, at once.
    holding = false;
    for (const release of releaseHeld.splice(0)) release();
    await flush();
    assert.equal(external.filter((e) => e.url === '/hold/agg').length, 5, '4 running, and the 6 waiting made once');
    assert.equal(external.filter((e) => e.url === '/hold/noagg').length, 3, 'without aggregate every call is made');
  });
});

describe('external calls and failures', () => {
  it('calls other servers with the method, data and Content-Type of the action', async () => {
    external.length = 0;
    await addAction(
      `<name>ext</name><url>${externalUrl}/hook?v={/data/sandbox/t1/in}</url><method>POST</method><data>{{"v": {/data/sandbox/t1/in}}}</data><mimetype>application/json</mimetype><representing>services/hook</representing>`,
    );
    await call('GET', '/action/ext');
    await flush();
    assert.deepEqual(external, [{ method: 'POST', url: '/hook?v=21', body: '{"v": 21}' }]);
    assert.equal((await status('services/hook')).hook.alive, true);
  });

  it('records a failing local call, an HTTP error, a hanging service, a reset connection and an unreachable one, and goes on', async () => {
    await addAction('<name>f1</name><url>/data/sandbox/x[[</url><representing>services/f1</representing>');
    await addAction(`<name>f2</name><url>${externalUrl}/fail</url><representing>services/f2</representing>`);
    await addAction(`<name>f3</name><url>${externalUrl}/hang</url><representing>services/f3</representing>`);
    await addAction('<name>f4</name><url>http://127.0.0.1:9/nothing</url><representing>services/f4</representing>');
    await addAction(`<name>f5</name><url>${externalUrl}/reset</url><representing>services/f5</representing>`);
    // A local route behind the framework (not /data): its error body must reach the status too.
    await addAction('<name>f6</name><url>/plugin/nosuch/fetch</url><representing>services/f6</representing>');
    for (const n of ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']) await call('GET', `/action/${n}`);
    await flush();
    const f = async (n: string) => (await status(`services/${n}`))[n];
    assert.match((await f('f1')).errorMessage, /^400 XPath error: syntax error/);
    assert.equal((await f('f2')).errorMessage, '500 the service broke');
    assert.match((await f('f3')).errorMessage, /did not answer within 500 ms/);
    assert.match((await f('f4')).errorMessage, /cannot reach/);
    assert.match((await f('f5')).errorMessage, /cannot reach .*\/reset/);
    assert.equal((await f('f6')).errorMessage, '404 there is no plugin nosuch running here');
    for (const n of ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']) {
      assert.equal((await f(n)).alive, false);
      assert.equal(typeof (await f(n)).lastFailure, 'number');
    }
    assert.equal((await call('GET', '/data/sandbox/t1/in')).status, 200, 'the server goes on answering');
  });

  it('refuses an invalid action with 400 and leaves the tree as it was', async () => {
    const before = serialize(server.db.tree.root, { show: SHOW_ALL });
    const res = await call('POST', '/data/actions/action', '<action><url>/x</url><interval>often</interval></action>', 'application/xml');
    assert.equal(res.status, 400);
    assert.match(res.body, /action \/data\/actions\/action\[\d+\]: <interval> must be a number of seconds/);
    assert.equal((await call('PUT', '/data/actions/action[1]/cron', 'not cron')).status, 400);
    assert.equal(serialize(server.db.tree.root, { show: SHOW_ALL }), before);
  });
});

describe('chains and loops', () => {
  it('chained actions run one after the other, and flush waits for all of them', async () => {
    await addAction('<xpath>/data/sandbox/c1/a</xpath><url>/data/sandbox/c1/b</url><method>PUT</method><data>{. + 1}</data>');
    await addAction('<xpath>/data/sandbox/c1/b</xpath><url>/data/sandbox/c1/c</url><method>PUT</method><data>{. + 1}</data>');
    await addAction('<xpath>/data/sandbox/c1/c</xpath><url>/data/sandbox/c1/d</url><method>PUT</method><data>{. + 1}</data>');
    await call('PUT', '/data/sandbox/c1/a', '1');
    await flush();
    assert.equal(await text('/data/sandbox/c1/d'), '4');
  });

  it('a loop of actions triggering each other is stopped, with a message in status', async () => {
    await addAction(
      '<name>ping</name><xpath>/data/sandbox/l1/pong</xpath><url>/data/sandbox/l1/ping</url><method>PUT</method><data>{. + 1}</data><representing>services/ping</representing>',
    );
    await addAction(
      '<name>pong</name><xpath>/data/sandbox/l1/ping</xpath><url>/data/sandbox/l1/pong</url><method>PUT</method><data>{. + 1}</data><representing>services/pong</representing>',
    );
    await call('PUT', '/data/sandbox/l1/pong', '0');
    await flush();
    assert.equal(await text('/data/sandbox/l1/ping'), '1');
    assert.equal(await text('/data/sandbox/l1/pong'), '2');
    assert.match((await status('services/ping')).ping.errorMessage, /stopped a loop of actions triggering each other: ping → pong → ping/);
  });

  it('an action that triggers itself is stopped after one run', async () => {
    await addAction(
      '<xpath>/data/sandbox/l2/n</xpath><url>/data/sandbox/l2/n</url><method>PUT</method><data>{. + 1}</data><representing>services/self</representing>',
    );
    await call('PUT', '/data/sandbox/l2/n', '0');
    await flush();
    assert.equal(await text('/data/sandbox/l2/n'), '1');
    assert.match((await status('services/self')).self.errorMessage, /stopped a loop/);
  });

  it('an action watching status/ is not set off by recording its own status', async () => {
    await addAction(
      '<xpath>/data/status/services//errorMessage</xpath><url>/data/sandbox/h1/e</url><method>POST</method><data>{name(../..)}/{name(..)}</data><representing>services/health</representing>',
    );
    await addAction('<name>breaks</name><url>/data/sandbox/x[[</url><representing>services/broken</representing>');
    await call('GET', '/action/breaks');
    await flush();
    assert.equal((await call('GET', '/data/sandbox/h1/e')).body, 'services/broken\n');
    assert.equal((await status('services/health')).health.alive, true);
  });
});

describe('built-in actions', () => {
  it('_start ran at start and _cleanup keeps only the newest message', async () => {
    assert.equal((await status('igor/start')).start.alive, true);
    for (const m of ['a', 'b', 'c']) await call('POST', '/data/environment/messages/message', m);
    await call('GET', '/action/_cleanup');
    await flush();
    assert.equal((await call('GET', '/data/environment/messages/message')).body, 'c\n');
  });
});
