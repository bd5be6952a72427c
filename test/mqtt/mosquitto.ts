/**
 * A real Mosquitto (Debian package `mosquitto`) on a free 127.0.0.1 port for the MQTT tests, stopped when the
 * test file ends; it can be stopped and started again on the same port (a broker restart). Without the package
 * the tests that need it skip, saying so, except under CI=true, where .ci/run installs it and they must run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { onCleanup, tempDir } from '../helpers.ts';

const BINARY = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

/** Why the Mosquitto tests cannot run here, or undefined when they can (under CI they must). */
export function mosquittoMissing(): string | undefined {
  if (BINARY) return undefined;
  if (process.env['CI'] === 'true') throw new Error('CI=true but the Debian package mosquitto is not installed (.ci/run installs it)');
  return 'needs the Debian package mosquitto (apt-get install mosquitto)';
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Mosquitto {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** PEM files for a TLS listener that wants a client certificate signed by `ca`. */
export interface MosquittoTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * `users` (name → password) makes it refuse anyone else; without, anyone may connect. `tls` makes the listener
 * mqtts, taking only clients with a certificate from its CA.
 */
export async function startMosquitto(users?: Record<string, string>, tls?: MosquittoTls): Promise<Mosquitto> {
  const dir = await tempDir('mosquitto-');
  await chmod(dir, 0o755); // started as root, mosquitto runs as its own user, which must read what is here
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'max_queued_messages 100000', 'max_inflight_messages 100'];
  if (tls) {
    for (const [name, pem] of Object.entries(tls)) {
      await writeFile(join(dir, `${name}.pem`), pem);
      await chmod(join(dir, `${name}.pem`), 0o644);
    }
    lines.push(
      `cafile ${join(dir, 'ca.pem')}`,
      `certfile ${join(dir, 'cert.pem')}`,
      `keyfile ${join(dir, 'key.pem')}`,
      'require_certificate true',
      'use_identity_as_username true',
    );
  }
  if (users) {
    const file = join(dir, 'passwords');
    await writeFile(file, '');
    for (const [name, password] of Object.entries(users)) spawnSync('mosquitto_passwd', ['-b', file, name, password]);
    await chmod(file, 0o644);
    lines.push('allow_anonymous false', `password_file ${file}`);
  } else lines.push('allow_anonymous true');
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, lines.join('\n') + '\n');
  let child: ChildProcess | undefined;
  const broker: Mosquitto = {
    url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    async start() {
      const c = spawn(BINARY!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      // Ready when it says so: "mosquitto version 2.0.11 running" comes once its listener is open.
      await new Promise<void>((resolve, reject) => {
        let said = '';
        c.stderr!.on('data', (d: Buffer) => {
          said += d.toString();
          if (/mosquitto version \S+ running/.test(said)) resolve();
        });
        c.once('exit', (code, signal) => reject(new Error(`mosquitto exited (${code ?? signal}) before listening on ${port}: ${said}`)));
        c.once('error', (err) => reject(new Error(`mosquitto could not be started: ${err.message}`)));
      });
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      await exited;
    },
  };
  await broker.start();
  onCleanup(() => broker.stop());
  return broker;
}
