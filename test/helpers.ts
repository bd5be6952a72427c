/** Shared test helpers: temporary database directories and in-process servers on 127.0.0.1. */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { after } from 'node:test';
import { resolveConfig, type Config } from '../src/config.ts';
import { quietLogger } from '../src/logger.ts';
import { PACKAGE_DIR, startServer, type RunningServer } from '../src/server.ts';

// Cleaned up once the whole test file has run (an after() inside a before() hook would run at once).
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs `cleanup` when the test file ends (last registered, first run). */
export function onCleanup(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

/** A fresh directory, removed when the test file ends. */
export async function tempDir(prefix = 'igor-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestServer extends RunningServer {
  dir: string;
  /** The admin's password (made at first start). */
  adminPassword: string;
  /** fetch relative to the server, as admin unless the request has its own Authorization header. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** fetch relative to the server, with no credentials. */
  anonymous(path: string, init?: RequestInit): Promise<Response>;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/**
 * An API token's id and secret (`igor_<id>_<secret>`). The secret is base64url and may hold `_` itself, so it is
 * all that follows the id, never the next `_`-separated field.
 */
export function tokenParts(token: string): { id: string; secret: string } {
  const m = /^igor_([0-9a-f]{16})_(.+)$/.exec(token);
  assert.ok(m, `${token} is an API token`);
  return { id: m[1]!, secret: m[2]! };
}

const adminPasswords = new Map<string, string>();

/** Starts a server on a free port of 127.0.0.1 with a new database; it stops when the test file ends. */
export async function startTestServer(overrides: Partial<Record<keyof Config, string>> = {}, dir?: string): Promise<TestServer> {
  const database = dir ?? (await tempDir());
  const config = resolveConfig({ database, port: '0', host: '127.0.0.1', ...overrides }, {});
  // Quiet: nothing on stderr; a logLevel override keeps lines for /internal/log.
  const server = await startServer(config, quietLogger(overrides.logLevel ?? 'silent'));
  cleanups.push(() => server.close());
  // A database opened again keeps the admin password its first start made.
  const adminPassword = server.initialAdminPassword ?? adminPasswords.get(database) ?? '';
  adminPasswords.set(database, adminPassword);
  const local = `http://127.0.0.1:${server.port}`; // server.url is the public URL, which may be a proxy's
  return {
    ...server,
    dir: database,
    adminPassword,
    request: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', basic('admin', adminPassword));
      return fetch(local + path, { ...init, headers });
    },
    anonymous: (path, init) => fetch(local + path, init),
  };
}

/** A small HTTP server on 127.0.0.1 for tests to talk to; it stops when the test file ends. */
export async function startHttpServer(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Polls `check` until it returns something truthy; fails after `timeoutMs`, saying what it waited for. For things
 * that happen on a clock. The deadline is on the monotonic clock, which fake timers (mock.timers) leave alone.
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A request to the server with `auth` as its Authorization header (none: anonymous); redirects are not followed. */
export function requestAs(s: TestServer, auth: string | undefined, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth) headers.set('authorization', auth);
  return s.anonymous(path, { ...init, headers, redirect: 'manual' });
}

/** The JSON of a successful answer (undefined if empty); a failure shows its status and body. */
export async function okJson(res: Response | Promise<Response>): Promise<any> {
  const r = await res;
  const text = await r.text();
  assert.ok(r.status < 300, `${r.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export interface ServerProcess {
  url: string;
  /** The admin password a new database's first start printed. */
  password?: string;
  /** What it has printed so far, standard output and error together. */
  output(): string;
  /** Resolves when the process has ended (as /internal/stop ends it). */
  exited: Promise<void>;
  /** SIGKILL, as a power cut or the OOM killer would, and wait until it is gone. */
  kill(): Promise<void>;
}

/**
 * `igor serve` on a free port of 127.0.0.1 in a process of its own (`args` added), started as README says:
 * plain `node bin/igor.js` (or `bin`, another copy of it) without the test runner's NODE_OPTIONS. For tests that
 * kill it, or that need the command itself. A new database's admin password, printed once after the serving
 * line, is waited for when the directory is empty or `expectPassword` says a start will make one.
 */
export async function startServerProcess(
  dir: string,
  args: string[] = [],
  { bin = join(PACKAGE_DIR, 'bin/igor.js'), expectPassword }: { bin?: string; expectPassword?: boolean } = {},
): Promise<ServerProcess> {
  const waitForPassword = expectPassword ?? (!existsSync(dir) || readdirSync(dir).length === 0);
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--database', dir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', ...args],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  // 'error' (it could not be started) comes instead of 'exit': a wait on 'exit' alone would wait on nothing, and
  // node:test ends such a file with "Promise resolution is still pending but the event loop has already resolved".
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const seen = (d: Buffer) => {
      out += d.toString();
      const url = /serving (http:\/\/[^ ]+)\//.exec(out)?.[1];
      if (url && (!waitForPassword || /with password: \S+\n/.test(out))) resolve(url);
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before serving: ${out}`)));
    child.once('error', (err) => reject(new Error(`the server could not be started (${err.message})`)));
  });
  return {
    url,
    password: /with password: (\S+)\n/.exec(out)?.[1],
    output: () => out,
    exited,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The cookies a response sets, by name, decoded. */
export function cookiesOf(r: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of r.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    out[pair!.slice(0, eq)] = decodeURIComponent(pair!.slice(eq + 1));
  }
  return out;
}

/** A browser session: its Cookie header and its CSRF token. */
export interface BrowserSession {
  cookie: string;
  token: string;
}

/** Logs in through the form, as a browser does, and answers the session. */
export async function logIn(s: TestServer, user: string, password: string): Promise<BrowserSession> {
  const form = cookiesOf(await s.anonymous('/login'))['igor_csrf']!;
  const r = await s.anonymous('/login', {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `igor_csrf=${form}` },
    body: new URLSearchParams({ username: user, password, _csrf: form }).toString(),
  });
  const set = cookiesOf(r);
  assert.ok(set['igor_session'], `${user} logged in`);
  return {
    cookie: `igor_session=${encodeURIComponent(set['igor_session'])}; igor_csrf=${encodeURIComponent(set['igor_csrf']!)}`,
    token: set['igor_csrf']!,
  };
}
