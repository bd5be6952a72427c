/**
 * The plugin API: all a plugin may use of the host, and all the host knows of a plugin. Types only: a plugin
 * gets everything it uses at run time from the PluginHost handed to its create(), so a plugin folder works
 * wherever it lives (the package's plugins/ or the database's own plugins/). It imports nothing: its compiled
 * declarations (types/plugin-api.d.ts, `npm run types`) are all an author outside this repository needs.
 *
 * A plugin is a folder `plugins/NAME/` holding `plugin.ts`, whose default export is a PluginDefinition,
 * and optionally `database-fragment.xml`, pages (`setup.html`, …) and `readme.md`:
 *
 *   import type { PluginDefinition } from 'igor-ts/plugin-api';
 *   export default { description: '…', create: (host) => ({ methods: { … } }) } satisfies PluginDefinition;
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** An HTTP request the host makes (host.http, call.http, an OAuth2 client's request). */
export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array;
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Also trust this CA (PEM) for https, besides the system's. */
  ca?: string;
}

/** Its answer: any status (a 404 is an answer, not an error); the body as text. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  body: string;
}

export interface PluginLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The tree, seen with the plugin's rights: its own plugindata/NAME, sensors/NAME, devices/NAME,
 * status/sensors/NAME, identities/*\/plugindata/NAME, and during a call also what the caller may do.
 * Values are Igor's JSON form of an element's content. Secrets are included where the plugin may write.
 */
export interface TreeAccess {
  /** The content of the one element the path selects, or undefined if none. */
  get(xpath: string): Json | undefined;
  /** The content of every element the path selects. */
  getAll(xpath: string): Json[];
  /** The reference (/data/…) of every element the path selects, e.g. to learn which users have data. */
  refs(xpath: string): string[];
  /** Replaces (or creates, with missing parents) the element; answers its reference. */
  put(xpath: string, value: Json): Promise<string>;
  /** Appends a new element; answers its reference. */
  post(xpath: string, value: Json): Promise<string>;
  /** Deletes every element the path selects. */
  delete(xpath: string): Promise<void>;
  /** Several changes at once, durable together or not at all. */
  batch(changes: TreeChange[]): Promise<void>;
}

export type TreeChange =
  | { op: 'put'; xpath: string; value: Json }
  | { op: 'post'; xpath: string; value: Json }
  | { op: 'delete'; xpath: string };

/** Where and how to authorise with an OAuth2 provider; read afresh for every flow, from the plugin's settings. */
export interface OAuth2Provider {
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string[];
  /** How the client authenticates to the token endpoint: HTTP Basic header (default) or form fields. */
  clientAuth?: 'header' | 'body';
  /** Send a PKCE S256 code_challenge with the authorisation and its verifier with the code (RFC 7636). */
  pkce?: boolean;
  /** More query parameters for the authorisation request (Google: access_type=offline, prompt=consent). */
  authorizeParams?: Record<string, string>;
  /** Where `forget` revokes the user's token at the provider (RFC 7009: POST token=…); none: only forgotten here. */
  revokeUrl?: string;
}

export interface OAuth2Client {
  /** Where to send USER's browser to authorise (what auth1 redirects to; e.g. for a CLI to print). */
  authorizeUrl(user: string): string;
  /** fetch() with the user's access token: refreshed before it expires and once after a 401. */
  request(user: string, url: string, req?: HttpRequest): Promise<HttpResponse>;
  /** Whether the user has a token, and whether it still works as far as the host knows. */
  state(user: string): 'none' | 'authorised' | 'reauthorise';
  /** The scopes the provider says it granted (its token answer's `scope`), or undefined if it did not say. */
  grantedScopes(user: string): string[] | undefined;
  /**
   * Marks the user as having to authorise again, with the sentence the setup page and status/ show (a scope
   * the user did not grant, an account the provider does not know). Authorising again clears it.
   */
  requireAuthorisation(user: string, reason: string): Promise<void>;
  /** The users whose authorisation works (what a periodic fetch goes through). */
  authorisedUsers(): string[];
  /**
   * Runs `work` for each authorised user in turn (a periodic fetch); answers each one's result by user, or
   * fails with a 502 listing every user whose work failed and why.
   */
  forAuthorisedUsers(work: (user: string) => Promise<Json>): Promise<JsonObject>;
  /**
   * A person's entry in identities/USER/plugindata/NAME, as a setup page uses it (call.user is the person):
   * GET shows it (without the token and without the plugin's own state: fields whose names start with `_`)
   * and the authorisation state with the reason when it must be renewed; POST with create=1 makes it (with
   * `defaults`), forget=1 revokes the token at the provider (when it has a revokeUrl) and drops it, delete=1
   * does that and drops the entry, and other fields set settings (an empty value removes one;
   * `_newName`/`_newValue` as in Igor's pages).
   */
  userEntry(call: PluginCall, defaults: JsonObject): Promise<JsonObject>;
}

