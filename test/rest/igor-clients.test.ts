/**
 * Igor's own command-line clients (igorVar, igorControl; Igor 0.99.2) against this server: what people who run
 * Igor today point at it. Their requests are sent byte for byte by igorClientRequests.ts, written from
 * igor-reference ("The HTTP requests Igor's command-line clients send"): the first part pins those bytes on a
 * socket, the rest runs the clients' command lines against a real server and checks what they would print.
 * They ask for XML unless told otherwise, send credentials with HTTP Basic or Bearer, and take any status but 200
 * as failure (igorVar still exits 0, igorControl 1).
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { onCleanup, startTestServer, type TestServer } from '../helpers.ts';
import { igorControl, igorVar, type Printed } from './igorClientRequests.ts';

/** A socket that keeps each request as it arrived, byte for byte, and answers 200 with the JSON `"OK"`. */
async function recorder(): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = Number(/^content-length: *(\d+)/im.exec(received.subarray(0, headEnd).toString('latin1'))?.[1] ?? 0);
      if (received.length < headEnd + 4 + length) return;
      requests.push(received.toString('utf8'));
      socket.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n"OK"\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests };
}

/** The request requests sends: its fixed headers around Accept, then the others in the order given. */
function expected(host: string, line: string, accept: string, others: string[] = [], body = ''): string {
  const headers = [`Host: ${host}`, 'User-Agent: python-requests/2.34.2', 'Accept-Encoding: gzip, deflate', `Accept: ${accept}`];
  return `${line} HTTP/1.1\r\n${[...headers, 'Connection: keep-alive', ...others].join('\r\n')}\r\n\r\n${body}`;
}

