/** Starting and stopping the host: database, HTTP server, self-description in services/igor. */
import { outboundPolicy } from './auth/outbound.ts';
import { BRIDGE_USER } from './auth/mqtt.ts';
import type { MqttBridge } from './mqtt/bridge.ts';
import type { EmbeddedBroker } from './mqtt/broker.ts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { join } from 'node:path';
import { publicUrlOf, type Config } from './config.ts';
import type { Logger } from './logger.ts';
import { ActionManager } from './actions/manager.ts';
import type { AuthSettings } from './auth/authenticate.ts';
import { AccessFailures } from './auth/failures.ts';
import { LoginGuard } from './auth/logins.ts';
import { loadSessionKey } from './auth/session.ts';
import { ensureAdminPassword } from './auth/users.ts';
import { adoptIgorPlugins, markAdopted, type Adoption } from './igorDirectory.ts';
import { keepAdminReachable } from './auth/accounts.ts';
import { EventHub } from './events/hub.ts';
import { History } from './history/recorder.ts';
import { setXPathTimeLimit } from './tree/xpathBudget.ts';
import { EventSources } from './events/sources.ts';
import { PluginRegistry } from './pluginhost/registry.ts';
import { createRequestListener } from './rest/app.ts';
import { FairScheduler } from './rest/fairness.ts';
import type { HostContext } from './rest/context.ts';
import { localCaller } from './rest/inject.ts';
import { PACKAGE_DIR, TEMPLATE } from './packageDir.ts';
import { Database } from './store/database.ts';
import { elementFromJson } from './tree/jsonxml.ts';
import { combine } from './tree/tree.ts';
import { WorkTracker } from './work.ts';

export { PACKAGE_DIR };
/** The shipped plugins: compiled beside the server when it runs as JavaScript (tools/build.js), else the sources. */
const SHIPPED_PLUGINS = join(PACKAGE_DIR, import.meta.url.endsWith('.js') ? 'dist' : '', 'plugins');
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
  /** The port of the embedded MQTT broker, when --mqtt-broker runs one. */
  mqttPort?: number;
  /** Set when this start adopted an Igor directory: what came along (igorDirectory.ts). */
  adoption?: Adoption;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const { db, work, history } = await openStore(config, logger);
  // Every service is made before the request listener. The loop (actions call the server's own routes, whose
  // listener needs the actions) is broken by a local caller that looks the listener up at each call; no call
  // is made before the server listens, and by then `listener` (below) exists.
  let url = '';
  const services = await makeServices(config, logger, db, work, {
    listener: () => listener,
    publicUrl: () => url,
  });
  const { plugins, actions, eventSources, bridge, broker } = services;
  const stopping = stopControl();
  const context: HostContext = {
    db,
    config,
    logger,
    work,
    auth: services.auth,
    failures: services.failures,
    plugins,
    events: services.events,
    history,
    actions,
    fairness: new FairScheduler(),
    version: VERSION,
    packageDir: PACKAGE_DIR,
    requestStop: (again = false) => stopping.request(again),
  };
  const listener = createRequestListener(context);
  const server = createServer(listener);

  const initialAdminPassword = await guardAccounts(db, config, logger);
  const port = await listen(server, config);
  url = publicUrlOf(config, port);
  await describeSelf(db, config, url, port);
  await plugins.startAll();
  const adoption = db.fromIgor ? await adoptIgorPlugins(db, plugins, logger) : undefined;
  history.resume();
  actions.start();
  eventSources.start();
  bridge?.start();
  if (db.created) logger.info({ database: db.dir }, `created a new database in ${db.dir}`);
  if (adoption) logger.info({ database: db.dir, ...adoption }, `adopted the Igor directory ${db.dir}`);
  logger.info({ url, database: db.dir }, `Igor-TS ${VERSION} serving ${url}/ from ${db.dir}`);

  const close = stopping.onStop(async () => {
    services.events.close(); // ends the live-update streams, which would keep server.close() waiting
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
    await stopServices(services, { db, work, history });
  }, logger);
  return { url, port, db, work, close, stopped: stopping.stopped, initialAdminPassword, mqttPort: broker?.port, adoption };
}

/** The database, the tracker of work under way (the journal's first), and the history that follows every write. */
async function openStore(config: Config, logger: Logger) {
  const db = await Database.open({
    dir: config.database,
    template: TEMPLATE,
    logger,
    maxDepth: config.maxDepth,
  });
  setXPathTimeLimit(config.xpathTimeoutMs);
  const work = new WorkTracker();
  work.register(db.journalWork);
  // Follows every write from here on; SQLite is loaded and its file opened once the server serves, when needed.
  const history = new History(db, logger);
  work.register(history);
  return { db, work, history };
}

type Services = Awaited<ReturnType<typeof makeServices>>;

