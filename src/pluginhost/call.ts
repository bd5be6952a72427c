/**
 * A call into a plugin's method, made the one way: who may call it, which user it acts for, the PluginCall it is
 * handed (the tree, HTTP and accounts with the caller's rights, never the plugin's) and what its answer becomes.
 * The HTTP route (rest/plugins.ts) and the test host (src/testing) both call methods through here.
 */
import { accountsFor } from '../auth/accounts.ts';
import { deny } from '../auth/policy.ts';
import { describe, isAdmin, type Principal } from '../auth/principal.ts';
import type { QuotaLimits } from '../auth/quotas.ts';
import { BadRequestError, ForbiddenError, NotFoundError } from '../errors.ts';
import type { Caller, JsonObject, PluginCall, PluginInstance, PluginMethodSpec, PluginReply } from '../plugin-api.ts';
import type { Database } from '../store/database.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { isReply, makeReply } from './host.ts';
import type { RunningPlugin } from './start.ts';
import { treeAccess } from './treeAccess.ts';

function callerOf(p: Principal): Caller {
  return {
    ...(p.kind === 'user' ? { user: p.name } : {}),
    admin: isAdmin(p),
    anonymous: p.kind === 'anonymous',
  };
}

/** The server itself, an admin, or this plugin's own actions: may call anything, for any user. */
export function privileged(p: Principal, plugin: string): boolean {
  return isAdmin(p) || (p.kind === 'plugin' && p.name === plugin);
}

/** A plugin's method by name, or a 404. */
export function methodOf(plugin: RunningPlugin, methodName: string): PluginMethodSpec {
  const spec = plugin.methods.get(methodName);
  if (!spec) throw new NotFoundError(`plugin ${plugin.name} has no method ${methodName}`);
  return spec;
}

type Command = NonNullable<PluginInstance['commands']>[string];

/** A plugin's admin command by name, its own (never a property every object has), or a 404 naming those it has. */
export function commandOf(plugin: RunningPlugin, command: string): Command {
  const commands = plugin.instance.commands;
  const run = commands && Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!run)
    throw new NotFoundError(
      `plugin ${plugin.name} has no command ${command}${commands ? `; it has ${Object.keys(commands).join(', ')}` : ''}`,
    );
  return run;
}

/** Refuses a caller the method's `access` does not let in (401 for nobody, 403 for somebody). */
export function checkAccess(plugin: RunningPlugin, methodName: string, spec: PluginMethodSpec, p: Principal): void {
  const access = spec.access ?? 'admin';
  if (access === 'public' || privileged(p, plugin.name)) return;
  const what = `/plugin/${plugin.name}/${methodName}`;
  if (access === 'admin' || p.kind !== 'user') deny(p, 'use', what);
  if (p.scope) throw new ForbiddenError(`API tokens are for /data; call ${what} with a password or a browser session`);
}

/** The request as a method sees it: what paramsAndBody (callBody.ts) made of it, its path and headers. */
export interface CallRequest {
  method: string;
  path: string[];
  params: Record<string, string>;
  body?: PluginCall['body'];
  headers: Record<string, string | undefined>;
}

export interface CallServices {
  db: Database;
  /** The quotas a caller's writes are held to. */
  limits: QuotaLimits;
  /** call.http for this caller. */
  http(p: Principal): PluginCall['http'];
}

/** The user a call acts for (its `user` parameter), when the caller may act for them; a 403 when not. */
function actingFor(plugin: RunningPlugin, spec: PluginMethodSpec, p: Principal, asked: string | undefined): string | undefined {
  if (asked === undefined || asked === '') return undefined;
  if (!isTagName(asked)) throw new BadRequestError(`user=${asked} is not a user name`);
  if (privileged(p, plugin.name) || (p.kind === 'user' && p.name === asked)) return asked;
  if ((spec.access ?? 'admin') !== 'public') throw new ForbiddenError(`${describe(p)} may not act for ${asked}`);
  return undefined;
}

/** The PluginCall for a caller `p` (access already checked): its rights, within the plugin's reach, never both. */
export function pluginCall(
  services: CallServices,
  plugin: RunningPlugin,
  spec: PluginMethodSpec,
  p: Principal,
  request: CallRequest,
): PluginCall {
  const user = actingFor(plugin, spec, p, request.params['user']);
  const userData: JsonObject | undefined = user ? plugin.host.userData(user) : undefined;
  // For its own actions the plugin acts as itself; for anyone else as their deputy: their rights, within its
  // reach (auth/policy.ts), never the union of both.
  const acting: Principal = p.kind === 'plugin' && p.name === plugin.name ? p : { ...plugin.self, caller: p };
  return {
    ...request,
    ...(user ? { user } : {}),
    ...(userData ? { userData } : {}),
    caller: callerOf(p),
    data: treeAccess(services.db, acting, services.limits),
    http: services.http(p),
    accounts: accountsFor(services.db, p),
  };
}

/** What a method's answer becomes: a reply, or undefined for nothing (an empty 200). */
export function replyOf(result: unknown): PluginReply | undefined {
  if (isReply(result)) return result;
  if (result === undefined) return undefined;
  if (typeof result === 'string') return makeReply(200, result, { 'content-type': 'text/plain; charset=utf-8' });
  return makeReply(200, result as JsonObject);
}
