/**
 * Igor's `systemHealth` plugin: what is failing, in words, in one place. Every status entry (`status/CATEGORY/NAME`:
 * services, sensors, devices, igor…) with an `errorMessage` has that message copied to
 * `environment/systemHealth/messages/NAME`, and the message goes when the error does. Someone can `ignore` an
 * entry's errors for a while (`ignoreErrorUntil`, ended by its next success); a sensor listed in
 * `plugindata/NAME/sensorMaxInterval` with a number of seconds counts as failing when it has been quiet longer.
 * Its action (the same as in Igor's fragment, so an Igor database's own entry runs on it) calls it every minute
 * and whenever an errorMessage changes.
 *
 * It only reads status/ and writes only environment/systemHealth. Igor's also wrote there on its own (emptying an
 * ignoreErrorUntil that had passed, and the quiet sensor's message into its status entry); here a passed time
 * simply stops hiding the error, and the quiet sensor's message is in messages/NAME, which is what people see.
 */
import type { Json, JsonObject, PluginCall, PluginDefinition, PluginHost, TreeChange } from 'igor-ts/plugin-api';

const MESSAGES = '/data/environment/systemHealth/messages';
/** Names as the tree has them: steps of a path under status/, such as sensors/fitbit. */
const STATUS_NAME = /^[A-Za-z_][\w.-]*(\/[A-Za-z_][\w.-]*)*$/;

/** Igor's words for a duration: seconds under a minute, minutes under an hour, hours under 48, days under 14, else weeks. */
export function niceDelta(seconds: number): string {
  let delta = Math.floor(seconds);
  if (delta < 60) return `${delta} seconds`;
  delta = Math.floor(delta / 60);
  if (delta < 60) return `${delta} minutes`;
  delta = Math.floor(delta / 60);
  if (delta < 48) return `${delta} hours`;
  delta = Math.floor(delta / 24);
  if (delta < 14) return `${delta} days`;
  return `${Math.floor(delta / 7)} weeks`;
}

function numberOf(value: Json | undefined): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** An entry's error: its errorMessage's text, if it has one (an empty element reads as {}). */
function errorMessageOf(entry: JsonObject): string | undefined {
  const message = entry['errorMessage'];
  if (typeof message === 'string') return message || undefined;
  return typeof message === 'number' || typeof message === 'boolean' ? String(message) : undefined;
}

/** What one status entry says is wrong now, or undefined: its error, a quiet sensor, unless the error is ignored. */
export function problemOf(ref: string, entry: JsonObject, maxInterval: JsonObject, now: number): string | undefined {
  const [, category, name] = /^\/data\/status\/([^/]+)\/([^/]+)$/.exec(ref) ?? [];
  let error = errorMessageOf(entry);
  const quietFor = numberOf(maxInterval[name ?? '']);
  const lastActivity = numberOf(entry['lastActivity']);
  if (!error && category === 'sensors' && quietFor !== undefined && lastActivity !== undefined && lastActivity + quietFor < now) {
    error = `No activity from ${name} sensors for ${niceDelta(now - lastActivity)}`;
  }
  const ignoreUntil = numberOf(entry['ignoreErrorUntil']);
  return error && !(ignoreUntil !== undefined && ignoreUntil >= now) ? error : undefined;
}

/** The changes that bring messages/ in line with status/: each entry's problem written, or its message gone. */
function messageChanges(host: PluginHost, now: number): TreeChange[] {
  const settings = host.settings();
  const maxInterval = settings['sensorMaxInterval'];
  const intervals = maxInterval && typeof maxInterval === 'object' && !Array.isArray(maxInterval) ? maxInterval : {};
  const refs = host.data.refs('/data/status/*/*');
  const entries = host.data.getAll('/data/status/*/*');
  const problems = new Map<string, string | undefined>();
  refs.forEach((ref, i) => {
    const entry = entries[i];
    // Igor answered 500 for an entry that is not a record; one odd entry should not hide the others' errors.
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return;
    const name = ref.slice(ref.lastIndexOf('/') + 1);
    // Two entries of one name (igor/core, services/core) share a message: an error in either shows.
    problems.set(name, problems.get(name) ?? problemOf(ref, entry, intervals, now));
  });
  const changes: TreeChange[] = [];
  for (const [name, problem] of problems) {
    const path = `${MESSAGES}/${name}`;
    const shown = host.data.get(path);
    if (problem !== undefined && shown !== problem) changes.push({ op: 'put', xpath: path, value: problem });
    else if (problem === undefined && shown !== undefined) changes.push({ op: 'delete', xpath: path });
  }
  return changes;
}

/** `ignore=NAME[&duration=S]`: NAME's errors are not shown for S seconds; without a duration, shown again. */
async function ignore(host: PluginHost, call: PluginCall, name: string, now: number): Promise<void> {
  if (!STATUS_NAME.test(name)) host.fail(400, `ignore=${name}: name a status entry as its path under status/, e.g. sensors/thermometer`);
  const path = `/data/status/${name}/ignoreErrorUntil`;
  const duration = Number(call.params['duration'] || 0);
  if (!Number.isFinite(duration) || duration < 0) host.fail(400, `duration=${call.params['duration']}: a number of seconds`);
  // With the caller's rights: whoever asks must be someone who may change status/ (an admin).
  if (duration > 0) await call.data.put(path, Math.floor(now + duration));
  else if (call.data.refs(path).length) await call.data.delete(path);
}

export default {
  description: "Igor's systemHealth: what fails, in words, in environment/systemHealth/messages",
  writes: ['environment/systemHealth'],
  // `ignore` changes status/NAME/ignoreErrorUntil for the caller, with the caller's rights.
  forCallers: ['/data/status'],
  create(host) {
    return {
      methods: {
        // /plugin/systemHealth[?ignore=NAME&duration=S][&returnTo=/page]: brings the messages up to date.
        index: {
          access: 'user',
          handler: async (call) => {
            const now = Date.now() / 1000;
            if (call.params['ignore']) await ignore(host, call, call.params['ignore'], now);
            await host.data.batch(messageChanges(host, now));
            return host.redirectBack(call.params['returnTo']);
          },
        },
      },
    };
  },
} satisfies PluginDefinition;
