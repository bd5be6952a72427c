import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { EXIT, main } from '../../src/cli/main.ts';
import { basic, startTestServer, tempDir, type TestServer, tokenParts } from '../helpers.ts';

async function igor(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'igor', ...args], {
    out: (s) => (out += s),
    err: (s) => (err += s),
    stdin: async () => stdin,
  });
  return { code, out, err };
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let server: TestServer;
let admin: string[];
before(async () => {
  server = await startTestServer();
  admin = ['--credentials', `admin:${server.adminPassword}`];
});

describe('igor var', () => {
  it('writes from --data or stdin and reads back in each format', async () => {
    assert.deepEqual(await igor(['var', '--url', server.url, '--put', 'text/plain', '--data', 'hello', 'sandbox/cli']), {
      code: EXIT.ok,
      out: '<ref>/data/sandbox/cli</ref>\n',
      err: '',
    });
    assert.equal((await igor(['var', '--url', server.url, '--post', 'application/json', 'sandbox/list/i'], '{"i": 3}')).code, EXIT.ok);
    assert.equal((await igor(['var', '--url', `${server.url}/data`, '--json', 'sandbox/cli'])).out, '{"cli":"hello"}\n');
    assert.equal((await igor(['var', '--url', server.url, '--text', '/data/sandbox/list/i'])).out, '3\n');
    assert.equal(
      (await igor(['var', '--url', server.url, '--xml', '--variant', 'multi', 'sandbox/list/i'])).out,
      '<items><item><ref>/data/sandbox/list/i</ref><i>3</i></item></items>\n',
    );
    assert.equal((await igor(['var', ...admin, '--url', server.url, '--eval', '--text', 'count(/data/sandbox/*) + 1'])).out, '3\n');
    assert.equal((await igor(['var', '--url', server.url, '--delete', 'sandbox/list'])).code, EXIT.ok);
    assert.equal(server.db.tree.select('/data/sandbox/list').length, 0);
  });

  it("exits 1 with the server's message when the server says no", async () => {
    const res = await igor(['var', '--url', server.url, 'sandbox/none']);
    assert.equal(res.code, EXIT.failed);
    assert.equal(res.err, 'igor: 404: nothing matches /data/sandbox/none\n');
  });

  it('exits 2 for a wrong command line, 3 when the server cannot be reached', async () => {
    const unknown = await igor(['var', '--bogus', 'x']);
    assert.equal(unknown.code, EXIT.usage);
    assert.match(unknown.err, /unknown option '--bogus'/);
    assert.equal((await igor(['var'])).code, EXIT.usage);
    assert.equal((await igor(['var', '--json', '--xml', 'x'])).code, EXIT.usage);
    const both = await igor(['var', '--url', server.url, '--put', 'text/plain', '--delete', 'x']);
    assert.equal(both.code, EXIT.usage);
    assert.match(both.err, /only one of --put, --post and --delete/);
    const down = await igor(['var', '--url', `http://127.0.0.1:${await closedPort()}`, 'x']);
    assert.equal(down.code, EXIT.unreachable);
    assert.match(down.err, /cannot reach .*ECONNREFUSED/);
  });
});

describe('igor control', () => {
  it('sends commands with NAME=VALUE arguments', async () => {
    assert.match((await igor(['control', '--url', server.url, 'version'])).out, /^\d+\.\d+\.\d+\n$/);
    assert.equal((await igor(['control', ...admin, '--url', server.url, 'flush', 'timeout=5'])).out, 'OK\n');
    assert.equal((await igor(['control', ...admin, '--url', server.url, 'nosuch'])).code, EXIT.failed);
    assert.equal((await igor(['control', ...admin, '--url', server.url, 'flush', 'novalue'])).code, EXIT.usage);
  });
});