export interface Caller {
  /** The user's name, if a user (or a user's token or session) is calling. */
  user?: string;
  admin: boolean;
  /** Nobody logged in. */
  anonymous: boolean;
}

export interface PluginCall {
  /** HTTP method. */
  method: string;
  /** Path segments after the method: /plugin/pusher/channels/lobby/users gives ['lobby', 'users']. */
  path: string[];
  /** Query parameters, form fields and the top-level scalars of a JSON object body, as text. */
  params: Record<string, string>;
  /** The request body as sent (for signatures), parsed when it is JSON, and the files of a multipart form. */
  body?: { raw: Buffer; contentType: string; json?: Json; files?: UploadedFile[] };
  /** Request headers, names in lower case. */
  headers: Record<string, string | undefined>;
  /** The `user` parameter, when the caller may act for that user (the user, an admin, or the server). */
  user?: string;
  /** identities/USER/plugindata/NAME of that user, or undefined if the user has none. */
  userData?: JsonObject;
  caller: Caller;
  /**
   * The tree as the plugin may use it for this caller: what the caller may read and write, within the plugin's
   * own subtrees and those it declares in `forCallers` — never more than the caller may. Secrets are never read
   * here, as the caller never reads them. For the plugin's own work (its sensors, its settings) use host.data.
   */
  data: TreeAccess;
  /**
   * HTTP for the caller, to a URL the caller gave: an admin's call may go anywhere; anyone else's only to public
   * addresses (or hosts an admin allows with --allow-hosts), checked as the connection is made. A refused
   * destination is a 403 for the caller. For the plugin's own calls (its cloud service) use host.http.
   */
  http(url: string, req?: HttpRequest): Promise<HttpResponse>;
  /** User accounts, with the caller's rights only: an admin manages everyone, a user their own password. */
  accounts: Accounts;
}

/** Users at run time (Igor's user plugin); refusals are errors with their HTTP status and a reason. */
export interface Accounts {
  /** A new user with a password (weak ones are refused, saying why); an existing one is a 400. */
  add(name: string, password: string, options?: { admin?: boolean }): Promise<void>;
  /** An admin sets anyone's; a user their own, with the old password. */
  setPassword(name: string, password: string, oldPassword?: string): Promise<void>;
  delete(name: string): Promise<void>;
}

export interface UploadedFile {
  /** The form field it came in. */
  field: string;
  /** The name the client gave it (unchecked: use host.files, which makes it safe). */
  filename: string;
  contentType: string;
  data: Buffer;
}

/** What a method answers: text (text/plain), a JSON value, nothing (empty 200), or a reply made by the host. */
export type PluginResult = string | Json | undefined | void | PluginReply;

