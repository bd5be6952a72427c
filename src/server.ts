/** Starting and stopping the host: database, HTTP server, self-description in services/igor. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicUrlOf, type Config } from './config.ts';
import type { Logger } from './logger.ts';
import { ActionManager } from './actions/manager.ts';
import type { AuthSettings } from './auth/authenticate.ts';
import { AccessFailures } from './auth/failures.ts';
import { LoginGuard } from './auth/logins.ts';
import { loadSessionKey } from './auth/session.ts';
import { ensureAdminPassword } from './auth/users.ts';
import { EventHub } from './events/hub.ts';
import { setXPathTimeLimit } from './tree/xpathBudget.ts';
import { EventSources } from './events/sources.ts';
import { PluginRegistry } from './pluginhost/registry.ts';
import { createRequestListener } from './rest/app.ts';
import { FairScheduler } from './rest/fairness.ts';
import type { HostContext } from './rest/context.ts';
import { localCaller } from './rest/inject.ts';
import { Database } from './store/database.ts';
import { elementFromJson } from './tree/jsonxml.ts';
import { combine } from './tree/tree.ts';
import { WorkTracker } from './work.ts';

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;

export interface RunningServer {
  url: string;
  port: number;
  db: Database;
  work: WorkTracker;
  /** Stops accepting requests, finishes pending writes, saves a snapshot. */
  close(): Promise<void>;
  /** Resolves when the server has stopped (by close(), /internal/stop or a signal), with whether /internal/restart asked to start it again. */
  stopped: Promise<'stop' | 'restart'>;
  /** The admin's password when this start had to make one (shown once). */
  initialAdminPassword?: string;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const db = await Database.open({ dir: config.database, template: join(PACKAGE_DIR, 'template', 'database.xml'), logger, maxDepth: config.maxDepth });
  setXPathTimeLimit(config.xpathTimeoutMs);
  const work = new WorkTracker();
  work.register({ name: 'journal', idle: () => db.idle, whenIdle: () => db.flush() });

  let resolveStopped!: (how: 'stop' | 'restart') => void;
  const stopped = new Promise<'stop' | 'restart'>((resolve) => (resolveStopped = resolve));
  let restart = false;
  let closing: Promise<void> | undefined;
  let server: Server;
  const close = () =>
    (closing ??= (async () => {
      events.close(); // ends the live-update streams, which would keep server.close() waiting
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      actions.stop();
      eventSources.stop();
      await plugins.stopAll();
      await work.flush().catch(() => {}); // let running actions record how they went
      await db.close();
      logger.info(restart ? 'stopped, to start again' : 'stopped');
      resolveStopped(restart ? 'restart' : 'stop');
    })());

  const internalSecret = randomBytes(24).toString('base64url');
  const failures = new AccessFailures(db, logger);
  const auth: AuthSettings = { db, sessionKey: await loadSessionKey(db.dir, (why) => logger.warn(why)), internalSecret, noAuth: config.noAuth, logins: new LoginGuard(failures, logger) };
  let url = '';
  const plugins = new PluginRegistry({
    db, logger, work, callTimeoutMs: config.callTimeoutMs, devMode: config.dev, publicUrl: () => url,
    searchPath: [join(db.dir, 'plugins'), join(PACKAGE_DIR, 'plugins')],
  });
  auth.pluginPrincipal = (name: string) => plugins.principal(name);
  const events = new EventHub(db);
  const context: Omit<HostContext, 'actions'> & { actions?: ActionManager } = {
    plugins,
    events,
    db, config, logger, work, auth, failures, fairness: new FairScheduler(), version: VERSION, packageDir: PACKAGE_DIR,
    requestStop: (again = false) => {
      restart ||= again;
      void close();
    },
  };
  const listener = createRequestListener(context as HostContext);
  const call = localCaller(listener, internalSecret);
  const actions = (context.actions = new ActionManager({ db, logger, work, call, externalTimeoutMs: config.callTimeoutMs, pluginPrincipal: (name) => plugins.principal(name) }));
  const eventSources = new EventSources({ db, logger, call, connectTimeoutMs: config.callTimeoutMs });
  const initialAdminPassword = config.noAuth ? undefined : await ensureAdminPassword(db);
  if (config.noAuth) logger.warn('--no-auth: ANYONE WHO CAN REACH THIS SERVER MAY READ AND CHANGE EVERYTHING. For development only.');
  server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = publicUrlOf(config, port);
  await describeSelf(db, config, url, port);
  await plugins.startAll();
  actions.start();
  eventSources.start();
  if (db.created) logger.info({ database: db.dir }, `created a new database in ${db.dir}`);
  logger.info({ url, database: db.dir }, `Igor-TS ${VERSION} serving ${url}/ from ${db.dir}`);
  return { url, port, db, work, close, stopped, initialAdminPassword };
}

/** services/igor: how to reach this server and since when it runs (Igor's _fillSelfData). */
async function describeSelf(db: Database, config: Config, url: string, port: number): Promise<void> {
  const previous = db.tree.select('/data/services/igor/rebootCount')[0]?.textContent;
  const values = {
    host: config.host,
    url: `${url}/data`,
    port,
    protocol: new URL(url).protocol.replace(':', ''),
    startTime: Math.floor(Date.now() / 1000),
    version: VERSION,
    rebootCount: (Number(previous) || 0) + 1,
  };
  await db.write((tree) =>
    combine(Object.entries(values).map(([key, value]) => tree.put(`/data/services/igor/${key}`, elementFromJson(tree.doc, key, value)))),
  );
}
