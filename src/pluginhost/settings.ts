/**
 * A plugin's settings (plugindata/NAME), declared once (plugin-api host.declareSettings): reading one with
 * its default, and the admin method a setup page uses to show and change them. The rules every plugin wants
 * live here once: a change is checked whole before anything is written, an empty secret keeps the secret,
 * and no answer carries a secret.
 */
import { isSecretName } from '../auth/visibility.ts';
import { BadRequestError } from '../errors.ts';
import type { Json, JsonObject, PluginCall, PluginReply, PluginSettings, SettingSpec, TreeAccess, TreeChange } from '../plugin-api.ts';

const NAME = /^[A-Za-z_][\w.-]*$/;

function text(value: Json | undefined): string {
  return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
}

/** What is wrong with `value` for this setting, or undefined. Empty values are always allowed (they clear it). */
function problemOf(key: string, spec: SettingSpec, value: string): string | undefined {
  if (value === '') return undefined;
  switch (spec.kind) {
    case 'url':
      if (!/^https?:\/\/[^\s/]+[^\s]*$/.test(value)) return `${key} must be an http(s) URL`;
      break;
    case 'number': {
      const n = Number(value);
      if (!/^-?\d+(\.\d+)?$/.test(value) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
        return `${key} must be a number${spec.min !== undefined ? ` from ${spec.min}` : ''}${spec.max !== undefined ? ` to ${spec.max}` : ''}`;
      break;
    }
    case 'choice':
      if (!spec.choices?.includes(value)) return `${key} must be one of ${spec.choices?.join(', ')}`;
      break;
  }
  return spec.check?.(value);
}

export function declareSettings(
  plugin: string,
  data: TreeAccess,
  reply: { redirectBack(returnTo: string | undefined): PluginReply | undefined },
  fields: Record<string, SettingSpec>,
  extra: () => JsonObject = () => ({}),
): PluginSettings {
  for (const [key, spec] of Object.entries(fields)) {
    if (!NAME.test(key)) throw new Error(`${plugin}: "${key}" cannot be a setting name`);
    // Write-only means hidden in the tree too: a secret's name must be one the visibility rule keeps secret.
    if (spec.kind === 'secret' && !isSecretName(key))
      throw new Error(`${plugin}: the secret setting "${key}" needs a name the tree keeps secret (ending in Secret or _secret)`);
  }
  const base = `/data/plugindata/${plugin}`;
  const stored = (key: string) => text(data.get(`${base}/${key}`));
  const defaultOf = (spec: SettingSpec | undefined) => (typeof spec?.default === 'function' ? spec.default() : (spec?.default ?? ''));
  const get = (key: string) => stored(key) || defaultOf(fields[key]);

  function answer(): JsonObject {
    const out: JsonObject = {};
    const defaults: JsonObject = {};
    const secrets: JsonObject = {};
    for (const [key, spec] of Object.entries(fields)) {
      if (spec.kind === 'secret') secrets[key] = stored(key) !== '';
      else out[key] = stored(key);
      if (spec.default !== undefined) defaults[key] = defaultOf(spec);
    }
    return { ...out, defaults, secrets, ...extra() };
  }

  async function change(params: Record<string, string>): Promise<void> {
    const changes: TreeChange[] = [];
    for (const [key, spec] of Object.entries(fields)) {
      const value = params[key]?.trim();
      if (value === undefined || (value === '' && spec.kind === 'secret')) continue; // an empty secret field keeps the secret
      const problem = problemOf(key, spec, value);
      if (problem) throw new BadRequestError(problem);
      changes.push(value === '' ? { op: 'delete', xpath: `${base}/${key}` } : { op: 'put', xpath: `${base}/${key}`, value });
    }
    await data.batch(changes);
  }

  return {
    get,
    method: {
      access: 'admin',
      async handler(call: PluginCall) {
        if (call.method === 'POST' || Object.keys(call.params).some((k) => k in fields)) {
          await change(call.params);
          const back = reply.redirectBack(call.params['returnTo']);
          if (back) return back;
        }
        return answer();
      },
    },
  };
}
