/** What the igor sub-commands share: exit codes, output, the server options and credentials, the database. */
import { Command, Option } from 'commander';
import { resolveConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { TEMPLATE } from '../packageDir.ts';
import { Database } from '../store/database.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  stdin: () => Promise<string>;
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

const DEFAULT_URL = 'http://127.0.0.1:9333';

export function serverOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-u, --url <url>', 'server to talk to').env('IGOR_URL').default(DEFAULT_URL))
    .addOption(new Option('--credentials <user:password>', 'log in with HTTP Basic').env('IGOR_CREDENTIALS'))
    .addOption(new Option('--token <token>', 'log in with an API token (igor token create)').env('IGOR_TOKEN'));
}

export function authHeaders(opts: Record<string, unknown>): Record<string, string> {
  if (typeof opts['token'] === 'string') return { Authorization: `Bearer ${opts['token']}` };
  if (typeof opts['credentials'] === 'string') {
    if (!opts['credentials'].includes(':')) throw new UsageError('--credentials takes USER:PASSWORD');
    return { Authorization: `Basic ${Buffer.from(opts['credentials']).toString('base64')}` };
  }
  return {};
}

/** Opens the database directory itself, for commands that work with the server stopped. */
export async function withDatabase<T>(opts: Record<string, unknown>, use: (db: Database) => Promise<T>): Promise<T> {
  const config = resolveConfig({ database: opts['database'] as string | undefined });
  const db = await Database.open({
    dir: config.database,
    template: TEMPLATE,
    logger: createLogger('warn'),
  });
  try {
    return await use(db);
  } finally {
    await db.close();
  }
}

/** Prints a response; the exit code says whether the server said yes. */
export function report(res: { status: number; body: string }, io: Io): number {
  if (res.status >= 200 && res.status < 300) {
    io.out(res.body);
    return EXIT.ok;
  }
  io.err(`igor: ${res.status}: ${res.body.endsWith('\n') ? res.body : res.body + '\n'}`);
  return EXIT.failed;
}

/** A command line that cannot work: exit code 2 with the message. */
export class UsageError extends Error {}
