/**
 * The one configuration path: command-line flags, then environment variables, then defaults. Each setting is
 * declared once, in SETTINGS: its flag, its environment variable, its default, what it means and how its value is
 * checked. `igor serve --help` (cli/main.ts) and README's table of options (checked by test/config.test.ts) are
 * made from the same declarations.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Config {
  /** Database directory. */
  database: string;
  host: string;
  port: number;
  /** How the server is reached from outside (behind a proxy, for OAuth2 redirects); derived if unset. */
  publicUrl?: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most elements a request body may hold. */
  maxBodyElements: number;
  /** Most elements and bytes the sandbox, and each user's own identities/U and people/U, may hold (non-admin writes). */
  quotaElements: number;
  quotaBytes: number;
  /** Hosts (names, addresses, CIDR ranges) requests made for someone may reach besides public addresses. */
  allowHosts: string[];
  /** How long a call to another server (from an action or plugin) may take, in ms. */
  callTimeoutMs: number;
  /** How long a plugin method may take before the caller gets a 504, in ms. */
  pluginTimeoutMs: number;
  /** Longest an XPath evaluation may take (ms): an admin's (and the server's own), and anyone else's. */
  xpathTimeoutMs: number;
  xpathUserTimeoutMs: number;
  /** Deepest nesting of elements the tree takes (/data is 1). */
  maxDepth: number;
  /** Largest answer to a read (bytes). */
  maxResultBytes: number;
  /** Live updates (/events): most clients at once, and how often an idle stream gets a heartbeat (ms). */
  maxSseClients: number;
  sseHeartbeatMs: number;
  /** Development only: no authentication, everyone may do everything. */
  noAuth: boolean;
  /** Development mode for plugins (e.g. submit accepts loopback callback URLs). */
  dev: boolean;
  logLevel: string;
  /** An MQTT broker to connect to (mqtt:// or mqtts://). */
  mqtt?: string;
  /** Run an MQTT broker in the server on this port (0: any free port). */
  mqttBroker?: number;
}

export class ConfigError extends Error {}

/** How a setting is given on the command line: with a value, with an optional value, or as a switch. */
export type FlagKind = 'value' | 'optional' | 'switch';

export interface Setting<K extends keyof Config = keyof Config> {
  key: K;
  /** The flag as README and --help show it: `--port N`, `--mqtt-broker [PORT]`, `--dev`. */
  flag: string;
  /** A one-letter flag too (`-p`). */
  short?: string;
  kind: FlagKind;
  env: string;
  default: Config[K];
  /** The default as people read it (README's column): `9333`, `~/.igor`, none, off. */
  shown: string;
  /** What it means: README's column (Markdown), and --help's text with the Markdown taken out. */
  help: string;
  /** The value from its text (a flag's or the environment's), checked; `source` names where it came from. */
  parse(value: string, source: string): Config[K];
}

function integer(min: number, max: number) {
  return (value: string, what: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new ConfigError(`${what}=${value} is not a whole number from ${min} to ${max}`);
    return n;
  };
}

function truth(value: string, what: string): boolean {
  if (!['true', '1', 'false', '0', ''].includes(value)) throw new ConfigError(`${what}=${value} must be true or false`);
  return value === 'true' || value === '1';
}

/** A comma-separated list of host names, addresses and CIDR ranges (`192.168.1.0/24`), checked. */
function hostList(value: string, what: string): string[] {
  const hosts = value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const bad = hosts.filter((h) => !/^[a-z0-9.:-]+(\/\d{1,3})?$/.test(h));
  if (bad.length) throw new ConfigError(`${what}: ${bad.join(', ')} is not a host name, address or CIDR range`);
  return hosts;
}

