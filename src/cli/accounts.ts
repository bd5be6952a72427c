/**
 * igor user add|passwd|admin|delete|list and igor token create|list|revoke: against a running server (with
 * --url, --credentials or --token: its /internal/users and /internal/tokens routes) or, with the server stopped,
 * in the database directory itself (--database), where whoever can open the directory acts as the server.
 * Both go through the same rules (auth/accounts.ts).
 */
import { Command, Option } from 'commander';
import {
  addUser,
  changePassword,
  deleteUser,
  dropToken,
  listUsers,
  makeToken,
  setAdmin,
  tokenLine,
  tokensFor,
  userLine,
} from '../auth/accounts.ts';
import { SYSTEM } from '../auth/principal.ts';
import { parseRights } from '../auth/tokens.ts';
import { findUser } from '../auth/users.ts';
import { httpRequest } from '../http/client.ts';
import { DirectoryLockedError } from '../store/lock.ts';
import { authHeaders, EXIT, report, serverOptions, UsageError, withDatabase, type Io } from './common.ts';

type Done = (code: number) => void;

/** Talk to a running server when the command line names one (or credentials for one); else open the directory. */
function online(cmd: Command): boolean {
  const o = cmd.opts();
  return (
    o['credentials'] !== undefined ||
    o['token'] !== undefined ||
    (cmd.getOptionValueSource('url') !== 'default' && o['database'] === undefined)
  );
}

function both(cmd: Command): Command {
  return serverOptions(cmd).addOption(
    new Option('-d, --database <dir>', 'database directory, when the server is stopped').env('IGOR_DATABASE'),
  );
}

/** The directory, or advice when a running server holds it. */
async function offline<T>(opts: Record<string, unknown>, use: Parameters<typeof withDatabase<T>>[1]): Promise<T> {
  try {
    return await withDatabase(opts, use);
  } catch (err) {
    if (err instanceof DirectoryLockedError)
      throw new DirectoryLockedError(
        `${err.message}; a running server holds it: use --url and --credentials (an admin's) to do this through the server`,
      );
    throw err;
  }
}

