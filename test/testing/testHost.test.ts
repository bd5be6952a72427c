/**
 * The plugin kit's own behaviour, through createTestHost: host.onChange (what it is told, and never more than the
 * plugin may read), host.every (intervals and cron on the fake clock), both ending with the plugin, captured HTTP,
 * and calls as each kind of caller with the server's access checks.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { NodeChange, PluginHost, PluginInstance } from '../../src/plugin-api.ts';
import { createTestHost, type TestHost, type TestHostOptions } from '../../src/testing/index.ts';

const hosts: TestHost[] = [];
after(async () => {
  for (const t of hosts) await t.close();
});

/** A test host for a plugin whose create() is `setup`, with the methods it answers. */
async function hostFor(setup: (host: PluginHost) => PluginInstance | void, options: TestHostOptions = {}): Promise<TestHost> {
  const t = await createTestHost(
    { description: 'a plugin of this test', create: (host) => setup(host) ?? { methods: {} } },
    { name: 'probe', ...options },
  );
  hosts.push(t);
  return t;
}

describe('host.onChange', () => {
  it('hands over what was added, replaced and deleted, and the element that got a child', async () => {
    const seen: NodeChange[][] = [];
    const t = await hostFor((host) => void host.onChange('/data/sensors/probe/*', (changes) => void seen.push(changes)));
    await t.data.put('sensors/probe/lamp', { on: true, level: 3 });
    await t.settle();
    assert.deepEqual(seen.pop(), [{ ref: '/data/sensors/probe/lamp', value: { on: true, level: 3 }, deleted: false }]);
    await t.data.put('sensors/probe/lamp/level', 4);
    await t.settle();
    assert.equal(seen.length, 0, 'a child replaced is a change of the child, as for actions');
    await t.data.post('sensors/probe/lamp/colour', 'red');
    await t.settle();
    const lamp = { on: true, level: 4, colour: 'red' };
    assert.deepEqual(seen.pop(), [{ ref: '/data/sensors/probe/lamp', value: lamp, deleted: false }], 'a child added');
    await t.data.delete('sensors/probe/lamp');
    await t.settle();
    assert.deepEqual(seen.pop(), [{ ref: '/data/sensors/probe/lamp', value: lamp, deleted: true }]);
    await t.data.put('sensors/elsewhere', 1);
    await t.settle();
    assert.equal(seen.length, 0, 'nothing it watches');
  });

  it('applies predicates, and takes paths relative to /data as host.data does', async () => {
    const seen: string[] = [];
    const t = await hostFor(
      (host) => void host.onChange("sensors/probe/reading[unit='C']", (changes) => void seen.push(...changes.map((c) => c.ref))),
    );
    await t.data.post('sensors/probe/reading', { value: 20, unit: 'F' });
    await t.data.post('sensors/probe/reading', { value: 21, unit: 'C' });
    await t.settle();
    assert.deepEqual(seen, ['/data/sensors/probe/reading[2]']);
  });

  it('never tells the plugin of what it may not read, nor shows it', async () => {
    const seen: NodeChange[] = [];
    const t = await hostFor(
      (host) => {
        host.onChange('/data/identities/jack/*', (changes) => void seen.push(...changes));
        host.onChange('/data/identities/jack', (changes) => void seen.push(...changes));
      },
      { users: { jack: {} } },
    );
    await t.data.put('identities/jack/apiSecret', 'hunter2-but-longer');
    await t.data.put('identities/jack/plugindata/probe/colour', 'blue');
    await t.data.delete('identities/jack/apiSecret');
    await t.settle();
    const told = JSON.stringify(seen);
    assert.doesNotMatch(told, /hunter2|apiSecret|encryptedPassword|scrypt/, told);
    assert.ok(
      seen.some((c) => c.ref === '/data/identities/jack/plugindata' && !c.deleted),
      `its own data under jack is told: ${told}`,
    );
  });

  it('logs what a handler throws and goes on; calls one handler one at a time, with what changed meanwhile', async () => {
    const calls: string[][] = [];
    let release: () => void = () => {};
    const t = await hostFor(
      (host) =>
        void host.onChange('/data/sensors/probe/*', async (changes) => {
          calls.push(changes.map((c) => `${c.ref}=${JSON.stringify(c.value)}`));
          if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
          if (calls.length === 2) throw new Error('the handler broke');
        }),
    );
    await t.data.put('sensors/probe/a', 1);
    await new Promise((resolve) => setImmediate(resolve));
    await t.data.put('sensors/probe/b', 2);
    await t.data.put('sensors/probe/b', 3);
    assert.equal(calls.length, 1, 'the second write waits for the first call to end');
    release();
    await t.settle();
    assert.deepEqual(calls, [['/data/sensors/probe/a=1'], ['/data/sensors/probe/b=3']], 'the newest value, once');
    assert.ok(t.logs.some((l) => l.level === 'error' && l.fields['plugin'] === 'probe' && /broke/.test(JSON.stringify(l.fields['err']))));
    await t.data.put('sensors/probe/c', 4);
    await t.settle();
    assert.deepEqual(calls.at(-1), ['/data/sensors/probe/c=4'], 'still called after a failure');
  });

  it('is not called again by its own writes, and a chain of handlers setting each other off ends', async () => {
    let own = 0;
    let pings = 0;
    const t = await hostFor((host) => {
      host.onChange('/data/sensors/probe/count', async () => {
        own++;
        await host.data.put('sensors/probe/count', own * 100);
      });
      host.onChange('/data/sensors/probe/ping', async () => void (pings++, await host.data.put('sensors/probe/pong', pings)));
      host.onChange('/data/sensors/probe/pong', async () => void (await host.data.put('sensors/probe/ping', pings)));
    });
    await t.data.put('sensors/probe/count', 1);
    await t.data.put('sensors/probe/ping', 0);
    await t.settle();
    assert.equal(own, 1);
    assert.equal(pings, 1, 'ping → pong → ping is where it ends');
  });

  it('refuses an XPath that cannot be read when the plugin starts', async () => {
    await assert.rejects(
      hostFor((host) => void host.onChange('/data/sensors[', () => {})),
      /onChange\("\/data\/sensors\["\)/,
    );
  });
});

