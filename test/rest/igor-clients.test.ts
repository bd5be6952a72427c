/**
 * Igor 0.99.2's own command-line clients, unchanged (test/peers/igor-clients/, MIT, from cwi-dis/igor),
 * against a running server: what people who run Igor today will point at this one. They send
 * `Accept: application/xml` unless told otherwise, credentials with HTTP Basic, and take any status but 200
 * as failure. Needs Python 3 with `requests` (Debian package python3-requests); skipped with a message where it
 * is missing, except under CI=true, where .ci/run installs it and the test must run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers.ts';

const CLIENTS = fileURLToPath(new URL('../peers/igor-clients/', import.meta.url));
const PYTHON = 'python3';

const absent =
  spawnSync(PYTHON, ['-c', 'import requests']).status === 0 ? undefined : 'Python 3 with requests (Debian package python3-requests)';
const skip = absent && process.env['CI'] !== 'true' ? `needs ${absent}` : false;
if (skip) console.log(`# Igor client test skipped: it ${skip}`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of Igor's clients with --url and admin credentials (and no ~/.igor/igor.cfg: HOME is empty). */
function client(s: TestServer, script: 'igorVar.py' | 'igorControl.py', args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      PYTHON,
      [script, '--url', `http://127.0.0.1:${s.port}/data/`, '--credentials', `admin:${s.adminPassword}`, ...args],
      {
        cwd: CLIENTS,
        env: { PATH: process.env['PATH'], HOME: s.dir },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function ok(s: TestServer, script: 'igorVar.py' | 'igorControl.py', ...args: string[]): Promise<string> {
  const r = await client(s, script, args);
  assert.equal(r.code, 0, `${script} ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

describe("Igor's own clients", { skip }, () => {
  it('igorControl: version, save and flush answer as Igor does', async () => {
    const s = await startTestServer();
    assert.match(await ok(s, 'igorControl.py', 'version'), /^\d+\.\d+/);
    assert.equal(await ok(s, 'igorControl.py', 'save'), 'OK\n');
    assert.equal(await ok(s, 'igorControl.py', 'flush'), 'OK\n');
    // A command that does not exist is an error for the client, not a success with a 404 page.
    const unknown = await client(s, 'igorControl.py', ['nosuchcommand']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Error 404/);
  });

  it('igorVar: put, get, post and delete in text, JSON and XML', async () => {
    const s = await startTestServer();
    assert.equal(await ok(s, 'igorVar.py', '--put', 'text/plain', '--data', '21.5', 'sandbox/temperature'), '/data/sandbox/temperature\n');
    assert.equal(await ok(s, 'igorVar.py', '--text', 'sandbox/temperature'), '21.5\n');
    assert.equal(await ok(s, 'igorVar.py', 'sandbox/temperature'), '<temperature>21.5</temperature>\n', 'XML by default');
    assert.deepEqual(JSON.parse(await ok(s, 'igorVar.py', '--json', 'sandbox/temperature')), { temperature: 21.5 });

    await ok(s, 'igorVar.py', '--put', 'application/json', '--data', '{"lamp": {"on": true, "level": 3}}', 'sandbox/lamp');
    assert.deepEqual(JSON.parse(await ok(s, 'igorVar.py', '--json', 'sandbox/lamp')), { lamp: { on: true, level: 3 } });
    await ok(s, 'igorVar.py', '--put', 'application/xml', '--data', '<lamp><on>false</on></lamp>', 'sandbox/lamp');
    assert.equal(await ok(s, 'igorVar.py', '--xml', 'sandbox/lamp'), '<lamp><on>false</on></lamp>\n');
    // From standard input, checked by the client first, as scripts use it.
    const piped = await client(s, 'igorVar.py', ['--put', 'application/json', '--checkdata', 'sandbox/piped'], '{"piped": {"n": 1}}');
    assert.equal(piped.code, 0, piped.stderr);

    for (const v of ['a', 'b', 'c']) await ok(s, 'igorVar.py', '--post', 'text/plain', '--data', v, 'sandbox/log/entry');
    await ok(s, 'igorVar.py', '--post', 'application/json', '--data', '{"reading": {"v": 1}}', 'sandbox/readings/reading');
    await ok(s, 'igorVar.py', '--post', 'application/xml', '--data', '<reading><v>2</v></reading>', 'sandbox/readings/reading');
    assert.equal(await ok(s, 'igorVar.py', '--text', '--eval', 'sum(/data/sandbox/readings/reading/v)'), '3\n');
    assert.equal(await ok(s, 'igorVar.py', '--text', 'sandbox/log/entry[last()]'), 'c\n');
    assert.equal(await ok(s, 'igorVar.py', '--text', '--eval', 'count(/data/sandbox/log/entry)'), '3\n');
    assert.equal(JSON.parse(await ok(s, 'igorVar.py', '--json', '--variant', 'multi', 'sandbox/log/entry')).length, 3);
    assert.match(await ok(s, 'igorVar.py', '--python', 'sandbox/log/entry[1]'), /\{'entry': 'a'\}/, 'JSON the client turns into Python');

    assert.equal((await ok(s, 'igorVar.py', '--delete', 'sandbox/log/entry[1]')).trim(), '');
    assert.equal(await ok(s, 'igorVar.py', '--text', 'count(/data/sandbox/log/entry)', '--eval'), '2\n');
    // igorVar reports an error on stderr (and still exits 0: that is Igor's client, unchanged).
    const gone = await client(s, 'igorVar.py', ['--text', 'sandbox/nothing']);
    assert.match(gone.stderr, /Error 404/);
    assert.equal(gone.stdout, '');
  });

  it('igorVar runs actions by name and calls plugins, in the XML it asks for by default', async () => {
    const s = await startTestServer();
    await ok(
      s,
      'igorVar.py',
      '--put',
      'application/xml',
      '--data',
      '<action><name>ping</name><url>/data/sandbox/pinged</url><method>PUT</method><data>yes</data></action>',
      "actions/action[name='ping']",
    );
    assert.equal(await ok(s, 'igorVar.py', '/action/ping'), 'OK\n');
    await ok(s, 'igorControl.py', 'flush');
    assert.equal(await ok(s, 'igorVar.py', '--text', 'sandbox/pinged'), 'yes\n');
    assert.equal(await ok(s, 'igorControl.py', 'pluginControl/installstd', 'pluginName=greeter', 'stdName=hello'), 'installed greeter\n');
    assert.match(await ok(s, 'igorVar.py', '/internal/pluginControl/list'), /^greeter=hello$/m);
    assert.match(await ok(s, 'igorVar.py', '/internal/whoami'), /^admin$/m);
  });

  it('are refused without credentials, as Igor refuses them', async () => {
    const s = await startTestServer();
    const r = await new Promise<Run>((resolve) => {
      const child = spawn(PYTHON, ['igorControl.py', '--url', `http://127.0.0.1:${s.port}/data/`, 'save'], {
        cwd: CLIENTS,
        env: { PATH: process.env['PATH'], HOME: s.dir },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error 40[13]/);
  });
});