async function call(cmd: Command, method: string, path: string, body: unknown, io: Io): Promise<number> {
  const o = cmd.opts();
  const url = `${String(o['url'])
    .replace(/\/+$/, '')
    .replace(/\/data$/, '')}${path}`;
  const headers: Record<string, string> = { ...authHeaders(o), Accept: 'text/plain' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await httpRequest(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return report(res, io);
}

/** Standard input's first line (or first two with --with-old: the old password, then the new one). */
async function passwords(io: Io, withOld: boolean): Promise<{ password: string; old?: string }> {
  const lines = (await io.stdin()).split('\n').map((l) => l.replace(/\r$/, ''));
  return withOld ? { old: lines[0] ?? '', password: lines[1] ?? '' } : { password: lines[0] ?? '' };
}

export function userCommand(program: Command, io: Io, done: Done): void {
  const user = program
    .command('user')
    .description('manage users: on a running server (--url, --credentials) or in a stopped database directory (--database)');
  both(user.command('add'))
    .description('add a user; the password is read from standard input')
    .argument('<user>', "user name (Igor's rule: a letter or _, then letters, digits, - _ .)")
    .option('--admin', 'make the user an admin')
    .action(async (name: string, _o, cmd: Command) => {
      const { password } = await passwords(io, false);
      if (online(cmd)) return done(await call(cmd, 'POST', '/internal/users', { name, password, admin: !!cmd.opts()['admin'] }, io));
      await offline(cmd.opts(), (db) => addUser(db, SYSTEM, name, password, !!cmd.opts()['admin']));
      io.out(`user ${name} added\n`);
      done(EXIT.ok);
    });
  both(user.command('passwd'))
    .description("set a user's password, read from standard input (offline: makes the user if new)")
    .argument('<user>', 'user name, e.g. admin')
    .option('--with-old', 'standard input holds the old password, then the new one (changing your own as a user)')
    .action(async (name: string, _o, cmd: Command) => {
      const { password, old } = await passwords(io, !!cmd.opts()['withOld']);
      if (online(cmd))
        return done(await call(cmd, 'PUT', `/internal/users/${encodeURIComponent(name)}/password`, { password, oldPassword: old }, io));
      await offline(cmd.opts(), async (db) => {
        if (findUser(db, name)) await changePassword(db, SYSTEM, name, password);
        else await addUser(db, SYSTEM, name, password);
      });
      io.out(`password of ${name} set\n`);
      done(EXIT.ok);
    });
  both(user.command('admin'))
    .description('make a user an admin, or (with --no) no longer one')
    .argument('<user>', 'user name')
    .option('--no', 'take the admin rights away')
    .action(async (name: string, _o, cmd: Command) => {
      const admin = cmd.opts()['no'] !== false;
      if (online(cmd)) return done(await call(cmd, 'PUT', `/internal/users/${encodeURIComponent(name)}/admin`, { admin }, io));
      await offline(cmd.opts(), (db) => setAdmin(db, SYSTEM, name, admin));
      io.out(`${name} is ${admin ? 'now' : 'no longer'} an admin\n`);
      done(EXIT.ok);
    });
  both(user.command('delete'))
    .description('delete a user (identities/USER with its tokens, and people/USER)')
    .argument('<user>', 'user name')
    .action(async (name: string, _o, cmd: Command) => {
      if (online(cmd)) return done(await call(cmd, 'DELETE', `/internal/users/${encodeURIComponent(name)}`, undefined, io));
      await offline(cmd.opts(), (db) => deleteUser(db, SYSTEM, name));
      io.out(`user ${name} deleted\n`);
      done(EXIT.ok);
    });
  both(user.command('list'))
    .description('list the users')
    .action(async (_o, cmd: Command) => {
      if (online(cmd)) return done(await call(cmd, 'GET', '/internal/users', undefined, io));
      const users = await offline(cmd.opts(), async (db) => listUsers(db, SYSTEM));
      for (const u of users) io.out(`${userLine(u)}\n`);
      done(EXIT.ok);
    });
}

export function tokenCommand(program: Command, io: Io, done: Done): void {
  const token = program
    .command('token')
    .description('manage API tokens: on a running server (--url, --credentials) or in a stopped database directory (--database)');
  both(token.command('create'))
    .description('make an API token, limited to one subtree and some methods; prints it once')
    .option('--user <user>', 'whose token it is (default: who you log in as)')
    .requiredOption('--path <xpath>', 'subtree it is good for, e.g. /data/sensors/weather')
    .requiredOption('--rights <rights>', 'comma-separated: get, put, post, delete')
    .option('--expires-days <days>', 'valid for this many days (default: until revoked)')
    .option('--comment <text>', 'what it is for')
    .action(async (_o, cmd: Command) => {
      const o = cmd.opts();
      const days = o['expiresDays'] === undefined ? undefined : Number(o['expiresDays']);
      if (days !== undefined && !(days > 0)) throw new UsageError('--expires-days takes a positive number');
      const spec = {
        user: o['user'] as string | undefined,
        path: o['path'] as string,
        rights: parseRights(o['rights'] as string),
        expiresDays: days,
        comment: o['comment'] as string | undefined,
      };
      if (online(cmd)) {
        const code = await call(cmd, 'POST', '/internal/tokens', spec, io);
        if (code === EXIT.ok) io.err('the token is shown only now. Use it as: Authorization: Bearer <token>\n');
        return done(code);
      }
      if (!spec.user) throw new UsageError('--user is needed when working in the database directory');
      const made = await offline(o, (db) => makeToken(db, SYSTEM, spec));
      io.out(`${made.token}\n`);
      io.err(`token ${made.id} made; it is shown only now. Use it as: Authorization: Bearer <token>\n`);
      done(EXIT.ok);
    });
  both(token.command('list'))
    .description('list API tokens (not their secrets): all for an admin, your own for a user')
    .action(async (_o, cmd: Command) => {
      if (online(cmd)) return done(await call(cmd, 'GET', '/internal/tokens', undefined, io));
      const tokens = await offline(cmd.opts(), async (db) => tokensFor(db, SYSTEM));
      for (const t of tokens) io.out(`${tokenLine(t)}\n`);
      done(EXIT.ok);
    });
  both(token.command('revoke'))
    .description('revoke an API token')
    .argument('<id>', 'the token id (from igor token list)')
    .action(async (id: string, _o, cmd: Command) => {
      if (online(cmd)) return done(await call(cmd, 'DELETE', `/internal/tokens/${encodeURIComponent(id)}`, undefined, io));
      await offline(cmd.opts(), (db) => dropToken(db, SYSTEM, id));
      io.out(`token ${id} revoked\n`);
      done(EXIT.ok);
    });
}