/** The services the request listener is made of, each given the few others it uses. */
async function makeServices(
  config: Config,
  logger: Logger,
  db: Database,
  work: WorkTracker,
  late: { listener: () => RequestListener; publicUrl: () => string },
) {
  const internalSecret = randomBytes(24).toString('base64url');
  const plugins = new PluginRegistry({
    db,
    logger,
    work,
    callTimeoutMs: config.callTimeoutMs,
    devMode: config.dev,
    publicUrl: late.publicUrl,
    searchPath: [join(db.dir, 'plugins'), SHIPPED_PLUGINS],
  });
  const failures = new AccessFailures(db, logger);
  const auth: AuthSettings = {
    db,
    internalSecret,
    noAuth: config.noAuth,
    sessionKey: await loadSessionKey(db.dir, (why) => logger.warn(why)),
    logins: new LoginGuard(failures, logger),
    pluginPrincipal: (name) => plugins.principal(name),
    ownsAuthorization: (url) => plugins.ownsAuthorization(url),
  };
  // MQTT: the embedded broker (--mqtt-broker) takes the server's own credentials; the bridge connects to it,
  // or to the broker --mqtt names.
  // Loaded only when asked for: a server without MQTT does not carry the client and broker in memory.
  const broker =
    config.mqttBroker !== undefined
      ? await (await import('./mqtt/broker.ts')).startBroker({
          db,
          logins: auth.logins,
          internalSecret,
          logger,
          host: config.host,
          port: config.mqttBroker,
        })
      : undefined;
  const bridge = await mqttBridge(config, db, logger, internalSecret, broker);
  const events = new EventHub(db);
  const call = localCaller(late.listener, internalSecret);
  const actions = new ActionManager({
    db,
    logger,
    work,
    call,
    externalTimeoutMs: config.callTimeoutMs,
    outbound: outboundPolicy(config),
    pluginPrincipal: (name) => plugins.principal(name),
    ...(bridge ? { publish: (topic: string, payload: string) => bridge.publish(topic, payload, { qos: 1 }) } : {}),
  });
  const eventSources = new EventSources({ db, logger, call, connectTimeoutMs: config.callTimeoutMs });
  return { plugins, failures, auth, broker, bridge, events, actions, eventSources };
}

/** An admin who can log in (a password made on the first start, shown once), kept reachable; answers that password. */
async function guardAccounts(db: Database, config: Config, logger: Logger): Promise<string | undefined> {
  // Before any password is set: in an Igor directory they are stored as Igor can check them.
  if (db.fromIgor) await markAdopted(db);
  const initialAdminPassword = config.noAuth ? undefined : await ensureAdminPassword(db);
  if (!config.noAuth) db.addValidator(keepAdminReachable(db));
  if (config.noAuth) logger.warn('--no-auth: ANYONE WHO CAN REACH THIS SERVER MAY READ AND CHANGE EVERYTHING. For development only.');
  return initialAdminPassword;
}

/** Listens on --host and --port; answers the port (the one chosen, for --port 0). */
async function listen(server: Server, config: Config): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`the server listens on ${address}, not a TCP port`);
  return address.port;
}

/** After the listener has closed: every service stopped, what was acknowledged written, and the database closed. */
async function stopServices(
  { actions, eventSources, bridge, broker, plugins }: Services,
  { db, work, history }: { db: Database; work: WorkTracker; history: History },
): Promise<void> {
  actions.stop();
  eventSources.stop();
  await bridge?.stop();
  await broker?.close();
  await plugins.stopAll();
  await work.flush().catch(() => {}); // let running actions record how they went
  await db.flush();
  await history.close(); // before the last snapshot, which may remove the journals it has taken
  await db.close();
}

/**
 * Stopping, once, however it is asked for (close(), /internal/stop or restart, a signal): requests that come
 * before the server is up are carried out once it is, by the same single run of the work given to onStop.
 */
function stopControl() {
  let resolveStopped!: (how: 'stop' | 'restart') => void;
  const stopped = new Promise<'stop' | 'restart'>((resolve) => (resolveStopped = resolve));
  let restart = false;
  let requested = false;
  let closing: Promise<void> | undefined;
  let work: (() => Promise<void>) | undefined;
  const close = () => {
    if (!work) {
      requested = true;
      return stopped.then(() => {});
    }
    const stop = work;
    return (closing ??= stop().then(() => resolveStopped(restart ? 'restart' : 'stop')));
  };
  return {
    stopped,
    request(again: boolean) {
      restart ||= again;
      void close();
    },
    onStop(stop: () => Promise<void>, logger: Logger): () => Promise<void> {
      work = async () => {
        await stop();
        logger.info(restart ? 'stopped, to start again' : 'stopped');
      };
      if (requested) void close();
      return close;
    },
  };
}

/** The MQTT bridge, to --mqtt's broker or else the embedded one (logging in with the internal secret), or none. */
async function mqttBridge(
  config: Config,
  db: Database,
  logger: Logger,
  internalSecret: string,
  broker: EmbeddedBroker | undefined,
): Promise<MqttBridge | undefined> {
  // The broker listens on --host; an address for every interface is reached at the loopback one.
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  const url = config.mqtt ?? (broker && `mqtt://${host.includes(':') ? `[${host}]` : host}:${broker.port}`);
  if (!url) return undefined;
  const { MqttBridge } = await import('./mqtt/bridge.ts');
  // The embedded broker is logged in to with the internal secret; a broker --mqtt names, as /data/mqtt/connection says.
  const options = config.mqtt ? undefined : { username: BRIDGE_USER, password: internalSecret };
  return new MqttBridge({ db, logger, url, maxPayloadBytes: config.maxBodyBytes, options });
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