/** Made by host.reply() or host.redirect(). */
export interface PluginReply {
  readonly status: number;
  readonly body: string | Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** The HTTP statuses a plugin may answer with an error. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 502 | 503 | 504;

export interface PluginMethodSpec {
  handler(call: PluginCall): PluginResult | Promise<PluginResult>;
  /**
   * Who may call it: 'public' (anyone, e.g. a webhook that checks its own signature), 'user' (anyone logged in;
   * with `user=U` only U or an admin), 'admin' (the default). The server itself and the plugin's actions may
   * call every method.
   */
  access?: 'public' | 'user' | 'admin';
  /**
   * Largest request body accepted (default: the server's --max-body-bytes). A limit above the server's counts
   * only for callers who logged in, or whom `acceptsLargeBody` accepts: anyone else is held to the server's
   * limit, decided before any of the body is read.
   */
  maxBodyBytes?: number;
  /** For a public method with a large maxBodyBytes: whether this caller may send that much (a token in the query, say). */
  acceptsLargeBody?(request: { params: Readonly<Record<string, string>>; headers: Readonly<Record<string, string | undefined>> }): boolean;
  /** Let web pages of any origin call it (Access-Control-Allow-Origin: *, OPTIONS preflight); no cookies are used. */
  cors?: boolean;
  /**
   * For a public method only: its caller puts its own secret in the Authorization header (Google's webhooks
   * do), so the server does not read it as a login; the call is anonymous and the method checks the header.
   */
  ownAuthorization?: boolean;
}

export type PluginMethod = PluginMethodSpec | ((call: PluginCall) => PluginResult | Promise<PluginResult>);

export interface PluginHost {
  /** The name this copy is installed under (the same code can be installed twice). */
  readonly name: string;
  readonly logger: PluginLogger;
  /** The tree with the plugin's own rights. */
  readonly data: TreeAccess;
  /** plugindata/NAME as JSON (with secrets). */
  settings(): JsonObject;
  /** identities/USER/plugindata/NAME as JSON, or undefined. */
  userData(user: string): JsonObject | undefined;
  /** The server runs in development mode (--dev): e.g. loopback callback URLs may be allowed. */
  readonly devMode: boolean;
  /** Files of the plugin, kept durably in the database directory (files/NAME/). */
  readonly files: PluginFiles;
  /**
   * HTTP calls to other servers for the plugin's own work (the services its admin configured), with the server's
   * timeout. A URL someone else gave goes through call.http, which holds it to that caller's rights.
   */
  http(url: string, req?: HttpRequest): Promise<HttpResponse>;
  /**
   * Merges a cloud service's answer into the sensor at `base` (e.g. /data/sensors/fitbit/jack): each list of
   * measurements by each entry's key (the first of `keys` it has; default logId, id, dateTime, date) — new
   * ones appended, changed ones replaced, history kept — and anything else replaced. `units` says which
   * fields of a series are measurements and in what unit; it is kept at `base`/units/NAME/FIELD, where pages
   * find it. One durable write; answers how many entries were new or changed, per name.
   */
  storeSeries(base: string, answer: JsonObject, options?: SeriesOptions): Promise<Record<string, number>>;
  /**
   * The plugin's settings (plugindata/NAME), declared once: `get` reads one (or its default) and `method` is
   * the admin method a setup page uses. A POST is checked whole before anything is written (URLs, numbers,
   * choices; a 400 naming the field), an empty secret keeps the secret, and the answer never holds a secret.
   */
  declareSettings(fields: Record<string, SettingSpec>, extra?: () => JsonObject): PluginSettings;
  /**
   * Work to finish after answering (e.g. a webhook that must answer at once): errors are logged, and
   * /internal/flush waits for it.
   */
  background(what: string, work: () => Promise<unknown>): void;
  /** This server's URL as seen from outside (--public-url), for a path such as /plugin/NAME/auth2. */
  publicUrl(path: string): string;
  /** Records how the plugin's work for `representing` (e.g. sensors/NAME) went, under status/. */
  recordStatus(representing: string, outcome: { ok: boolean; message?: string }): Promise<void>;
  /**
   * OAuth2 for this plugin: adds the methods auth1 (?user=U: off to the provider) and auth2 (its callback),
   * and stores each user's token in identities/U/plugindata/NAME/token.
   */
  oauth2(provider: () => OAuth2Provider): OAuth2Client;
  /** A full answer: status, body, headers. */
  reply(status: number, body?: string | Buffer | Json, headers?: Record<string, string>): PluginReply;
  /** A 303 (or other 3xx) to another page. */
  redirect(location: string, status?: number): PluginReply;
  /** A 303 back to a form's `returnTo` when it is a page of this server, or undefined (another site is never one). */
  redirectBack(returnTo: string | undefined): PluginReply | undefined;
  /** Ends the call with an error status and a message for the caller (and headers, such as retry-after). */
  fail(status: ErrorStatus, message: string, headers?: Record<string, string>): never;
  /**
   * Calls `handler` after each write that adds, replaces or deletes an element `xpath` selects (a path relative
   * to /data, as for host.data), or adds a child to one or deletes one from it, with those elements as the
   * plugin sees them: with its own rights, as host.data, so nothing it may not read is selected or shown. Writes
   * are matched as actions' `<xpath>` triggers are (a replaced `lamp/level` is a change of `level`, not of
   * `lamp`: watch `lamp/*` too to hear of it). Calls to one handler come one at a time: what changes meanwhile is
   * handed to its next call (each element once, as it is then). Changes a handler makes do not call it again.
   * What it throws is logged, never passed on. It ends when the plugin stops, or with the answer's `stop()`; an
   * XPath that cannot be read throws at once.
   */
  onChange(xpath: string, handler: (changes: NodeChange[]) => void | Promise<void>): Subscription;
  /**
   * Runs `handler` on a schedule: `every(seconds)` one interval after the last run ended (the first one interval
   * after this call), or `every('cron expression')` at each time it matches, in the server's local time, as an
   * action's `<cron>` (seconds optional: `0 7 * * *` is 07:00 daily); a cron time that comes while the last run
   * is still going is skipped. What it throws is logged, never passed on. It ends when the plugin stops, or with
   * the answer's `stop()`. A bad interval or expression throws at once.
   */
  every(when: number | string, handler: () => void | Promise<void>): Subscription;
  /** The time by the host's clock, which host.every follows: under createTestHost, the test's clock. */
  now(): Date;
}

/** An element that changed, as host.onChange hands it over. */
export interface NodeChange {
  /** Its reference (/data/…); for a deleted element, where it was. */
  ref: string;
  /** Its content (Igor's JSON form) as the plugin may see it; for a deleted element, what it held. */
  value: Json;
  deleted: boolean;
}

/** What host.onChange and host.every answer: the way to end them before the plugin stops. */
export interface Subscription {
  stop(): void;
}

export interface SeriesOptions {
  /** The fields that identify a measurement, the first one an entry has counting (default logId, id, dateTime, date). */
  keys?: string[];
  /** Per series name, its measurement fields and their units: `{ weight: { weight: 'kg', bmi: 'kg/m²' } }`. */
  units?: Record<string, Record<string, string>>;
  /**
   * How much of each series stays in the tree: the newest N entries (`keep: 30`), or those of the last days
   * (`keep: { days: 7 }`), newest by each entry's own time (dateTime, date and time, timestamp, …) when every
   * entry has one, else by arrival. The rest is deleted from the tree in the same write; the history
   * (README, History) keeps all of them, so the sensors page still plots years. Every entry the answer brings
   * is written, even one that goes at once, so that the history records it. An entry the service sends again
   * after it has left the tree is new again: keep at least what a fetch asks for once more (Fitbit's last
   * days, say). Default: everything stays, as before.
   */
  keep?: number | { days: number };
}

export interface SettingSpec {
  /** text (default), secret (never answered; empty keeps it), url (http or https), number, or one of `choices`. */
  kind?: 'text' | 'secret' | 'url' | 'number' | 'choice';
  /** What `get` answers when the setting is empty (it may depend on other settings); pages show it as the placeholder. */
  default?: string | (() => string);
  choices?: string[];
  /** For numbers: the range accepted. */
  min?: number;
  max?: number;
  /** A further check: answers what is wrong with the value, or undefined. */
  check?(value: string): string | undefined;
}

export interface PluginSettings {
  /** The setting's value as text, or its default, or ''. */
  get(key: string): string;
  /**
   * The settings method (admin): GET answers `{ KEY: value…, defaults: {…}, secrets: { KEY: isSet } }` plus
   * `extra()`; POST (or GET with declared keys) changes them first, and a local `returnTo` redirects there.
   */
  readonly method: PluginMethodSpec;
}

export interface PluginFiles {
  /**
   * Stores data under a name made safe (no directories, no dots in front, at most 100 characters), in the
   * folder `dir` (plain names joined by /); answers the path relative to files/NAME/. Durable when it returns.
   */
  write(dir: string, filename: string, data: Buffer | string): Promise<string>;
  read(path: string): Promise<Buffer>;
}

export interface PluginInstance {
  methods: Record<string, PluginMethod>;
  /** Admin commands: `igor plugin NAME COMMAND [KEY=VALUE…]`, over /plugin/NAME/command/COMMAND. */
  commands?: Record<string, (args: Record<string, string>) => PluginResult | Promise<PluginResult>>;
  /** Called when the plugin is uninstalled or the server stops. */
  stop?(): void | Promise<void>;
}

export interface PluginDefinition {
  /** One line for the plugin list. */
  description: string;
  /**
   * Subtrees beyond its own (plugindata/NAME, sensors/NAME, devices/NAME, …) the plugin writes, e.g.
   * 'sensors/fitbit'; under sensors/, devices/, environment/ or status/ only. Installing the plugin grants them.
   */
  writes?: string[];
  /**
   * Where the plugin acts for its callers, beyond its own subtrees: what `call.data` may read and write is what
   * the caller may, within these (and the plugin's own). `'/data'` for a general tool such as copytree. Installing
   * the plugin accepts them; a caller never gains a right through them.
   */
  forCallers?: string[];
  create(host: PluginHost): PluginInstance | Promise<PluginInstance>;
}