describe('igor init, serve and help', () => {
  it('init creates a database once and refuses to overwrite it', async () => {
    const dir = join(await tempDir(), 'home');
    const first = await igor(['init', dir]);
    assert.equal(first.code, EXIT.ok, first.err);
    assert.ok(existsSync(join(dir, 'database.xml')));
    const second = await igor(['init', dir]);
    assert.equal(second.code, EXIT.failed);
    assert.match(second.err, /already holds a database/);
  });

  it('serve refuses bad settings with exit 2 before starting', async () => {
    const res = await igor(['serve', '--port', 'eighty']);
    assert.equal(res.code, EXIT.usage);
    assert.equal(res.err, 'igor: --port=eighty is not a whole number from 0 to 65535\n');
    assert.equal((await igor(['serve', '--log-level', 'loud'])).code, EXIT.usage);
  });

  it('--help works for every command', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['var', '--help'], ['control', '--help'], ['init', '--help']]) {
      const res = await igor(args);
      assert.equal(res.code, EXIT.ok, args.join(' '));
      assert.match(res.out, /Usage: igor/);
    }
  });
});

describe('igor user and igor token', () => {
  it('set a password and make, list and revoke tokens that the server then honours', async () => {
    const dir = join(await tempDir(), 'home');
    assert.equal((await igor(['init', dir])).code, EXIT.ok);
    const passwd = await igor(['user', 'passwd', 'jack', '--database', dir], 'correct horse\n');
    assert.equal(passwd.code, EXIT.ok, passwd.err);
    assert.equal((await igor(['user', 'passwd', 'jack', '--database', dir], 'short\n')).code, EXIT.usage);
    const made = await igor([
      'token',
      'create',
      '--user',
      'jack',
      '--path',
      '/data/people/jack',
      '--rights',
      'get,put',
      '--comment',
      'phone',
      '--database',
      dir,
    ]);
    assert.equal(made.code, EXIT.ok, made.err);
    const token = made.out.trim();
    assert.match(token, /^igor_[0-9a-f]{16}_[\w-]{32}$/);
    assert.match(made.err, /shown only now/);
    const list = await igor(['token', 'list', '--database', dir]);
    const { id, secret } = tokenParts(token);
    assert.match(list.out, new RegExp(`^${id}  jack  get,put  /data/people/jack  expires never  phone$`, 'm'));
    assert.ok(!list.out.includes(secret));
    assert.equal(
      (await igor(['token', 'create', '--user', 'jack', '--path', '/data/x', '--rights', 'read', '--database', dir])).code,
      EXIT.usage,
    );
    assert.equal(
      (await igor(['token', 'create', '--user', 'nobody', '--path', '/data/x', '--rights', 'get', '--database', dir])).code,
      EXIT.failed,
    );

    const running = await startTestServer({}, dir);
    assert.equal((await running.anonymous('/data/people/jack', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal(
      (await running.anonymous('/data/people/jack', { headers: { authorization: basic('jack', 'correct horse') } })).status,
      200,
    );
    const locked = await igor(['token', 'revoke', id, '--database', dir]);
    assert.equal(locked.code, EXIT.failed);
    assert.match(locked.err, /in use|running|locked/i);
    await running.close();

    assert.equal((await igor(['token', 'revoke', id, '--database', dir])).code, EXIT.ok);
    assert.equal((await igor(['token', 'revoke', id, '--database', dir])).code, EXIT.failed);
    const again = await startTestServer({}, dir);
    assert.equal((await again.anonymous('/data/people/jack', { headers: { authorization: `Bearer ${token}` } })).status, 401);
  });
});

describe('igor plugin', () => {
  it('lists, adds (also under a second name) and removes plugins of a running server', async () => {
    const url = ['--url', server.url];
    let res = await igor(['plugin', 'add', 'hello', ...url, ...admin]);
    assert.equal(res.code, EXIT.ok, res.err);
    assert.equal(res.out, 'installed hello\n');
    assert.equal((await igor(['plugin', 'add', 'hi=hello', ...url, ...admin])).code, EXIT.ok);
    res = await igor(['plugin', 'list', ...url, ...admin]);
    assert.equal(res.out, 'user\nhello\nhi=hello\n', 'user is installed in every new database');
    assert.equal(await (await server.anonymous('/plugin/hi')).text(), 'Hello from hi!\n');
    res = await igor(['plugin', 'add', 'hi=hello', ...url, ...admin]);
    assert.equal(res.code, EXIT.failed);
    assert.match(res.err, /409: .*already installed as hi/);
    assert.equal((await igor(['plugin', 'add', 'x', ...url])).code, EXIT.failed, 'no credentials: 401');
    assert.equal((await igor(['plugin', 'remove', 'hi', ...url, ...admin])).code, EXIT.ok);
    assert.equal((await igor(['plugin', 'list', ...url, ...admin])).out, 'user\nhello\n');
    assert.equal((await server.anonymous('/plugin/hi')).status, 404);
  });
});

describe('igor plugin NAME COMMAND', () => {
  it("runs a plugin's admin command with --KEY VALUE arguments", async () => {
    const url = ['--url', server.url];
    assert.equal((await igor(['plugin', 'add', 'submit', ...url, ...admin])).code, EXIT.ok);
    const shown = await igor(['plugin', 'submit', 'token', ...url, ...admin]);
    assert.equal(shown.code, EXIT.ok, shown.err);
    assert.match(shown.out, /^[0-9a-f]{32}\n$/);
    const rotated = await igor(['plugin', 'submit', 'token', '--rotate', ...url, ...admin]);
    assert.match(rotated.out, /^[0-9a-f]{32}\n$/);
    assert.notEqual(rotated.out, shown.out);
    assert.equal((await igor(['plugin', 'submit', 'token', ...url, ...admin])).out, rotated.out);
    const unknown = await igor(['plugin', 'submit', 'launch', ...url, ...admin]);
    assert.equal(unknown.code, EXIT.failed);
    assert.match(unknown.err, /404: plugin submit has no command launch; it has token, clients/);
    assert.equal((await igor(['plugin', 'submit', 'token', ...url])).code, EXIT.failed, 'needs an admin');
  });
});

describe('igor db check and igor db recover', () => {
  it('say what is wrong and what would be lost, rebuild, and refuse a directory a server holds', async () => {
    const { Database } = await import('../../src/store/database.ts');
    const { elementFromJson } = await import('../../src/tree/jsonxml.ts');
    const { quietLogger } = await import('../../src/logger.ts');
    const { PACKAGE_DIR } = await import('../../src/server.ts');
    const { readFile, writeFile } = await import('node:fs/promises');
    const running = await startTestServer();
    assert.equal((await igor(['db', 'recover', '--database', running.dir])).code, EXIT.failed, 'not while a server runs');

    const dir = await tempDir();
    const db = await Database.open({ dir, template: join(PACKAGE_DIR, 'template', 'database.xml'), logger: quietLogger() });
    for (const v of ['a', 'b', 'c']) await db.write((t) => t.put(`/data/sandbox/${v}`, elementFromJson(t.doc, v, v)));
    db.abandon(); // as a crash leaves it: the writes are in the journal only
    assert.equal((await igor(['db', 'check', '--database', dir])).code, EXIT.ok);
    const journal = join(dir, 'journal.0');
    await writeFile(journal, (await readFile(journal, 'utf8')).replace('<b>b</b>', '<b>x</b>'));
    const check = await igor(['db', 'check', '--database', dir]);
    assert.equal(check.code, EXIT.failed);
    assert.match(check.out, /LOST write 2: .*journal\.0, bytes \d+–\d+: damaged \(record 2, written .*, to \/data\/sandbox\)/);
    assert.match(check.out, /`igor db recover` rebuilds it/);
    const recover = await igor(['db', 'recover', '--database', dir]);
    assert.equal(recover.code, EXIT.ok, recover.err);
    assert.match(recover.out, /Rebuilt from .*LOST write 2: .*kept aside in .*damaged-/s);
    assert.equal((await igor(['db', 'check', '--database', dir])).code, EXIT.ok, 'healthy afterwards');
    const again = await startTestServer({}, dir);
    assert.equal((await again.request('/data/sandbox/c')).status, 200);
    assert.equal((await again.request('/data/sandbox/b')).status, 404);
  });
});
