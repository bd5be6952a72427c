/**
 * createTestHost(): a plugin's own tests run it as a server would, without one. The plugin is installed into a
 * real database (the package's template, in a temporary folder made and removed for the test) with its
 * database fragment, started through the same code as the server's plugins (pluginhost/start.ts), and its
 * methods are called through the same access checks and deputy rights as over HTTP (pluginhost/call.ts). What
 * is fake is what a test must control: the clock (host.every, storeSeries's `keep`) and the other servers the
 * plugin talks to (host.http, call.http, OAuth2), whose requests are recorded and answered by the test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { addUser } from '../auth/accounts.ts';
import { ANONYMOUS, SYSTEM, type Principal } from '../auth/principal.ts';
import { findUser } from '../auth/users.ts';
import { DEFAULTS } from '../config.ts';
import { IgorError, NotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { TEMPLATE } from '../packageDir.ts';
import type { PluginDefinition, PluginHost, PluginReply, TreeAccess } from '../plugin-api.ts';
import { checkAccess, commandOf, methodOf, pluginCall, replyOf, type CallServices } from '../pluginhost/call.ts';
import { paramsAndBody } from '../pluginhost/callBody.ts';
import { checkDefinition, loadDefinition, type CheckedDefinition } from '../pluginhost/definition.ts';
import { readFragment } from '../pluginhost/fragment.ts';
import type { HostDeps } from '../pluginhost/host.ts';
import { installRecord } from '../pluginhost/registry.ts';
import { startPlugin, stopPlugin, type RunningPlugin } from '../pluginhost/start.ts';
import { treeAccess } from '../pluginhost/treeAccess.ts';
import { Database } from '../store/database.ts';
import { WorkTracker } from '../work.ts';
import { CapturedHttp, type CapturedRequest, type HttpHandler } from './capturedHttp.ts';
import { FakeClock } from './fakeClock.ts';
import { lowerCaseNames } from './headers.ts';
import type { CallOptions, LogEntry, TestCaller, TestHost, TestHostOptions, TestReply } from './types.ts';

const START = Date.UTC(2030, 0, 1);
const PASSWORD = 'correct horse battery staple';
const LEVELS: Record<number, LogEntry['level']> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** A logger that keeps its lines, for the test to read. */
function recordingLogger(entries: LogEntry[]): Logger {
  const write = (line: string) => {
    const { level, msg, time: _time, ...fields } = JSON.parse(line) as { level: number; msg?: string; time?: unknown };
    entries.push({ level: LEVELS[level] ?? 'info', message: msg ?? '', fields });
  };
  return pino({ level: 'debug', base: undefined }, { write });
}

function folderPath(folder: string | URL): string {
  return folder instanceof URL || folder.startsWith('file:') ? fileURLToPath(folder) : folder;
}

/** The body of a call as bytes, and its type. */
function encodeBody(options: CallOptions): { raw?: Buffer; contentType?: string } {
  const { body } = options;
  if (body === undefined) return {};
  if (Buffer.isBuffer(body)) return { raw: body, contentType: options.contentType ?? 'application/octet-stream' };
  if (typeof body === 'string') return { raw: Buffer.from(body), contentType: options.contentType ?? 'text/plain; charset=utf-8' };
  return { raw: Buffer.from(JSON.stringify(body)), contentType: options.contentType ?? 'application/json' };
}

function testReply(status: number, headers: Record<string, string>, body: Buffer | string, code?: string): TestReply {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const text = bytes.toString('utf8');
  return { status, headers: lowerCaseNames(headers), body: bytes, text, ...(code ? { code } : {}), json: () => JSON.parse(text) };
}

function replied(reply: PluginReply | undefined): TestReply {
  return reply ? testReply(reply.status, { ...reply.headers }, reply.body) : testReply(200, {}, '');
}

interface Installed {
  name: string;
  db: Database;
  checked: CheckedDefinition;
  folder: string;
  logger: Logger;
  logs: LogEntry[];
}

class PluginTestHost implements TestHost {
  readonly name: string;
  readonly requests: CapturedRequest[];
  readonly logs: LogEntry[];
  readonly data: TreeAccess;
  readonly clock: FakeClock;
  private running: RunningPlugin | undefined;
  private readonly db: Database;
  private readonly checked: CheckedDefinition;
  private readonly folder: string;
  private readonly logger: Logger;
  private readonly work = new WorkTracker();
  private readonly http: CapturedHttp;
  private readonly deps: HostDeps;
  private readonly services: CallServices;

  constructor({ name, db, checked, folder, logger, logs }: Installed, options: TestHostOptions) {
    this.name = name;
    this.db = db;
    this.checked = checked;
    this.folder = folder;
    this.logger = logger;
    this.logs = logs;
    this.http = new CapturedHttp(options.http);
    this.requests = this.http.requests;
    this.clock = new FakeClock(options.now === undefined ? START : new Date(options.now).getTime(), () => this.settle());
    this.data = treeAccess(db, SYSTEM);
    this.work.register(db.journalWork);
    const publicUrl = (options.publicUrl ?? 'http://igor.test').replace(/\/$/, '');
    this.deps = {
      db,
      logger,
      work: this.work,
      callTimeoutMs: DEFAULTS.callTimeoutMs,
      devMode: options.devMode ?? false,
      publicUrl: () => publicUrl,
      clock: this.clock,
      http: this.http.sender('host'),
    };
    this.services = { db, limits: DEFAULTS, http: () => this.http.sender('call') };
  }

