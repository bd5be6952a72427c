#!/usr/bin/env node
// For .ci/run: starts `igor serve` from an installed copy of the package (PACKAGE, after `npm ci --omit=dev`) on a
// free port of 127.0.0.1 with a new database (DATABASE), asks it one request, stops it with SIGTERM as systemd
// does, and fails saying what went wrong if it does not start, answer, or stop cleanly.
//   node tools/ci-serve.js PACKAGE DATABASE
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const [pkg, database] = process.argv.slice(2);
if (!pkg || !database) {
  console.error('usage: node tools/ci-serve.js PACKAGE DATABASE');
  process.exit(2);
}
const server = spawn(process.execPath, [join(pkg, 'bin/igor.js'), 'serve', '--database', database, '--port', '0', '--host', '127.0.0.1'], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let said = '';
const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve(code ?? signal)));
const fail = (why) => {
  console.error(`ci-serve: ${why}\n--- the server said:\n${said}`);
  server.kill('SIGKILL');
  process.exit(1);
};
// A stuck start must not hold CI until its limit: two minutes is far more than a start takes on a busy machine.
setTimeout(() => fail('no answer within 120 s'), 120_000).unref();

let serving = false;
const url = await new Promise((resolve) => {
  const seen = (d) => {
    said += d.toString();
    const m = /serving (http:\/\/\S+?)\/? from/.exec(said);
    if (m) resolve(m[1]);
  };
  server.stdout.on('data', seen);
  server.stderr.on('data', seen);
  exited.then((how) => serving || fail(`it exited (${how}) before serving`));
});
serving = true;
if (/older than the sources/.test(said)) fail('it ran the TypeScript sources: dist/ was not built by the install');
const res = await fetch(`${url}/internal/version`);
const body = await res.text();
if (res.status !== 200) fail(`GET /internal/version answered ${res.status}: ${body}`);
server.kill('SIGTERM');
const how = await exited;
if (how !== 0) fail(`it exited with ${how} on SIGTERM, not 0`);
console.log(`ci-serve: ${url}/internal/version answered ${body.trim()}; stopped cleanly on SIGTERM`);