describe("Igor's clients' requests, byte for byte", () => {
  const ADMIN = 'Authorization: Basic YWRtaW46czNjcmV0'; // admin:s3cret

  it('igorVar: method, URL joining, Accept by method, Content-Type, credentials, queries and bodies', async () => {
    const r = await recorder();
    const host = r.url.slice('http://'.length);
    const data = `${r.url}/data/`;
    const cases: [string[], string][] = [
      [['--url', data, '--credentials', 'admin:s3cret', 'sandbox/x'], expected(host, 'GET /data/sandbox/x', 'application/xml', [ADMIN])],
      // Without the trailing slash the client adds one; an absolute variable replaces the path.
      [['--url', `${r.url}/data`, '--json', '/internal/whoami'], expected(host, 'GET /internal/whoami', 'application/json')],
      [['--url', `${r.url}/data`, '--text', 'sandbox/x'], expected(host, 'GET /data/sandbox/x', 'text/plain')],
      // requests' quoting; a relative variable loses empty segments (an XPath's //) and resolves ./..
      [
        ['--url', data, '-M', 'text/plain', "actions/action[name='a b']|x"],
        expected(host, "GET /data/actions/action%5Bname='a%20b'%5D%7Cx", 'text/plain'),
      ],
      [['--url', data, 'sandbox//x/../y'], expected(host, 'GET /data/sandbox/y', 'application/xml')],
      [
        ['--url', data, '-v', 'multi', '--access', 'tok/en +1', '--bearer', 'igor_1', 'x'],
        expected(host, 'GET /data/x?.VARIANT=multi&access_token=tok%2Fen+%2B1', 'application/xml', ['Authorization: Bearer igor_1']),
      ],
      [['--url', data, '-e', '--python', 'count(/data/x)'], expected(host, 'GET /evaluate/count(/data/x)', 'application/json')],
      // DELETE asks for the reference whatever -v says, and carries a zero length.
      [['--url', data, '--delete', '-v', 'multi', 'x'], expected(host, 'DELETE /data/x?.VARIANT=ref', 'text/plain', ['Content-Length: 0'])],
      [
        ['--url', data, '--create', '--credentials', 'admin:s3cret', 'x'],
        expected(host, 'PUT /data/x', 'text/plain', ['Content-Type: application/json', ADMIN, 'Content-Length: 2'], '{}'),
      ],
      [
        ['--url', data, '--put', 'text/plain', '--data', 'héllo', 'x'],
        expected(host, 'PUT /data/x', 'text/plain', ['Content-Type: text/plain', 'Content-Length: 6'], 'héllo'),
      ],
      [
        ['--url', data, '--post', 'application/xml', '--xml', '--data', '<e>1</e>', 'x/e'],
        expected(host, 'POST /data/x/e', 'application/xml', ['Content-Type: application/xml', 'Content-Length: 8'], '<e>1</e>'),
      ],
    ];
    for (const [argv, request] of cases) {
      const printed = await igorVar(argv);
      assert.deepEqual(printed, { stdout: argv.includes('--python') ? "'OK'\n" : '"OK"\n', stderr: '', exit: 0 }, argv.join(' '));
      assert.equal(r.requests.pop(), request, argv.join(' '));
    }
  });

  it('igorVar: standard input, checked and re-serialised as json.dumps writes it', async () => {
    const r = await recorder();
    const host = r.url.slice('http://'.length);
    const put = (type: string, ...flags: string[]) => ['--url', `${r.url}/data/`, '--put', type, ...flags, 'x'];
    const json = '{"a":1,"b":["Zoë",true,null]}';
    await igorVar(put('application/json', '--checkdata'), json);
    const dumped = '{"a": 1, "b": ["Zo\\u00eb", true, null]}';
    assert.equal(
      r.requests.pop(),
      expected(host, 'PUT /data/x', 'text/plain', ['Content-Type: application/json', 'Content-Length: 39'], dumped),
    );
    await igorVar(put('application/xml', '--checkdata'), ' <x>1</x>\n');
    assert.equal(
      r.requests.pop(),
      expected(host, 'PUT /data/x', 'text/plain', ['Content-Type: application/xml', 'Content-Length: 10'], ' <x>1</x>\n'),
      'XML is sent as it is',
    );
    await igorVar(put('text/plain', '-0'), '');
    assert.equal(r.requests.pop(), expected(host, 'PUT /data/x', 'text/plain', ['Content-Type: text/plain', 'Content-Length: 0']));
    await igorVar(['--url', `${r.url}/data/`, '--post', 'text/plain', '--data', '', 'x'], 'piped');
    assert.equal(
      r.requests.pop(),
      expected(host, 'POST /data/x', 'text/plain', ['Content-Type: text/plain', 'Content-Length: 5'], 'piped'),
      'empty --data reads standard input',
    );
  });

  it('igorControl: GET /internal/ACTION?NAME=VALUE, asking for XML', async () => {
    const r = await recorder();
    const host = r.url.slice('http://'.length);
    const control = await igorControl([
      '--url',
      `${r.url}/data/`,
      '--credentials',
      'admin:s3cret',
      'pluginControl/installstd',
      'pluginName=a b',
      'stdName=c/d',
    ]);
    assert.deepEqual(control, { stdout: '"OK"\n', stderr: '', exit: 0 }, 'the body as it is');
    assert.equal(
      r.requests.pop(),
      expected(host, 'GET /internal/pluginControl/installstd?pluginName=a+b&stdName=c%2Fd', 'application/xml', [ADMIN]),
    );
    await igorControl(['--url', `${r.url}/data`, '--access', 't', 'save']);
    assert.equal(r.requests.pop(), expected(host, 'GET /internal/save?access_token=t', 'application/xml'));
  });

  it('refuse before sending anything: both kinds of credentials, empty or invalid input', async () => {
    const r = await recorder();
    const data = `${r.url}/data/`;
    const both = ['--url', data, '--credentials', 'admin:s3cret', '--bearer', 't'];
    assert.deepEqual(await igorVar([...both, 'x']), {
      stdout: '',
      stderr: 'igorVar.py: both bearer token and credentials specified\n',
      exit: 0,
    });
    assert.deepEqual(await igorControl([...both, 'save']), {
      stdout: '',
      stderr: 'igorControl.py: both bearer token and credentials specified\n',
      exit: 1,
    });
    assert.deepEqual(await igorVar(['--url', data, '--put', 'text/plain', 'x'], ''), {
      stdout: '',
      stderr: 'igorVar.py: no data read from stdin\n',
      exit: 1,
    });
    assert.equal((await igorVar(['--url', data, '--put', 'application/json', '--checknonempty', 'x'], '')).exit, 1);
    const invalid = await igorVar(['--url', data, '--put', 'application/json', '--checkdata', 'x'], '{"a":');
    assert.deepEqual(invalid, { stdout: '', stderr: 'igorVar.py: no valid JSON data read from stdin\n{"a":\n', exit: 1 });
    assert.equal((await igorVar(['--url', data, '--put', 'application/xml', '--checkdata', 'x'], '<a><b></a>')).exit, 1);
    assert.deepEqual(r.requests, []);
  });
});

