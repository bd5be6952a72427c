/** Starting servers as child processes for the benchmarks, so the load generator does not share their event loop. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process printed on stdout so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Runs `args` with node and waits for the line `serving URL/` on its stdout. */
export async function startProcess(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /serving (http:\/\/[^ \n]+?)\/?(\s|$)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface IgorProcess extends ServerProcess {
  /** HTTP Basic credentials of the admin (the password a new database's first start prints). */
  adminAuthorization: string;
}

export async function startIgor(database: string, nodeFlags: string[] = [], serveFlags: string[] = []): Promise<IgorProcess> {
  const server = await startProcess([
    ...nodeFlags,
    'bin/igor.js',
    'serve',
    '--database',
    database,
    '--port',
    '0',
    '--log-level',
    'warn',
    ...serveFlags,
  ]);
  for (let i = 0; i < 100 && !/password: \S+/.test(server.output()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const password = /password: (\S+)/.exec(server.output())?.[1] ?? '';
  return { ...server, adminAuthorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
}