describe('host.every', () => {
  it('runs one interval after the last run ended, logs a failure and goes on, and stops when told', async () => {
    const runs: number[] = [];
    let stop = () => {};
    const t = await hostFor(
      (host) => {
        stop = host.every(60, async () => {
          runs.push(host.name === 'probe' ? t.clock.now() : 0);
          if (runs.length === 2) throw new Error('the service is down');
        }).stop;
      },
      { now: 0 },
    );
    await t.clock.advance(59_999);
    assert.deepEqual(runs, [], 'not at once');
    await t.clock.advance(1);
    await t.clock.advance(180_000);
    assert.deepEqual(runs, [60_000, 120_000, 180_000, 240_000]);
    assert.ok(t.logs.some((l) => l.level === 'error' && /every 60 s failed/.test(l.message)));
    stop();
    await t.clock.advance(600_000);
    assert.equal(runs.length, 4);
  });

  it('runs a cron schedule at its times, in local time', async () => {
    const runs: string[] = [];
    const t = await hostFor(
      (host) => {
        host.every('0 7 * * *', () => void runs.push(new Date(t.clock.now()).toString()));
      },
      { now: new Date(2030, 0, 1, 6, 59, 30) },
    );
    await t.clock.advance(3 * 86_400_000);
    assert.deepEqual(
      runs,
      [1, 2, 3].map((day) => new Date(2030, 0, day, 7, 0, 0).toString()),
    );
  });

  it('skips a cron time that comes while the last run is still going', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const t = await hostFor((host) => {
      host.every('* * * * *', async () => {
        runs++;
        if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
      });
    });
    const advancing = t.clock.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    release(); // settle waits for the run, so release it from here
    await advancing;
    await t.clock.advance(60_000);
    assert.equal(runs, 2);
    assert.ok(!t.logs.some((l) => /skipped/.test(l.message)), 'no run was skipped when none overlapped');
  });

  it('refuses a bad interval or expression when the plugin starts, saying why', async () => {
    await assert.rejects(
      hostFor((host) => void host.every(0.5, () => {})),
      /at least 1/,
    );
    await assert.rejects(
      hostFor((host) => void host.every('every morning', () => {})),
      /every\("every morning"\).*not a cron expression/,
    );
  });
});

