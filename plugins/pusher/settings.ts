/**
 * /settings, for an admin: the app's credentials and where the API is, each checked as it is saved; the
 * secret is never shown back (only whether there is one), and an empty secret leaves the old one.
 */
import type { PluginCall, PluginHost, TreeChange } from 'igor-ts/plugin-api';
import { text } from './pusherClient.ts';

const SETTINGS = ['app_id', 'key', 'secret', 'cluster', 'host', 'port', 'ssl'] as const;

/** Why a setting's value cannot be saved, or undefined. */
function problemOf(key: (typeof SETTINGS)[number], value: string): string | undefined {
  if (!value) return undefined;
  if (key === 'app_id' && !/^\d+$/.test(value)) return 'app_id is a number';
  if (key === 'port' && !/^\d{1,5}$/.test(value)) return 'port is a number';
  if (key === 'ssl' && value !== 'true' && value !== 'false') return 'ssl is true or false';
  return undefined;
}

export function settingsMethod(host: PluginHost) {
  return async function settings(c: PluginCall) {
    if (c.method === 'POST') {
      const changes: TreeChange[] = [];
      for (const k of SETTINGS) {
        const v = c.params[k]?.trim();
        if (v === undefined || (v === '' && k === 'secret')) continue;
        const problem = problemOf(k, v);
        if (problem) host.fail(400, problem);
        changes.push({ op: 'put', xpath: `/data/plugindata/${host.name}/${k}`, value: v });
      }
      await host.data.batch(changes);
    }
    const s = host.settings();
    return {
      app_id: text(s['app_id']),
      key: text(s['key']),
      hasSecret: text(s['secret']) !== '',
      cluster: text(s['cluster']),
      host: text(s['host']),
      port: text(s['port']),
      ssl: text(s['ssl']) !== 'false',
      webhookUrl: host.publicUrl(`/plugin/${host.name}/webhook`),
    };
  };
}
