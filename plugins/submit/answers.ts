/** The answers of the original server: a status code with a JSON `{"status": …}` body, and more fields where useful. */
import type { JsonObject, PluginHost, PluginReply } from 'igor-ts/plugin-api';

export type StatusAnswer = (code: number, value: string, extra?: JsonObject) => PluginReply;

export function statusAnswer(host: PluginHost): StatusAnswer {
  return (code, value, extra = {}) => host.reply(code, { status: value, ...extra });
}