/** igorVar's or igorControl's command line with --url and admin credentials. */
function asAdmin(s: TestServer, ...argv: string[]): string[] {
  return ['--url', `http://127.0.0.1:${s.port}/data/`, '--credentials', `admin:${s.adminPassword}`, ...argv];
}

/** What a run printed, once it is sure the server said 200: exit 0 and nothing on standard error. */
async function ok(run: Promise<Printed>): Promise<string> {
  const p = await run;
  assert.equal(p.stderr, '', 'no error line');
  assert.equal(p.exit, 0);
  return p.stdout;
}

describe("Igor's clients against the server", () => {
  it('igorControl: version, save and flush answer as Igor does', async () => {
    const s = await startTestServer();
    assert.match(await ok(igorControl(asAdmin(s, 'version'))), /^\d+\.\d+/);
    assert.equal(await ok(igorControl(asAdmin(s, 'save'))), 'OK\n');
    assert.equal(await ok(igorControl(asAdmin(s, 'flush'))), 'OK\n');
    // A command that does not exist is an error for the client, not a success with a 404 page.
    const unknown = await igorControl(asAdmin(s, 'nosuchcommand'));
    assert.deepEqual(unknown, {
      stdout: '',
      stderr: `igorControl.py: Error 404 not_found for http://127.0.0.1:${s.port}/internal/nosuchcommand\n`,
      exit: 1,
    });
  });

  it('igorVar: put, get, post and delete in text, JSON and XML', async () => {
    const s = await startTestServer();
    const v = (...argv: string[]) => ok(igorVar(asAdmin(s, ...argv)));
    assert.equal(await v('--put', 'text/plain', '--data', '21.5', 'sandbox/temperature'), '/data/sandbox/temperature\n');
    assert.equal(await v('--text', 'sandbox/temperature'), '21.5\n');
    assert.equal(await v('sandbox/temperature'), '<temperature>21.5</temperature>\n', 'XML by default');
    assert.deepEqual(JSON.parse(await v('--json', 'sandbox/temperature')), { temperature: 21.5 });

    await v('--put', 'application/json', '--data', '{"lamp": {"on": true, "level": 3}}', 'sandbox/lamp');
    assert.deepEqual(JSON.parse(await v('--json', 'sandbox/lamp')), { lamp: { on: true, level: 3 } });
    await v('--put', 'application/xml', '--data', '<lamp><on>false</on></lamp>', 'sandbox/lamp');
    assert.equal(await v('--xml', 'sandbox/lamp'), '<lamp><on>false</on></lamp>\n');
    // From standard input, checked by the client first, as scripts use it.
    assert.equal(
      await ok(igorVar(asAdmin(s, '--put', 'application/json', '--checkdata', 'sandbox/piped'), '{"piped": {"n": 1}}')),
      '/data/sandbox/piped\n',
    );
    assert.deepEqual(JSON.parse(await v('--json', 'sandbox/piped')), { piped: { n: 1 } });

    for (const entry of ['a', 'b', 'c']) await v('--post', 'text/plain', '--data', entry, 'sandbox/log/entry');
    await v('--post', 'application/json', '--data', '{"reading": {"v": 1}}', 'sandbox/readings/reading');
    await v('--post', 'application/xml', '--data', '<reading><v>2</v></reading>', 'sandbox/readings/reading');
    assert.equal(await v('--text', '--eval', 'sum(/data/sandbox/readings/reading/v)'), '3\n');
    assert.equal(await v('--text', 'sandbox/log/entry[last()]'), 'c\n');
    assert.equal(await v('--text', '--eval', 'count(/data/sandbox/log/entry)'), '3\n');
    assert.equal(JSON.parse(await v('--json', '--variant', 'multi', 'sandbox/log/entry')).length, 3);
    assert.equal(await v('--python', 'sandbox/log/entry[1]'), "{'entry': 'a'}\n", 'JSON the client turns into Python');

    assert.equal(await v('--delete', 'sandbox/log/entry[1]'), '\n');
    assert.equal(await v('--text', 'count(/data/sandbox/log/entry)', '--eval'), '2\n');
    // igorVar reports an error on stderr (and still exits 0: that is Igor's client).
    const gone = await igorVar(asAdmin(s, '--text', 'sandbox/nothing'));
    assert.deepEqual(gone, {
      stdout: '',
      stderr: `igorVar.py: Error 404 not_found for http://127.0.0.1:${s.port}/data/sandbox/nothing\n`,
      exit: 0,
    });
  });

  it('igorVar: --create, --python, text beyond ASCII, and a --url without its slash', async () => {
    const s = await startTestServer();
    const v = (...argv: string[]) => ok(igorVar(asAdmin(s, ...argv)));
    assert.equal(await v('--create', 'sandbox/empty'), '/data/sandbox/empty\n');
    assert.equal(await v('sandbox/empty'), '<empty/>\n');
    // Stored exactly as sent; printed stripped of the whitespace around it; UTF-8 both ways.
    await v('--put', 'text/plain', '--data', '  Zoë’s ✓\n', 'sandbox/name');
    assert.equal(await v('--text', 'sandbox/name'), 'Zoë’s ✓\n');
    assert.equal(await v('--python', 'sandbox/name'), "{'name': '  Zoë’s ✓\\n'}\n");
    await ok(
      igorVar(asAdmin(s, '--put', 'application/json', '--checkdata', 'sandbox/who'), '{"who": {"name": "Zoë", "age": 7.5, "ok": false}}'),
    );
    assert.equal(await v('--python', 'sandbox/who'), "{'who': {'name': 'Zoë', 'age': 7.5, 'ok': False}}\n");
    const noSlash = ['--url', `http://127.0.0.1:${s.port}/data`, '--credentials', `admin:${s.adminPassword}`];
    assert.equal(await ok(igorVar([...noSlash, '--text', 'sandbox/who/name'])), 'Zoë\n');
    assert.equal(await ok(igorVar([...noSlash, '-e', '--text', 'count(/data/sandbox/*)'])), '3\n');
  });

  it('igorVar runs actions by name and calls plugins, in the XML it asks for by default', async () => {
    const s = await startTestServer();
    const v = (...argv: string[]) => ok(igorVar(asAdmin(s, ...argv)));
    const action = '<action><name>ping</name><url>/data/sandbox/pinged</url><method>PUT</method><data>yes</data></action>';
    await v('--put', 'application/xml', '--data', action, "actions/action[name='ping']");
    assert.equal(await v('/action/ping'), 'OK\n');
    await ok(igorControl(asAdmin(s, 'flush')));
    assert.equal(await v('--text', 'sandbox/pinged'), 'yes\n');
    assert.equal(
      await ok(igorControl(asAdmin(s, 'pluginControl/installstd', 'pluginName=greeter', 'stdName=hello'))),
      'installed greeter\n',
    );
    assert.deepEqual(JSON.parse(await v('/internal/pluginControl/list')), ['user', 'greeter'], "Igor's JSON array");
    assert.match(await v('/internal/whoami'), /^admin$/m);
  });

  it("igorControl: Igor's plugin control answers JSON whatever it accepts; its status and action commands work", async () => {
    const s = await startTestServer();
    const control = async (...argv: string[]) => ok(igorControl(asAdmin(s, ...argv)));
    assert.deepEqual(JSON.parse(await control('pluginControl/list')), ['user']);
    const standard = JSON.parse(await control('pluginControl/liststd')) as string[];
    for (const name of ['copytree', 'systemHealth', 'user']) assert.ok(standard.includes(name), name);
    assert.equal(await control('pluginControl/exists', 'pluginName=user'), 'true\n');
    assert.equal(await control('pluginControl/exists', 'pluginName=home'), 'false\n');
    assert.deepEqual(JSON.parse(await control('pluginControl/info', 'pluginName=user')), {
      name: 'user',
      source: 'user',
      running: true,
      description: "Users at run time (Igor's user plugin): add, password, delete",
    });
    assert.match(await control('pluginControl/reload'), /^OK: .*nothing to reload\n$/);
    assert.match(await control('updateActions'), /^OK: /);
    assert.equal(await control('updateStatus/sensors/door', 'alive=1'), 'OK\n');
    assert.equal(await ok(igorVar(asAdmin(s, '--text', 'status/sensors/door/alive'))), 'true\n');
    await ok(
      igorVar(
        asAdmin(
          s,
          '--put',
          'application/xml',
          '--data',
          '<action><name>hi</name><url>/data/sandbox/hi</url><method>PUT</method><data>1</data></action>',
          "actions/action[name='hi']",
        ),
      ),
    );
    assert.equal(await control('runAction', 'actionname=hi'), 'OK\n');
    assert.equal(await control('queue/save'), 'OK\n');
    assert.equal(await control('flush'), 'OK\n');
    assert.equal(await ok(igorVar(asAdmin(s, '--text', 'sandbox/hi'))), '1\n');
  });

  it('igorVar --verbose prints why a password was refused', async () => {
    const s = await startTestServer();
    const url = `http://127.0.0.1:${s.port}/plugin/user/add`;
    const form = 'username=jack&password=short';
    const refused = await igorVar(
      asAdmin(s, '--verbose', '--post', 'application/x-www-form-urlencoded', '--data', form, '/plugin/user/add'),
    );
    assert.equal(refused.stdout, '');
    assert.equal(refused.exit, 0);
    const lines = refused.stderr.split('\n');
    assert.equal(lines[0], `>>> GET ${url}`, 'igorVar says GET whatever it sends');
    assert.match(
      lines[1]!,
      /^\.\.\. Headers \{'Accept': 'text\/plain', 'Content-Type': 'application\/x-www-form-urlencoded', 'Authorization': 'Basic [^']+'\}$/,
    );
    assert.equal(lines[2], `... Data '${form}'`);
    assert.match(lines[3]!, /^<<< Headers \{.*'Igor-Error-Code': 'weak_password'/);
    assert.equal(lines[4], '... a password needs at least 8 characters', 'the reason, as the client prints it');
    assert.equal(lines.at(-2), `igorVar.py: Error 400 bad_request for ${url}`);
    // As JSON (igorVar --python asks for it), the reason is in the body it prints too.
    const asJson = await igorVar(
      asAdmin(
        s,
        '--verbose',
        '--python',
        '--post',
        'application/json',
        '--data',
        '{"username": "jack", "password": "jack12345"}',
        '/plugin/user/add',
      ),
    );
    assert.match(asJson.stderr, /^\.\.\. \{"error":"a password may not contain the user name","code":"weak_password","status":400\}$/m);
  });

  it('are refused without credentials, as Igor refuses them', async () => {
    const s = await startTestServer();
    const url = `http://127.0.0.1:${s.port}/data/`;
    const save = await igorControl(['--url', url, 'save']);
    assert.deepEqual(save, {
      stdout: '',
      stderr: `igorControl.py: Error 401 unauthorized for http://127.0.0.1:${s.port}/internal/save\n`,
      exit: 1,
    });
    const wrong = await igorVar(['--url', url, '--credentials', 'admin:not-the-password', 'identities']);
    assert.equal(wrong.stderr, `igorVar.py: Error 401 unauthorized for ${url}identities\n`);
  });

  it('name the statuses as requests does: 400, 403, 406, 415', async () => {
    const s = await startTestServer();
    const url = `http://127.0.0.1:${s.port}/data/`;
    const error = async (argv: string[]) => (await igorVar(asAdmin(s, ...argv))).stderr;
    assert.equal(await error(['--text', 'sandbox/[']), `igorVar.py: Error 400 bad_request for ${url}sandbox/[\n`);
    assert.equal(await error(['-M', 'image/png', 'environment']), `igorVar.py: Error 406 not_acceptable for ${url}environment\n`);
    assert.equal(
      await error(['--put', 'image/png', '--data', 'x', 'sandbox/x']),
      `igorVar.py: Error 415 unsupported_media_type for ${url}sandbox/x\n`,
    );
    const token = await makeToken(s, '/data/sandbox', 'get');
    const outside = await igorVar(['--url', url, '--bearer', token, '--text', 'environment']);
    assert.equal(outside.stderr, `igorVar.py: Error 403 forbidden for ${url}environment\n`);
  });

  it('carry an API token as Bearer, with the rights it was made with', async () => {
    const s = await startTestServer();
    const url = `http://127.0.0.1:${s.port}/data/`;
    const token = await makeToken(s, '/data/sandbox', 'get,put');
    assert.equal(
      await ok(igorVar(['--url', url, '--bearer', token, '--put', 'text/plain', '--data', 'on', 'sandbox/lamp'])),
      '/data/sandbox/lamp\n',
    );
    assert.equal(await ok(igorVar(['--url', url, '--bearer', token, '--text', 'sandbox/lamp'])), 'on\n');
    const deleted = await igorVar(['--url', url, '--bearer', token, '--delete', 'sandbox/lamp']);
    assert.match(deleted.stderr, /Error 403 forbidden/, 'a token made without delete cannot delete');
    assert.equal(await ok(igorVar(asAdmin(s, '--text', 'sandbox/lamp'))), 'on\n');
  });

  it('pass --access as access_token, which neither changes an answer nor grants anything', async () => {
    const s = await startTestServer();
    const url = `http://127.0.0.1:${s.port}/data/`;
    const v = (...argv: string[]) => ok(igorVar(asAdmin(s, '--access', 'capability', ...argv)));
    assert.equal(await v('--put', 'text/plain', '--data', '1', 'sandbox/x'), '/data/sandbox/x\n', 'the body is the data, not the query');
    assert.equal(await v('--text', 'sandbox/x'), '1\n');
    assert.equal(await v('--delete', 'sandbox/x'), '\n');
    assert.match((await igorVar(asAdmin(s, '--text', 'sandbox/x'))).stderr, /Error 404 not_found/);
    // Igor's capabilities are not carried over: the token alone is no one.
    const alone = await igorVar(['--url', url, '--access', 'capability', 'identities']);
    assert.equal(alone.stderr, `igorVar.py: Error 401 unauthorized for ${url}identities?access_token=capability\n`);
  });
});

/** An API token for admin, made over /internal/tokens. */
async function makeToken(s: TestServer, path: string, rights: string): Promise<string> {
  const made = await s.request('/internal/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path, rights }),
  });
  assert.equal(made.status, 200);
  return (await made.text()).trim();
}
