/**
 * A plugin's scripts (Igor's /plugin/NAME/script/SCRIPT): `scripts/SCRIPT` (executable), `scripts/SCRIPT.sh`
 * (sh) or `scripts/SCRIPT.py` (python3) in the plugin's folder, run with Igor's environment — igor_pluginName,
 * igor_<k> for each query parameter, igor_pluginData and igor_<key> for the plugin's settings,
 * IGORSERVER_URL, and IGORSERVER_CREDENTIALS that carry only the plugin's rights and lapse — and `args` split
 * as a shell would (no shell runs them: no expansion, no operators). Within a time limit; the output is the answer.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { BadGatewayError, BadRequestError, NotFoundError, TimeoutError } from '../errors.ts';
import type { JsonObject } from '../plugin-api.ts';

const NAME = /^[A-Za-z0-9_-]+$/;
const MAX_OUTPUT = 1 << 20;

export interface ScriptRun {
  dir: string;
  plugin: string;
  script: string;
  query: URLSearchParams;
  settings: JsonObject;
  serverUrl: string;
  credentials: string;
  timeoutMs: number;
}

/** The command that runs the script, or 404. */
async function commandFor(dir: string, script: string): Promise<string[]> {
  if (!NAME.test(script)) throw new BadRequestError(`"${script}" cannot name a script: letters, digits, - and _ only`);
  const base = join(dir, 'scripts', script);
  const can = (path: string, mode: number) =>
    access(path, mode).then(
      () => true,
      () => false,
    );
  if (await can(base, constants.X_OK)) return [base];
  if (await can(`${base}.sh`, constants.R_OK)) return ['sh', `${base}.sh`];
  if (await can(`${base}.py`, constants.R_OK)) return ['python3', `${base}.py`];
  throw new NotFoundError(`plugin has no script ${script} (scripts/${script}, ${script}.sh or ${script}.py)`);
}

/** `args` as a shell would split it, refusing what only a shell could do (operators, globs, substitutions). */
export function splitArgs(args: string): string[] {
  const parts = parse(args, (name) => `$${name}`);
  return parts.map((p) => {
    if (typeof p !== 'string')
      throw new BadRequestError(`args: "${args}" holds shell operators; give plain words (quoted as a shell would)`);
    return p;
  });
}

export async function runScript(r: ScriptRun): Promise<string> {
  const command = await commandFor(r.dir, r.script);
  const args = splitArgs(r.query.get('args') ?? '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    LANG: process.env['LANG'] ?? 'C.UTF-8',
    ...(process.env['TZ'] ? { TZ: process.env['TZ'] } : {}),
    igor_pluginName: r.plugin,
    igor_pluginData: JSON.stringify(r.settings),
    IGORSERVER_URL: `${r.serverUrl}/data/`,
    IGORSERVER_CREDENTIALS: r.credentials,
  };
  for (const [key, value] of Object.entries(r.settings)) {
    if (value === null || typeof value !== 'object') env[`igor_${key}`] = String(value);
  }
  for (const [key, value] of r.query) if (key !== 'args') env[`igor_${key}`] = value;

  return new Promise((resolve, reject) => {
    // Its own process group, so that a time-out stops what it started too (a shell's children hold the output open).
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      cwd: r.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    let output = '';
    let cut = false;
    const take = (d: Buffer) => {
      if (output.length < MAX_OUTPUT) output += d.toString('utf8');
      else cut = true;
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => {
      kill();
      reject(new TimeoutError(`script ${r.script} of ${r.plugin} did not finish within ${r.timeoutMs / 1000} s`));
    }, r.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new BadGatewayError(`script ${r.script} of ${r.plugin} could not start: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = cut ? `${output}\n(output cut at ${MAX_OUTPUT} bytes)\n` : output;
      // After a time-out the promise has its answer already (a second settle is ignored); any other end is told.
      if (code === 0) resolve(text);
      else
        reject(
          new BadGatewayError(
            `script ${r.script} of ${r.plugin} exited with ${code !== null ? `status ${code}` : `signal ${signal}`}:\n${text}`,
          ),
        );
    });
  });
}
