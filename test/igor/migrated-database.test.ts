/**
 * A household moving over from Igor: the directory Igor 0.99.2 left (test/fixtures/igor-0.99.2-database, with
 * Igor's plugin links as `addstd` makes them) opened as it is, and run for ten minutes — on fake timers and a fake
 * clock, so the ten minutes take seconds. Its actions run (a 5-second tick, Igor's _save, the systemHealth entry
 * every minute), and nothing reports failing: no status entry is alive=false or has an errorMessage, and
 * environment/systemHealth/messages stays empty. That the emptiness means something is shown too: a failure
 * reported meanwhile appears there, and goes when it is fixed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { basic, startTestServer, type TestServer } from '../helpers.ts';
import { igorDirectory } from './igorDirectory.ts';

let s: TestServer;
const START = Date.UTC(2026, 11, 7, 18, 0, 0);

/** Lets everything that the timers started finish: action calls, writes, plugin work. */
async function settle(): Promise<void> {
  await s.work.flush();
  await new Promise((resolve) => setImmediate(resolve));
  await s.work.flush();
}

/** Moves the fake clock on by `seconds`, a second at a time, letting each second's work finish. */
async function run(seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    mock.timers.tick(1000);
    await settle();
  }
}

async function json(path: string): Promise<any> {
  const r = await s.request(path, { headers: { accept: 'application/json' } });
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return r.json();
}

/** Every status entry that says something is wrong. */
async function failing(): Promise<string[]> {
  const { status } = await json('/data/status');
  const bad: string[] = [];
  for (const [category, entries] of Object.entries(status as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [name, entry] of Object.entries(entries)) {
      const message = entry['errorMessage'];
      if (entry['alive'] !== true || (typeof message === 'string' && message !== ''))
        bad.push(`status/${category}/${name}: ${JSON.stringify(entry)}`);
    }
  }
  return bad;
}

const messages = async () => (await json('/data/environment/systemHealth/messages')).messages;

before(async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: START });
  s = await startTestServer({}, await igorDirectory());
  mock.timers.tick(0);
  await settle();
});
after(() => mock.timers.reset());

describe('a database Igor 0.99.2 wrote, run for ten minutes', () => {
  it('comes along whole: its data, its numbers as numbers, its user and its plugins', async () => {
    assert.deepEqual(s.adoption, { installed: ['copytree', 'systemHealth', 'user'], notRunnable: ['home'] });
    const r = await s.request('/data/sensors/temperature', { headers: { accept: 'application/json' } });
    assert.equal(await r.text(), '{"temperature":{"livingroom":21.5,"kitchen":19.0,"unit":"C"}}\n', 'as Igor answers it');
    // jack keeps the password Igor hashed for him.
    const jack = await s.anonymous('/data/identities/jack', {
      headers: { authorization: basic('jack', 'jacks-igor-pw-1'), accept: 'text/plain' },
    });
    assert.equal(jack.status, 200);
    assert.deepEqual(await json('/internal/pluginControl/list'), ['copytree', 'systemHealth', 'user']);
  });

  it('runs ten minutes with nothing failing', async () => {
    await run(600);
    assert.deepEqual(await failing(), []);
    assert.deepEqual(await messages(), {});
    // And it did run: the 5-second tick, systemHealth's entry each minute, Igor's _save after the tick's writes.
    const counter = (await json('/data/sandbox/counter')).counter as number;
    assert.ok(counter >= 5 + 110, `the tick ran about 120 times (counter ${counter})`);
    const runs = (await json('/internal/actions')) as { ref: string; plugin?: string; ok?: boolean; lastRun?: number; message?: string }[];
    const health = runs.find((r) => r.plugin === 'systemHealth');
    assert.equal(health?.ok, true, JSON.stringify(health));
    assert.ok(health!.lastRun! >= START / 1000 + 540, 'systemHealth ran in the last minute');
    assert.deepEqual(
      runs.filter((r) => r.ok === false),
      [],
      'no action failed',
    );
    const save = (await json('/data/status/igor/save')).save;
    assert.ok(save.lastSuccess >= START / 1000 + 540, "Igor's _save ran in the last minute (the tick writes the sandbox)");
  });

  it("changing an action runs Igor's _updateActions, and igor/core stays alive", async () => {
    const action = '<action><name>greet</name><url>/data/sandbox/greeted</url><method>PUT</method><data>hello</data></action>';
    const put = await s.request("/data/actions/action[name='greet']", {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: action,
    });
    assert.equal(put.status, 200);
    await run(2);
    const core = (await json('/data/status/igor/core')).core;
    assert.equal(core.alive, true, JSON.stringify(core));
    assert.ok(core.lastActivity >= START / 1000 + 600, '_updateActions reported just now');
    assert.deepEqual(await failing(), []);
  });

  it('shows a failure in environment/systemHealth/messages within the minute, and takes it away when it is fixed', async () => {
    const report = (body: object) =>
      s.request('/internal/updateStatus/services/backup', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await report({ alive: false, resultData: 'the backup disk is full' })).status, 200);
    await run(60);
    assert.deepEqual(await messages(), { backup: 'the backup disk is full' });
    assert.deepEqual(await failing(), [`status/services/backup: ${JSON.stringify((await json('/data/status/services/backup')).backup)}`]);
    assert.equal((await report({ alive: true })).status, 200);
    await run(60);
    assert.deepEqual(await messages(), {});
    assert.deepEqual(await failing(), []);
  });
});