  get host(): PluginHost {
    return this.plugin().host;
  }

  private plugin(): RunningPlugin {
    if (!this.running) throw new NotFoundError(`plugin ${this.name} is not running (stopped by the test)`);
    return this.running;
  }

  async start(): Promise<void> {
    this.running = await startPlugin(this.deps, this.name, basename(this.folder) || this.name, this.folder, this.checked);
  }

  private principal(as: TestCaller): Principal {
    if (as === 'anonymous') return ANONYMOUS;
    if (as === 'server') return SYSTEM;
    if (as === 'plugin') return this.plugin().self;
    const name = as === 'admin' ? 'admin' : as.user;
    const admin = as === 'admin' || (as.admin ?? findUser(this.db, name)?.admin ?? false);
    return { kind: 'user', name, admin, via: 'session' };
  }

  async call(methodName = 'index', options: CallOptions = {}): Promise<TestReply> {
    return this.answering(`${methodName}`, async () => {
      const plugin = this.plugin();
      const spec = methodOf(plugin, methodName);
      const p = this.principal(options.as ?? 'admin');
      checkAccess(plugin, methodName, spec, p);
      const { raw, contentType } = encodeBody(options);
      const { params, body } = await paramsAndBody(Object.entries(options.params ?? {}), raw, contentType);
      const headers = lowerCaseNames(options.headers ?? {});
      if (contentType) headers['content-type'] = contentType;
      const method = (options.method ?? (raw ? 'POST' : 'GET')).toUpperCase();
      const call = pluginCall(this.services, plugin, spec, p, {
        method,
        path: options.path ?? [],
        params,
        ...(body ? { body } : {}),
        headers,
      });
      return spec.handler(call);
    });
  }

  async command(command: string, args: Record<string, string> = {}): Promise<TestReply> {
    return this.answering(`command ${command}`, async () => {
      return commandOf(this.plugin(), command)(args);
    });
  }

  /** The answer as the server gives it: a plugin's refusal with its status, anything else it throws a 502. */
  private async answering(what: string, work: () => Promise<unknown>): Promise<TestReply> {
    try {
      return replied(replyOf(await work()));
    } catch (err) {
      if (err instanceof IgorError) return testReply(err.status, { ...err.headers }, err.message, err.code);
      const message = `plugin ${this.name}/${what} failed: ${(err as Error)?.message ?? String(err)}`;
      this.logger.error({ err, plugin: this.name }, message);
      return testReply(502, {}, message, 'bad_gateway');
    }
  }

  answerHttp(handler: HttpHandler): void {
    this.http.handler = handler;
  }

  settle(): Promise<void> {
    return this.work.flush();
  }

  async stop(): Promise<void> {
    const plugin = this.running;
    this.running = undefined;
    if (plugin) await stopPlugin(plugin, this.logger);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.settle();
    await this.db.close();
    await rm(this.db.dir, { recursive: true, force: true });
  }
}

/** Installs what the options ask for before the plugin starts: its record and fragment, accounts, settings, data. */
async function prepare(db: Database, name: string, source: string, folder: string, options: TestHostOptions): Promise<void> {
  const fragment = folder ? await readFragment(folder, name) : undefined;
  await db.write((t) => installRecord(t, name, source, fragment));
  for (const [user, account] of Object.entries(options.users ?? {}))
    await addUser(db, SYSTEM, user, account.password ?? PASSWORD, account.admin);
  const server = treeAccess(db, SYSTEM);
  await server.batch([
    ...Object.entries(options.settings ?? {}).map(([key, value]) => ({
      op: 'put' as const,
      xpath: `/data/plugindata/${name}/${key}`,
      value,
    })),
    ...Object.entries(options.data ?? {}).map(([xpath, value]) => ({ op: 'put' as const, xpath, value })),
  ]);
}

/**
 * A host for a plugin's tests: give the plugin's folder (loaded as `igor plugin add` loads it) or its definition
 * (with `folder` for its database fragment). Close it when done (test.after(() => t.close())).
 */
export async function createTestHost(plugin: PluginDefinition | string | URL, options: TestHostOptions = {}): Promise<TestHost> {
  const fromFolder = typeof plugin === 'string' || plugin instanceof URL;
  const folder = fromFolder ? folderPath(plugin) : options.folder !== undefined ? folderPath(options.folder) : '';
  const checked = fromFolder
    ? await loadDefinition(folder)
    : checkDefinition(plugin, 'the plugin given to createTestHost', basename(folder) || 'test');
  const name = options.name ?? (basename(folder) || 'test');
  const dir = await mkdtemp(join(tmpdir(), 'igor-test-host-'));
  const logs: LogEntry[] = [];
  const logger = recordingLogger(logs);
  let db: Database | undefined;
  try {
    db = await Database.open({ dir, template: TEMPLATE, logger });
    await prepare(db, name, basename(folder) || name, folder, options);
    const host = new PluginTestHost({ name, db, checked, folder, logger, logs }, options);
    await host.start();
    return host;
  } catch (err) {
    await db?.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
