/**
 * The one configuration path: command-line flags, then environment variables, then defaults.
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

export const DEFAULTS: Config = {
  database: join(homedir(), '.igor'),
  host: '127.0.0.1',
  port: 9333,
  maxBodyBytes: 1024 * 1024,
  maxBodyElements: 10_000,
  quotaElements: 20_000,
  quotaBytes: 16 * 1024 * 1024,
  allowHosts: [],
  callTimeoutMs: 30_000,
  pluginTimeoutMs: 60_000,
  xpathTimeoutMs: 2000,
  xpathUserTimeoutMs: 250,
  maxDepth: 256,
  maxResultBytes: 16 * 1024 * 1024,
  maxSseClients: 100,
  sseHeartbeatMs: 15_000,
  noAuth: false,
  dev: false,
  logLevel: 'info',
};

const ENV: Record<keyof Config, string> = {
  database: 'IGOR_DATABASE',
  host: 'IGOR_HOST',
  port: 'IGOR_PORT',
  publicUrl: 'IGOR_PUBLIC_URL',
  maxBodyBytes: 'IGOR_MAX_BODY_BYTES',
  maxBodyElements: 'IGOR_MAX_BODY_ELEMENTS',
  quotaElements: 'IGOR_QUOTA_ELEMENTS',
  quotaBytes: 'IGOR_QUOTA_BYTES',
  allowHosts: 'IGOR_ALLOW_HOSTS',
  callTimeoutMs: 'IGOR_CALL_TIMEOUT_MS',
  pluginTimeoutMs: 'IGOR_PLUGIN_TIMEOUT_MS',
  xpathTimeoutMs: 'IGOR_XPATH_TIMEOUT_MS',
  xpathUserTimeoutMs: 'IGOR_XPATH_USER_TIMEOUT_MS',
  maxDepth: 'IGOR_MAX_DEPTH',
  maxResultBytes: 'IGOR_MAX_RESULT_BYTES',
  maxSseClients: 'IGOR_MAX_SSE_CLIENTS',
  sseHeartbeatMs: 'IGOR_SSE_HEARTBEAT_MS',
  noAuth: 'IGOR_NO_AUTH',
  dev: 'IGOR_DEV',
  logLevel: 'IGOR_LOG_LEVEL',
  mqtt: 'IGOR_MQTT',
  mqttBroker: 'IGOR_MQTT_BROKER',
};

export class ConfigError extends Error {}

function integer(value: string, what: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max)
    throw new ConfigError(`${what}=${value} is not a whole number from ${min} to ${max}`);
  return n;
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

/** Flags win over the environment, which wins over the defaults. Values from both are validated. */
export function resolveConfig(
  flags: Partial<Record<keyof Config, string | number | boolean | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const pick = (key: keyof Config): { value: string; source: string } | undefined => {
    const flag = flags[key];
    if (flag !== undefined) return { value: String(flag), source: `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}` };
    const fromEnv = env[ENV[key]];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: ENV[key] };
    return undefined;
  };
  const config: Config = { ...DEFAULTS };
  const database = pick('database');
  if (database) config.database = resolve(database.value);
  const host = pick('host');
  if (host) config.host = host.value;
  const port = pick('port');
  if (port) config.port = integer(port.value, port.source, 0, 65535);
  const body = pick('maxBodyBytes');
  if (body) config.maxBodyBytes = integer(body.value, body.source, 1, 1024 * 1024 * 1024);
  const bodyElements = pick('maxBodyElements');
  if (bodyElements) config.maxBodyElements = integer(bodyElements.value, bodyElements.source, 1, 10_000_000);
  const quotaElements = pick('quotaElements');
  if (quotaElements) config.quotaElements = integer(quotaElements.value, quotaElements.source, 100, 100_000_000);
  const quotaBytes = pick('quotaBytes');
  if (quotaBytes) config.quotaBytes = integer(quotaBytes.value, quotaBytes.source, 1024, 1024 * 1024 * 1024 * 1024);
  const allowHosts = pick('allowHosts');
  if (allowHosts) config.allowHosts = hostList(allowHosts.value, allowHosts.source);
  const timeout = pick('callTimeoutMs');
  if (timeout) config.callTimeoutMs = integer(timeout.value, timeout.source, 1, 24 * 3600 * 1000);
  const pluginTimeout = pick('pluginTimeoutMs');
  if (pluginTimeout) config.pluginTimeoutMs = integer(pluginTimeout.value, pluginTimeout.source, 1, 24 * 3600 * 1000);
  const xpathTimeout = pick('xpathTimeoutMs');
  if (xpathTimeout) config.xpathTimeoutMs = integer(xpathTimeout.value, xpathTimeout.source, 1, 600_000);
  const xpathUserTimeout = pick('xpathUserTimeoutMs');
  if (xpathUserTimeout) config.xpathUserTimeoutMs = integer(xpathUserTimeout.value, xpathUserTimeout.source, 1, 600_000);
  const maxDepth = pick('maxDepth');
  // Above 1024, building elements one level per call could run out of stack (jsonxml.ts MAX_JSON_DEPTH).
  if (maxDepth) config.maxDepth = integer(maxDepth.value, maxDepth.source, 16, 1024);
  const resultBytes = pick('maxResultBytes');
  if (resultBytes) config.maxResultBytes = integer(resultBytes.value, resultBytes.source, 1024, 1024 * 1024 * 1024);
  const sseClients = pick('maxSseClients');
  if (sseClients) config.maxSseClients = integer(sseClients.value, sseClients.source, 0, 100_000);
  const heartbeat = pick('sseHeartbeatMs');
  if (heartbeat) config.sseHeartbeatMs = integer(heartbeat.value, heartbeat.source, 100, 3600 * 1000);
  const noAuth = pick('noAuth');
  if (noAuth) {
    if (!['true', '1', 'false', '0', ''].includes(noAuth.value))
      throw new ConfigError(`${noAuth.source}=${noAuth.value} must be true or false`);
    config.noAuth = noAuth.value === 'true' || noAuth.value === '1';
  }
  const dev = pick('dev');
  if (dev) {
    if (!['true', '1', 'false', '0', ''].includes(dev.value)) throw new ConfigError(`${dev.source}=${dev.value} must be true or false`);
    config.dev = dev.value === 'true' || dev.value === '1';
  } else if (env['DEV8dac6d02a913'] !== undefined) config.dev = true; // the submit server's own switch: set at all means on
  const level = pick('logLevel');
  if (level) {
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level.value)) {
      throw new ConfigError(`${level.source}=${level.value} is not a log level (fatal, error, warn, info, debug, trace, silent)`);
    }
    config.logLevel = level.value;
  }
  const mqttUrl = pick('mqtt');
  if (mqttUrl) {
    if (!/^mqtts?:\/\/[^\s/]+/.test(mqttUrl.value))
      throw new ConfigError(`${mqttUrl.source}=${mqttUrl.value} is not an mqtt:// or mqtts:// URL`);
    config.mqtt = mqttUrl.value;
  }
  const broker = pick('mqttBroker');
  // --mqtt-broker without a port: MQTT's own, 1883.
  if (broker) config.mqttBroker = broker.value === 'true' ? 1883 : integer(broker.value, broker.source, 0, 65535);
  const publicUrl = pick('publicUrl');
  if (publicUrl) {
    try {
      config.publicUrl = new URL(publicUrl.value).toString().replace(/\/$/, '');
    } catch {
      throw new ConfigError(`${publicUrl.source}=${publicUrl.value} is not a URL`);
    }
  }
  return config;
}

/** The URL people and services use to reach this server. */
export function publicUrlOf(config: Config, boundPort: number): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
}
