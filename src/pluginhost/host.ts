/**
 * The PluginHost a plugin's create() receives: its name, logger, tree access with its own rights, settings,
 * per-user data, HTTP calls, status records, OAuth2, replies, and what it watches and schedules. Everything a
 * plugin does goes through here, and whatever it registers here (background work, watches, schedules) belongs
 * to the host: dispose() ends it all when the plugin stops.
 */
import type { Principal } from '../auth/principal.ts';
import { localPath } from '../auth/returnTo.ts';
import { CODE_OF_STATUS, IgorError } from '../errors.ts';
import { SYSTEM_CLOCK, type Clock } from '../clock.ts';
import { httpRequest } from '../http/client.ts';
import type { Logger } from '../logger.ts';
import type { HttpRequest, HttpResponse, Json, JsonObject, OAuth2Provider, PluginHost, PluginReply, TreeAccess } from '../plugin-api.ts';
import { statusFields, type Outcome } from '../status.ts';
import type { Database } from '../store/database.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { BackgroundWork, type WorkTracker } from '../work.ts';
import { pluginFiles } from './files.ts';
import { sensorChanges, unitChanges } from './series.ts';
import { declareSettings } from './settings.ts';
import { OAuth2Flow, type OAuth2Deps } from './oauth2.ts';
import { pluginSchedule } from './schedule.ts';
import { treeAccess } from './treeAccess.ts';
import { pluginWatches } from './watch.ts';

export interface HostDeps {
  db: Database;
  logger: Logger;
  work: WorkTracker;
  callTimeoutMs: number;
  devMode: boolean;
  publicUrl(): string;
  /** What host.every and storeSeries's `keep` go by: the system's clock unless a test gives its own. */
  clock?: Clock;
  /** How the plugin's own HTTP calls (host.http, its OAuth2 client) are made: for real unless a test captures them. */
  http?: (url: string, req: HttpRequest) => Promise<HttpResponse>;
}

const replies = new WeakSet<object>();

export function isReply(value: unknown): value is PluginReply {
  return typeof value === 'object' && value !== null && replies.has(value);
}

/** A full answer (host.reply); the host knows its own replies from a method's JSON answer by this set. */
export function makeReply(status: number, body: string | Buffer | Json = '', headers: Record<string, string> = {}): PluginReply {
  const isText = typeof body === 'string' || Buffer.isBuffer(body);
  const reply: PluginReply = {
    status,
    body: isText ? body : JSON.stringify(body) + '\n',
    headers: isText ? headers : { 'content-type': 'application/json; charset=utf-8', ...headers },
  };
  replies.add(reply);
  return reply;
}

export interface HostOfPlugin extends PluginHost {
  /** Set once the plugin asks for OAuth2: gives it the auth1 and auth2 methods. */
  readonly oauthFlow: OAuth2Flow | undefined;
  /** Ends what the plugin registered (watches, schedules) and forgets its background work: the plugin has stopped. */
  dispose(): void;
}

function asObject(value: Json | undefined): JsonObject | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : value === undefined ? undefined : {};
}

/** What a plugin's OAuth2 flow is bound to: its name, its tree access, and where each user's token lives. */
interface FlowSetting {
  name: string;
  data: TreeAccess;
  log: Logger;
  http: OAuth2Deps['http'];
  timeoutMs: number;
  host: Pick<PluginHost, 'publicUrl' | 'userData'>;
  userPath(user: string): string;
  recordStatus(representing: string, outcome: Outcome): Promise<void>;
}

/** The plugin's OAuth2 flow (oauth2.ts), keeping each user's token and authorisation state in their plugin data. */
function oauthFlowOf(
  { name, data, log, http, timeoutMs, host, userPath, recordStatus }: FlowSetting,
  provider: () => OAuth2Provider,
): OAuth2Flow {
  return new OAuth2Flow({
    plugin: name,
    provider,
    redirectUri: () => host.publicUrl(`/plugin/${name}/auth2`),
    readToken: (user) => asObject(data.get(`${userPath(user)}/token`)),
    readUserData: (user) => host.userData(user),
    usersWithTokens: () => data.refs(`/data/identities/*/plugindata/${name}[token]`).map((ref) => ref.split('/')[3]!),
    writeToken: async (user, token) => {
      await data.put(`${userPath(user)}/token`, token);
    },
    // The reason is kept as the element's text (older databases hold `true`).
    authorisationProblem: (user) => {
      const value = data.get(`${userPath(user)}/needsAuthorisation`);
      return value === undefined || value === null || value === false || value === ''
        ? undefined
        : typeof value === 'string'
          ? value
          : 'authorise again';
    },
    setNeedsAuthorisation: async (user, reason) => {
      if (reason === undefined) {
        if (data.get(`${userPath(user)}/needsAuthorisation`) !== undefined) await data.delete(`${userPath(user)}/needsAuthorisation`);
        return;
      }
      const sentence = `${user} must authorise ${name} again: ${reason}`;
      log.warn({ user }, sentence);
      await data.put(`${userPath(user)}/needsAuthorisation`, reason);
      await recordStatus(`sensors/${name}`, { ok: false, message: sentence });
    },
    http,
    timeoutMs,
  });
}