function url(value: string, what: string): string {
  try {
    return new URL(value).toString().replace(/\/$/, '');
  } catch {
    throw new ConfigError(`${what}=${value} is not a URL`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DAY_MS = 24 * 3600 * 1000;
const text = (value: string) => value;

/** Every setting of `igor serve`, in the order README lists them. */
export const SETTINGS: readonly Setting[] = [
  {
    key: 'database',
    flag: '--database DIR',
    short: '-d',
    kind: 'value',
    env: 'IGOR_DATABASE',
    default: join(homedir(), '.igor'),
    shown: '`~/.igor`',
    help: 'database directory (an Igor directory is adopted as is: see [Coming from Igor](#coming-from-igor))',
    parse: (value) => resolve(value),
  },
  {
    key: 'port',
    flag: '--port N',
    short: '-p',
    kind: 'value',
    env: 'IGOR_PORT',
    default: 9333,
    shown: '`9333`',
    help: 'port',
    parse: integer(0, 65535),
  },
  {
    key: 'host',
    flag: '--host H',
    kind: 'value',
    env: 'IGOR_HOST',
    default: '127.0.0.1',
    shown: '`127.0.0.1`',
    help: 'address to listen on (`0.0.0.0` to be reachable from the network)',
    parse: text,
  },
  {
    key: 'publicUrl',
    flag: '--public-url URL',
    kind: 'value',
    env: 'IGOR_PUBLIC_URL',
    default: undefined,
    shown: '`http://HOST:PORT`',
    help: 'how the server is reached from outside, e.g. behind a reverse proxy',
    parse: url,
  },
  {
    key: 'maxBodyBytes',
    flag: '--max-body-bytes N',
    kind: 'value',
    env: 'IGOR_MAX_BODY_BYTES',
    default: 1024 * 1024,
    shown: '`1048576`',
    help: 'largest request body accepted (larger: 413)',
    parse: integer(1, 1024 * 1024 * 1024),
  },
  {
    key: 'maxBodyElements',
    flag: '--max-body-elements N',
    kind: 'value',
    env: 'IGOR_MAX_BODY_ELEMENTS',
    default: 10_000,
    shown: '`10000`',
    help: 'most elements a request body may hold (more: 413, refused before it is parsed)',
    parse: integer(1, 10_000_000),
  },
  {
    key: 'quotaElements',
    flag: '--quota-elements N',
    kind: 'value',
    env: 'IGOR_QUOTA_ELEMENTS',
    default: 20_000,
    shown: '`20000`',
    help: 'most elements anyone but an admin may fill the sandbox, or a user their own `identities/U` and `people/U`, with (more: 507)',
    parse: integer(100, 100_000_000),
  },
  {
    key: 'quotaBytes',
    flag: '--quota-bytes N',
    kind: 'value',
    env: 'IGOR_QUOTA_BYTES',
    default: 16 * 1024 * 1024,
    shown: '`16777216`',
    help: 'the same in bytes of names, text and attribute values',
    parse: integer(1024, 1024 ** 4),
  },
  {
    key: 'allowHosts',
    flag: '--allow-hosts LIST',
    kind: 'value',
    env: 'IGOR_ALLOW_HOSTS',
    default: [],
    shown: 'none',
    help: 'hosts, addresses or CIDR ranges (`192.168.1.0/24`) that requests made for someone (copytree for a user, plugin actions) may reach besides public addresses',
    parse: hostList,
  },
  {
    key: 'callTimeoutMs',
    flag: '--call-timeout-ms N',
    kind: 'value',
    env: 'IGOR_CALL_TIMEOUT_MS',
    default: 30_000,
    shown: '`30000`',
    help: "how long an action's call to another server may take",
    parse: integer(1, DAY_MS),
  },
  {
    key: 'logLevel',
    flag: '--log-level L',
    kind: 'value',
    env: 'IGOR_LOG_LEVEL',
    default: 'info',
    shown: '`info`',
    help: '`fatal` … `trace`, `silent`; logs are JSON lines on stderr',
    parse: (value, what) => {
      if (!LOG_LEVELS.includes(value)) throw new ConfigError(`${what}=${value} is not a log level (${LOG_LEVELS.join(', ')})`);
      return value;
    },
  },
  {
    key: 'pluginTimeoutMs',
    flag: '--plugin-timeout-ms N',
    kind: 'value',
    env: 'IGOR_PLUGIN_TIMEOUT_MS',
    default: 60_000,
    shown: '`60000`',
    help: 'how long a plugin method may take before the caller gets a 504',
    parse: integer(1, DAY_MS),
  },
  {
    key: 'xpathTimeoutMs',
    flag: '--xpath-timeout-ms N',
    kind: 'value',
    env: 'IGOR_XPATH_TIMEOUT_MS',
    default: 2000,
    shown: '`2000`',
    help: "longest an admin's XPath evaluation may take (and the server's own)",
    parse: integer(1, 600_000),
  },
  {
    key: 'xpathUserTimeoutMs',
    flag: '--xpath-user-timeout-ms N',
    kind: 'value',
    env: 'IGOR_XPATH_USER_TIMEOUT_MS',
    default: 250,
    shown: '`250`',
    help: "longest anyone else's may take",
    parse: integer(1, 600_000),
  },
  {
    key: 'maxDepth',
    flag: '--max-depth N',
    kind: 'value',
    env: 'IGOR_MAX_DEPTH',
    default: 256,
    shown: '`256`',
    help: 'deepest nesting of elements the tree takes, `/data` being 1 (at most 1024)',
    // Above 1024, building elements one level per call could run out of stack (jsonxml.ts MAX_JSON_DEPTH).
    parse: integer(16, 1024),
  },
  {
    key: 'maxResultBytes',
    flag: '--max-result-bytes N',
    kind: 'value',
    env: 'IGOR_MAX_RESULT_BYTES',
    default: 16 * 1024 * 1024,
    shown: '`16777216`',
    help: 'largest answer to a read',
    parse: integer(1024, 1024 * 1024 * 1024),
  },
  {
    key: 'maxSseClients',
    flag: '--max-sse-clients N',
    kind: 'value',
    env: 'IGOR_MAX_SSE_CLIENTS',
    default: 100,
    shown: '`100`',
    help: 'most live-update streams at once (shared: see Users and access control)',
    parse: integer(0, 100_000),
  },
  {
    key: 'sseHeartbeatMs',
    flag: '--sse-heartbeat-ms N',
    kind: 'value',
    env: 'IGOR_SSE_HEARTBEAT_MS',
    default: 15_000,
    shown: '`15000`',
    help: 'heartbeat of a quiet live-update stream',
    parse: integer(100, 3600 * 1000),
  },
  {
    key: 'mqtt',
    flag: '--mqtt URL',
    kind: 'value',
    env: 'IGOR_MQTT',
    default: undefined,
    shown: 'none',
    help: 'connect to this MQTT broker (`mqtt://`, `mqtts://`; see Devices over MQTT)',
    parse: (value, what) => {
      if (!/^mqtts?:\/\/[^\s/]+/.test(value)) throw new ConfigError(`${what}=${value} is not an mqtt:// or mqtts:// URL`);
      return value;
    },
  },
  {
    key: 'mqttBroker',
    flag: '--mqtt-broker [PORT]',
    kind: 'optional',
    env: 'IGOR_MQTT_BROKER',
    default: undefined,
    shown: 'off',
    help: 'run an MQTT broker in the server on `--host` (port 1883 unless given)',
    // Without a port: MQTT's own, 1883.
    parse: (value, what) => (value === 'true' ? 1883 : integer(0, 65535)(value, what)),
  },
  {
    key: 'dev',
    flag: '--dev',
    kind: 'switch',
    env: 'IGOR_DEV=1',
    default: false,
    shown: 'off',
    help: 'development mode for plugins (e.g. `submit` accepts loopback callback URLs)',
    parse: truth,
  },
  {
    key: 'noAuth',
    flag: '--no-auth',
    kind: 'switch',
    env: 'IGOR_NO_AUTH=1',
    default: false,
    shown: 'off',
    help: 'development only: anyone may do anything (see Users and access control)',
    parse: truth,
  },
];

/** The environment variable's name (`IGOR_DEV=1` names IGOR_DEV). */
export function envName(s: Setting): string {
  return s.env.replace(/=.*$/, '');
}

export const DEFAULTS: Config = Object.fromEntries(SETTINGS.map((s) => [s.key, s.default])) as unknown as Config;

/** Flags win over the environment, which wins over the defaults. Values from both are validated. */
export function resolveConfig(
  flags: Partial<Record<keyof Config, string | number | boolean | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const config = { ...DEFAULTS, allowHosts: [...DEFAULTS.allowHosts] } as Record<keyof Config, unknown>;
  const given = new Set<keyof Config>();
  for (const s of SETTINGS) {
    const flag = flags[s.key];
    const fromEnv = env[envName(s)];
    if (flag !== undefined) config[s.key] = s.parse(String(flag), s.flag.split(' ')[0]!);
    else if (fromEnv !== undefined && fromEnv !== '') config[s.key] = s.parse(fromEnv, envName(s));
    else continue;
    given.add(s.key);
  }
  // The submit server's own switch: set at all means on.
  if (!given.has('dev') && env['DEV8dac6d02a913'] !== undefined) config.dev = true;
  return config as unknown as Config;
}

/** The URL people and services use to reach this server. */
export function publicUrlOf(config: Config, boundPort: number): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
}