describe('what a plugin registers ends with the plugin', () => {
  it('stops its watches and schedules when it stops, and its restart makes them again', async () => {
    let changes = 0;
    let ticks = 0;
    let stopped = 0;
    const watching = await hostFor((host) => {
      host.onChange('/data/sensors/probe/x', () => void changes++);
      host.every(10, () => void ticks++);
      return { methods: {}, stop: () => void stopped++ };
    });
    await watching.data.put('sensors/probe/x', 1);
    await watching.clock.advance(10_000);
    assert.deepEqual([changes, ticks], [1, 1]);
    await watching.stop();
    assert.equal(stopped, 1);
    await watching.data.put('sensors/probe/x', 2);
    await watching.clock.advance(100_000);
    await watching.settle();
    assert.deepEqual([changes, ticks], [1, 1], 'nothing after stop, though the plugin stopped nothing itself');
    await watching.restart();
    await watching.data.put('sensors/probe/x', 3);
    await watching.clock.advance(10_000);
    assert.deepEqual([changes, ticks], [2, 2]);
  });
});

describe('captured HTTP', () => {
  it("records the plugin's requests and answers them with the test's handler; with none, a request fails", async () => {
    const t = await hostFor(
      (host) => ({
        methods: {
          fetch: async () => (await host.http('https://api.example/reading?x=1', { headers: { Accept: 'application/json' } })).body,
          relay: {
            access: 'user',
            handler: async (call) => (await call.http(call.params['url'] ?? '', { method: 'POST', body: 'ping' })).status,
          },
        },
      }),
      { http: (request) => (request.url.startsWith('https://api.example/') ? { body: { celsius: 21.5 } } : { status: 404, body: 'no' }) },
    );
    const fetched = await t.call('fetch');
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.json(), { celsius: 21.5 });
    assert.equal((await t.call('relay', { as: { user: 'jack' }, params: { url: 'https://elsewhere.example/hook' } })).json(), 404);
    assert.deepEqual(t.requests, [
      { url: 'https://api.example/reading?x=1', method: 'GET', headers: { accept: 'application/json' }, via: 'host' },
      { url: 'https://elsewhere.example/hook', method: 'POST', headers: {}, body: 'ping', via: 'call' },
    ]);
    t.answerHttp(() => {
      throw new Error('connection refused');
    });
    const failed = await t.call('fetch');
    assert.equal(failed.status, 502);
    assert.match(failed.text, /connection refused/);
  });
});

describe('calls', () => {
  it("checks access as the server does, and a method's tree access has its caller's rights only", async () => {
    const t = await createTestHost({
      description: 'writes for its callers in people/',
      forCallers: ['/data/people'],
      create: () => ({
        methods: {
          mine: { access: 'user', handler: async (call) => call.data.put(call.params['path'] ?? '', call.params['value'] ?? '') },
          admins: () => 'for admins',
          open: { access: 'public', handler: (call) => ({ caller: call.caller.user ?? null, anonymous: call.caller.anonymous }) },
        },
      }),
    });
    hosts.push(t);
    assert.deepEqual((await t.call('open', { as: 'anonymous' })).json(), { caller: null, anonymous: true });
    assert.equal((await t.call('mine', { as: 'anonymous' })).status, 401);
    const jack = { user: 'jack' } as const;
    assert.equal((await t.call('admins', { as: jack })).status, 403);
    assert.equal((await t.call('admins')).text, 'for admins');
    const own = await t.call('mine', { as: jack, params: { path: '/data/people/jack/colour', value: 'green' } });
    assert.equal(own.status, 200, own.text);
    assert.equal(t.data.get('people/jack/colour'), 'green');
    const elsewhere = await t.call('mine', { as: jack, params: { path: '/data/people/jill/colour', value: 'red' } });
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.code, 'forbidden');
    assert.equal(t.data.get('people/jill/colour'), undefined, 'nothing written');
    assert.equal((await t.call('nosuch')).status, 404);
  });

  it("answers a plugin's refusal with its status and message, and anything else it throws with a 502", async () => {
    const t = await hostFor((host) => ({
      methods: {
        busy: () => host.fail(429, 'slow down', { 'retry-after': '60' }),
        broken: () => {
          throw new TypeError('undefined is not a function');
        },
      },
    }));
    const busy = await t.call('busy');
    assert.deepEqual([busy.status, busy.text, busy.code, busy.headers['retry-after']], [429, 'slow down', 'too_many_requests', '60']);
    const broken = await t.call('broken');
    assert.equal(broken.status, 502);
    assert.match(broken.text, /probe\/broken failed: undefined is not a function/);
  });

  it("runs the plugin's own commands only, never what every object has, as the server does", async () => {
    const t = await hostFor(() => ({ methods: {}, commands: { hello: () => 'hi' } }));
    assert.equal((await t.command('hello')).text, 'hi');
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__']) {
      const r = await t.command(name);
      assert.deepEqual([r.status, r.text], [404, `plugin probe has no command ${name}; it has hello`], name);
    }
  });
});
