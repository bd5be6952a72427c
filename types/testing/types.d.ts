// Generated from src/testing/types.ts by `npm run types` (tools/types.js): do not edit.
/// <reference types="node" />
/**
 * The types of igor-ts/testing: what createTestHost takes and gives (testHost.ts), declared apart from how it
 * does it, so that their compiled declarations (types/testing/) reach the plugin API and nothing of the server.
 */
import type { Json, JsonObject, PluginHost, TreeAccess } from '../plugin-api.js';
import type { CapturedRequest, HttpHandler } from './capturedHttp.js';
import type { TestClock } from './fakeClock.js';
export interface TestHostOptions {
    /** The name it is installed under: default the folder's name, else `test`. */
    name?: string;
    /** The plugin's folder, for its database-fragment.xml, when the plugin itself is given rather than its folder. */
    folder?: string | URL;
    /** Put into plugindata/NAME before the plugin starts (after its fragment, so they win over its defaults). */
    settings?: JsonObject;
    /** Put into the tree before the plugin starts: paths (relative to /data) and their values. */
    data?: Record<string, Json>;
    /** Accounts to make first, by name; each gets its password (default: `correct horse battery staple`). */
    users?: Record<string, {
        admin?: boolean;
        password?: string;
    }>;
    /** Where the clock starts (default 2030-01-01T00:00:00Z). */
    now?: Date | number | string;
    /** Answers the plugin's HTTP requests; without one, every request fails as an unreachable server does. */
    http?: HttpHandler;
    /** As the server's --dev (host.devMode). */
    devMode?: boolean;
    /** The server's URL as seen from outside (host.publicUrl); default http://igor.test. */
    publicUrl?: string;
}
/**
 * Who calls: an admin, nobody, the server itself, the plugin's own actions (`plugin`), or a user (an admin if the
 * account says so, or `admin: true`).
 */
export type TestCaller = 'admin' | 'anonymous' | 'server' | 'plugin' | {
    user: string;
    admin?: boolean;
};
export interface CallOptions {
    as?: TestCaller;
    /** HTTP method: default GET, or POST when there is a body. */
    method?: string;
    /** Query parameters. */
    params?: Record<string, string>;
    /** Path segments after the method (call.path). */
    path?: string[];
    /** A body: text or bytes as given (with contentType), anything else as JSON. */
    body?: string | Buffer | Json;
    contentType?: string;
    headers?: Record<string, string>;
}
/** A method's answer as the server would send it; an error is its status, its message as text and its code. */
export interface TestReply {
    status: number;
    /** Header names in lower case. */
    headers: Record<string, string>;
    body: Buffer;
    text: string;
    /** The stable code of an error (bad_request, forbidden, …). */
    code?: string;
    /** The body parsed as JSON. */
    json<T = any>(): T;
}
export interface LogEntry {
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
    message: string;
    /** The structured fields: `plugin` (the plugin's own lines), `err` (a logged error: its type, message, stack), … */
    fields: Record<string, unknown>;
}
export interface TestHost {
    readonly name: string;
    /** The PluginHost the running plugin was given: read what the plugin reads (its settings, its secrets). */
    readonly host: PluginHost;
    /** The tree with the server's rights (secrets excepted, as for an admin): to set the scene and check the outcome. */
    readonly data: TreeAccess;
    readonly clock: TestClock;
    /** Every HTTP request the plugin made, in order. */
    readonly requests: CapturedRequest[];
    /** What was logged: the plugin's lines carry `fields.plugin`. */
    readonly logs: LogEntry[];
    /** Calls a method (default `index`) as a caller (default an admin), through the server's access checks. */
    call(method?: string, options?: CallOptions): Promise<TestReply>;
    /** Runs an admin command (`igor plugin NAME COMMAND KEY=VALUE…`). */
    command(command: string, args?: Record<string, string>): Promise<TestReply>;
    /** Answers the plugin's HTTP requests from now on with this handler. */
    answerHttp(handler: HttpHandler): void;
    /** Waits until the plugin's work (background, onChange and every handlers) and the writes it made are done. */
    settle(): Promise<void>;
    /** Stops the plugin as uninstalling does: its stop(), and its watches and schedules end. The tree stays. */
    stop(): Promise<void>;
    /** Stops the plugin and starts it again over the same tree, as a server restart does. */
    restart(): Promise<void>;
    /** Stops the plugin, closes the database and removes its folder. */
    close(): Promise<void>;
}
