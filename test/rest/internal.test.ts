/**
 * Igor's internal commands (igor-reference §2.9) that make sense here: help, dump, log, fail, restart,
 * updateStatus/REPRESENTING in each form Igor's callers send it, and the commands Igor's own actions and scripts
 * call (updateActions, updateEventSources, runAction, runPluginAction, queue/CMD), over HTTP, with who may use them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setPassword } from '../../src/auth/users.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { basic, startTestServer, tempDir, type TestServer } from '../helpers.ts';

let s: TestServer;
const JACK = basic('jack', 'jack-password');

before(async () => {
  s = await startTestServer({ logLevel: 'info' });
  await setPassword(s.db, 'jack', 'jack-password');
});

const text = async (path: string, init: RequestInit = {}) => {
  const r = await s.request(path, { ...init, headers: { accept: 'text/plain', ...init.headers } });
  return { status: r.status, body: await r.text() };
};

describe('/internal commands', () => {
  it('help lists the commands, one a line', async () => {
    const { status, body } = await text('/internal/help');
    assert.equal(status, 200);
    for (const cmd of ['version', 'help', 'dump', 'log', 'save', 'flush', 'fail', 'stop', 'restart', 'updateStatus/REPRESENTING']) {
      assert.match(body, new RegExp(`^${cmd}[:?]`, 'm'), cmd);
    }
  });

  it('dump shows the queues and the actions with their triggers', async () => {
    await s.request("/data/actions/action[name='tick']", {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<action><name>tick</name><interval>3600</interval><url>/data/sandbox/ticked</url><method>PUT</method><data>1</data></action>',
    });
    const { body } = await text('/internal/dump');
    assert.match(body, /^queue data: \d+ running, \d+ waiting$/m);
    assert.match(body, /^action tick \(\/data\/actions\/action\[\d+\]\): PUT \/data\/sandbox\/ticked; every 3600 s/m);
  });

  it('log shows the newest log lines to an admin only', async () => {
    // A refused login is logged: the newest lines say so.
    assert.equal((await s.anonymous('/internal/save', { headers: { authorization: basic('jack', 'wrong') } })).status, 401);
    const { status, body } = await text('/internal/log?lines=3');
    assert.equal(status, 200);
    const lines = body.trimEnd().split('\n');
    assert.ok(lines.length >= 1 && lines.length <= 3, body);
    assert.ok(
      lines.some((l) => /jack/.test(l)),
      `the refused login of jack is among the newest lines: ${body}`,
    );
    assert.equal((await s.anonymous('/internal/log', { headers: { authorization: JACK } })).status, 403);
    assert.equal((await s.anonymous('/internal/log')).status, 401);
  });

  it('fail answers 500 and the server goes on', async () => {
    const { status, body } = await text('/internal/fail');
    assert.equal(status, 500);
    assert.match(body, /internal|fail/i);
    assert.equal((await text('/internal/version')).status, 200);
  });

  it('updateStatus records a status as Igor scripts report it, and refuses a body that is not an object', async () => {
    const post = (rep: string, body: string) =>
      s.request(`/internal/updateStatus/${rep}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/plain' },
        body,
      });
    assert.equal((await post('services/backup', JSON.stringify({ alive: false, errorMessage: 'disk full' }))).status, 200);
    const failed = (await (await s.request('/data/status/services/backup', { headers: { accept: 'application/json' } })).json()) as {
      backup: Record<string, unknown>;
    };
    assert.equal(failed.backup['alive'], false);
    assert.equal(failed.backup['errorMessage'], 'disk full');
    assert.equal(typeof failed.backup['lastFailure'], 'number');

    assert.equal((await post('services/backup', JSON.stringify({ alive: true, resultData: { files: 12 } }))).status, 200);
    const ok = (await (await s.request('/data/status/services/backup', { headers: { accept: 'application/json' } })).json()) as {
      backup: Record<string, unknown>;
    };
    assert.equal(ok.backup['alive'], true);
    assert.equal(ok.backup['files'], 12, 'a dict of resultData is written key by key');
    assert.equal((await text('/data/status/services/backup/errorMessage')).body, '\n', 'the error is gone');

    const before = await (await s.request('/data/status', { headers: { accept: 'application/xml' } })).text();
    for (const bad of ['[1, 2]', 'not json', '{"alive": true, "resultData": {"no good": 1}}']) {
      assert.equal((await post('services/backup', bad)).status, 400, bad);
    }
    assert.equal((await post('no%20good', '{"alive": true}')).status, 400);
    assert.equal(
      await (await s.request('/data/status', { headers: { accept: 'application/xml' } })).text(),
      before,
      'a refused report changes nothing',
    );
    assert.equal(
      (
        await s.anonymous('/internal/updateStatus/services/backup', {
          method: 'POST',
          headers: { authorization: JACK, 'content-type': 'application/json' },
          body: '{"alive": true}',
        })
      ).status,
      403,
    );
  });
});

describe("the commands Igor's own actions and scripts call", () => {
  it('updateActions and updateEventSources succeed, saying there is nothing to do', async () => {
    for (const command of ['updateActions', 'updateEventSources']) {
      const { status, body } = await text(`/internal/${command}`);
      assert.equal(status, 200, command);
      assert.match(body, /^OK: .*by themselves here; nothing to update\n$/, command);
    }
  });

  it("runAction runs the actions of a name (by path or ?actionname=), runPluginAction a plugin's; none is a 404", async () => {
    await s.request("/data/actions/action[name='bump']", {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<action><name>bump</name><url>/data/sandbox/bumped</url><method>POST</method><data>1</data></action>',
    });
    assert.equal((await text('/internal/runAction/bump')).body, 'OK\n');
    assert.equal((await text('/internal/runAction?actionname=bump')).body, 'OK\n');
    assert.equal((await text('/internal/flush')).status, 200);
    assert.equal(s.db.tree.select('/data/sandbox/bumped').length, 2);
    assert.equal((await text('/internal/runAction/nothing-called-so')).status, 404);
    assert.equal((await text('/internal/runAction')).status, 400);
    assert.equal((await text('/internal/runPluginAction/user/bump')).status, 404, 'bump is not a plugin action');
    assert.equal((await s.anonymous('/internal/runAction/bump', { headers: { authorization: JACK } })).status, 403);
  });

  it('queue/CMD answers OK at once and runs CMD afterwards, which flush waits for', async () => {
    const saved = () => readFile(join(s.dir, 'database.xml'), 'utf8');
    const marker = `m${Date.now()}`;
    await s.request(`/data/sandbox/${marker}`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'yes' });
    assert.ok(!(await saved()).includes(marker), 'not in the snapshot yet');
    const { status, body } = await text('/internal/queue/save');
    assert.equal(status, 200);
    assert.equal(body, 'OK\n');
    assert.equal((await text('/internal/flush')).status, 200);
    assert.ok((await saved()).includes(`<${marker}>yes</${marker}>`), 'the queued save took a snapshot');
    assert.equal((await text('/internal/queue/flush')).status, 404, 'flush would wait for itself');
    assert.equal((await text('/internal/queue/nosuch')).status, 404);
    assert.equal((await text('/internal/queue/__proto__')).status, 404);
  });
});

describe('/internal/updateStatus, as Igor takes it', () => {
  const status = async (rep: string) =>
    (await (await s.request(`/data/status/${rep}`, { headers: { accept: 'application/json' } })).json()) as Record<
      string,
      Record<string, unknown>
    >;

  it('takes a GET with the query, as igorControl sends it', async () => {
    const ok = await text('/internal/updateStatus/sensors/door?alive=1&lastActivity=1800000000');
    assert.equal(ok.status, 200, ok.body);
    const door = (await status('sensors/door'))['door']!;
    assert.equal(door['alive'], true);
    assert.equal(door['lastActivity'], 1800000000);
    assert.equal(door['lastSuccess'], 1800000000, 'lastSuccess defaults to lastActivity');
    await text('/internal/updateStatus/sensors/door?alive=0&resultData=battery%20empty');
    const failed = (await status('sensors/door'))['door']!;
    assert.equal(failed['alive'], false);
    assert.equal(failed['errorMessage'], 'battery empty');
    assert.equal((await text('/internal/updateStatus/sensors/door?alive=maybe')).status, 400);
    assert.equal((await text('/internal/updateStatus/sensors/door?alive=1&lastActivity=yesterday')).status, 400);
  });

  it('takes a form with representing in the body, drops a leading /data/, and keeps a given lastSuccess', async () => {
    const form = new URLSearchParams({ representing: '/data/services/timemachine', alive: 'true', lastSuccess: '1700000000' });
    const r = await s.request('/internal/updateStatus', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/plain' },
      body: form.toString(),
    });
    assert.equal(r.status, 200, await r.text());
    const tm = (await status('services/timemachine'))['timemachine']!;
    assert.equal(tm['alive'], true);
    assert.equal(tm['lastSuccess'], 1700000000, 'the client said when it last succeeded');
    assert.ok((tm['lastActivity'] as number) > 1700000000, 'lastActivity is now');
    // A failure keeps the lastSuccess it had and adds lastFailure.
    await s.request('/internal/updateStatus/services/timemachine', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alive: false }),
    });
    const down = (await status('services/timemachine'))['timemachine']!;
    assert.equal(down['lastSuccess'], 1700000000);
    assert.equal(down['errorMessage'], 'services/timemachine failed without error message');
    assert.equal((await text('/internal/updateStatus')).status, 400, 'no representing');
  });
});

describe('/internal/restart', () => {
  const stops: (() => void)[] = [];
  after(() => stops.forEach((stop) => stop()));

  it('stops the server and starts it again in the same process, with what was written', async () => {
    const dir = await tempDir();
    const env = { ...process.env };
    delete env['NODE_OPTIONS'];
    const child = spawn(
      process.execPath,
      [join(PACKAGE_DIR, 'bin/igor.js'), 'serve', '--database', dir, '--port', '0', '--host', '127.0.0.1'],
      { env, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    stops.push(() => child.kill('SIGKILL'));
    let out = '';
    const serving = (count: number) =>
      new Promise<string>((resolve, reject) => {
        const seen = () => {
          const urls = [...out.matchAll(/serving (http:\/\/\S+?)\/ /g)].map((m) => m[1]!);
          if (urls.length >= count && /password: \S+\n/.test(out)) resolve(urls[count - 1]!);
        };
        child.stdout.on('data', (d: Buffer) => ((out += d.toString()), seen()));
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
        seen();
      });
    const first = await serving(1);
    const auth = basic('admin', /password: (\S+)/.exec(out)![1]!);
    assert.equal(
      (
        await fetch(`${first}/data/sandbox/kept`, {
          method: 'PUT',
          headers: { authorization: auth, 'content-type': 'text/plain' },
          body: 'yes',
        })
      ).status,
      200,
    );
    assert.equal(
      await (await fetch(`${first}/internal/restart`, { headers: { authorization: auth, accept: 'application/xml' } })).text(),
      'OK\n',
    );
    const second = await serving(2);
    assert.equal(child.exitCode, null, 'the same process');
    assert.equal(
      await (await fetch(`${second}/data/sandbox/kept`, { headers: { authorization: auth, accept: 'text/plain' } })).text(),
      'yes\n',
    );
  });
});
