/**
 * A person's entry in identities/USER/plugindata/NAME, as a plugin's setup page uses it (OAuth2Client.userEntry
 * in the plugin API): GET shows it, without the token and the plugin's own state (fields starting with `_`),
 * with the authorisation state and why it must be renewed; POST creates it (create=1, with the plugin's
 * defaults), forgets the token (forget=1: revoked at the provider, then dropped), deletes it (delete=1: the
 * same, and the entry goes), or sets its fields (an empty value removes one; `_newName`/`_newValue` as in
 * Igor's pages). Every change goes through the caller's own tree access: a person changes only their entry.
 */
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { JsonObject, PluginCall, TreeChange } from '../plugin-api.ts';
import type { OAuth2Deps } from './oauth2.ts';

/** Request parameters of a user entry call that are not settings. */
const NOT_SETTINGS = new Set([
  'token',
  'needsAuthorisation',
  'userId',
  'user',
  '_csrf',
  'returnTo',
  'create',
  'delete',
  'forget',
  '_newName',
  '_newValue',
]);

/** What the entry needs of the plugin's OAuth2 flow: some of what the flow is given, and the token's state. */
export interface UserEntryDeps extends Pick<OAuth2Deps, 'plugin' | 'readUserData' | 'authorisationProblem'> {
  state(user: string): 'none' | 'authorised' | 'reauthorise';
  /** Revokes the user's token at the provider; answers how that went in words, or undefined if there was nothing to revoke. */
  revoke(user: string): Promise<string | undefined>;
}

/**
 * The changes a POST of fields makes to the entry at `base`: each field set, or removed when empty. Throws
 * BadRequestError for a name that cannot be a setting (the plugin's own `_` state among them).
 */
export function settingChanges(base: string, params: Readonly<Record<string, string>>): TreeChange[] {
  const fields = Object.entries(params).filter(([k]) => !NOT_SETTINGS.has(k));
  if (params['_newName']) fields.push([params['_newName'], params['_newValue'] ?? '']);
  return fields.map(([key, value]): TreeChange => {
    // Names starting with _ are the plugin's own state (sync cursors and the like), not settings.
    if (!/^[A-Za-z][\w.-]*$/.test(key) || NOT_SETTINGS.has(key)) throw new BadRequestError(`"${key}" cannot be a setting name`);
    return value === '' ? { op: 'delete', xpath: `${base}/${key}` } : { op: 'put', xpath: `${base}/${key}`, value };
  });
}

/** The entry as shown: without the token, the reason to authorise again (shown as `problem`) and the plugin's state. */
export function shownSettings(data: JsonObject | undefined): JsonObject {
  const shown: JsonObject = {};
  for (const [k, v] of Object.entries(data ?? {})) if (k !== 'token' && k !== 'needsAuthorisation' && !k.startsWith('_')) shown[k] = v;
  return shown;
}

/** Makes the change a call asks for; answers how revoking went, when it did. */
async function change(deps: UserEntryDeps, call: PluginCall, user: string, defaults: JsonObject): Promise<string | undefined> {
  const base = `/data/identities/${user}/plugindata/${deps.plugin}`;
  const p = call.params;
  const revoked = p['delete'] || p['forget'] ? await deps.revoke(user) : undefined;
  if (p['delete']) await call.data.delete(base);
  // Each by its plain path: a secret (the token) is reached by name only, never through a union or predicate.
  else if (p['forget'])
    await call.data.batch([
      { op: 'delete', xpath: `${base}/token` },
      { op: 'delete', xpath: `${base}/needsAuthorisation` },
    ]);
  else if (p['create'] && !call.userData) await call.data.put(base, defaults);
  else if (call.method === 'POST') {
    if (!call.userData) throw new NotFoundError(`${user} has no ${deps.plugin} entry yet: create it first`);
    await call.data.batch(settingChanges(base, p));
  }
  return revoked;
}

export async function userEntry(deps: UserEntryDeps, call: PluginCall, defaults: JsonObject): Promise<JsonObject> {
  const user = call.user;
  if (!user) throw new BadRequestError(`${deps.plugin}'s user entry needs user=NAME`);
  const revoked = await change(deps, call, user, defaults);
  const data = deps.readUserData(user);
  const problem = deps.authorisationProblem(user);
  return {
    user,
    exists: data !== undefined,
    authorisation: deps.state(user),
    ...(problem ? { problem } : {}),
    ...(revoked !== undefined ? { revoked } : {}),
    settings: shownSettings(data),
  };
}