export function makePluginHost(deps: HostDeps, self: Principal & { kind: 'plugin' }): HostOfPlugin {
  const name = self.name;
  const data = treeAccess(deps.db, self);
  const log = deps.logger.child({ plugin: name });
  const userPath = (user: string) => {
    if (!isTagName(user)) throw new IgorError(`"${user}" is not a user name`, 400, {}, 'bad_request');
    return `/data/identities/${user}/plugindata/${name}`;
  };
  let oauthFlow: OAuth2Flow | undefined;
  // Background work, for /internal/flush to wait on.
  const background = new BackgroundWork(`plugin ${name}`, (what, err) => log.error({ err }, `${what} failed`));
  const unregister = deps.work.register(background);
  const clock = deps.clock ?? SYSTEM_CLOCK;
  const send = deps.http ?? httpRequest;
  const http = (url: string, req: HttpRequest = {}) => send(url, { timeoutMs: deps.callTimeoutMs, ...req });
  const watches = pluginWatches(deps.db, self, background, log);
  const schedule = pluginSchedule(clock, background, log);
  // Through the plugin's own tree access: a plugin records status only where it may write.
  const recordStatus = (representing: string, outcome: Outcome) =>
    data.batch(statusFields(representing, outcome).map(({ xpath, value }) => ({ op: 'put' as const, xpath, value })));

  const host: HostOfPlugin = {
    name,
    logger: {
      debug: (message, fields) => log.debug(fields ?? {}, message),
      info: (message, fields) => log.info(fields ?? {}, message),
      warn: (message, fields) => log.warn(fields ?? {}, message),
      error: (message, fields) => log.error(fields ?? {}, message),
    },
    data,
    devMode: deps.devMode,
    files: pluginFiles(deps.db.dir, name),
    settings: () => asObject(data.get(`/data/plugindata/${name}`)) ?? {},
    userData: (user) => asObject(data.get(userPath(user))),
    http,
    publicUrl: (path) => deps.publicUrl() + (path.startsWith('/') ? path : `/${path}`),
    recordStatus,
    async storeSeries(base, answer, options = {}) {
      const keep = options.keep === undefined ? undefined : { keep: options.keep, now: clock.now() };
      const { changes, counts } = sensorChanges(base, answer, (name) => data.getAll(`${base}/${name}`), options.keys, keep);
      changes.push(...unitChanges(base, options.units ?? {}, (name) => data.get(`${base}/units/${name}`)));
      await data.batch(changes);
      return counts;
    },
    declareSettings: (fields, extra) => declareSettings(name, data, host, fields, extra),
    background: (what, work) => background.run(what, work),
    get oauthFlow() {
      return oauthFlow;
    },
    oauth2(provider: () => OAuth2Provider) {
      oauthFlow = oauthFlowOf({ name, data, log, http, timeoutMs: deps.callTimeoutMs, host, userPath, recordStatus }, provider);
      return oauthFlow;
    },
    onChange: (xpath, handler) => watches.onChange(xpath, handler),
    every: (when, handler) => schedule.every(when, handler),
    now: () => new Date(clock.now()),
    dispose: () => {
      watches.dispose();
      schedule.dispose();
      unregister();
    },
    reply: makeReply,
    redirect: (location, status = 303) => makeReply(status, '', { location }),
    redirectBack: (returnTo) => {
      const back = localPath(returnTo);
      return back === undefined ? undefined : makeReply(303, '', { location: back });
    },
    fail(status, message, headers = {}): never {
      // A plugin's own refusal: its status, with the code every error of that status has.
      throw new IgorError(message, status, headers, CODE_OF_STATUS[status] ?? 'plugin_error');
    },
  };
  return host;
}
