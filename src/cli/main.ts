/**
 * The `igor` command line: serve, init, var (a client for /data, like igorVar), control (like igorControl).
 * Exit codes: 0 done; 1 the server or the operation said no; 2 the command line is wrong; 3 the server
 * could not be reached.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, resolveConfig, SETTINGS, type Setting } from '../config.ts';
import { IgorError, TimeoutError } from '../errors.ts';
import { ConnectionError, httpRequest } from '../http/client.ts';
import { createLogger } from '../logger.ts';
import { describeAdoption } from '../igorDirectory.ts';
import { TEMPLATE } from '../packageDir.ts';
import { startServer, VERSION } from '../server.ts';
import { checkDatabase, describeReport, recoverDatabase } from '../store/recovery.ts';
import { Database, DatabaseOpenError } from '../store/database.ts';
import { DirectoryLockedError } from '../store/lock.ts';
import { tokenCommand, userCommand } from './accounts.ts';
import { historyCommand } from './history.ts';
import { authHeaders, EXIT, processIo, report, serverOptions, UsageError, type Io } from './common.ts';

export { EXIT } from './common.ts';

async function runServe(opts: Record<string, string | boolean | undefined>, io: Io): Promise<number> {
  const config = resolveConfig(Object.fromEntries(SETTINGS.map((setting) => [setting.key, givenOption(setting, opts)])));
  const logger = createLogger(config.logLevel);
  // /internal/restart (Igor: save and re-exec) stops the server and starts it again here, in the same process:
  // the database, settings and plugins are read again, and a service manager sees one process throughout.
  for (;;) {
    const server = await startServer(config, logger);
    io.out(`Igor-TS ${VERSION} is serving ${server.url}/ from the database in ${server.db.dir}\n`);
    if (server.db.created) io.out(`That database is new: it was created from the shipped template.\n`);
    if (server.adoption) io.out(describeAdoption(server.db.dir, server.adoption));
    if (server.initialAdminPassword) {
      io.out(`Log in at ${server.url}/login as admin with password: ${server.initialAdminPassword}\n`);
      // The directory is held while the server runs, so the advice is the way that works now: through the server.
      io.out(
        `(shown only this once; change it with: echo NEW-PASSWORD | igor user passwd admin --url ${server.url} --credentials admin:THIS-PASSWORD)\n`,
      );
    }
    const stop = () => void server.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const how = await server.stopped;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (how !== 'restart') return EXIT.ok;
  }
}

async function runInit(dir: string, io: Io): Promise<number> {
  const config = resolveConfig({ database: dir });
  const db = await Database.open({
    dir: config.database,
    template: TEMPLATE,
    logger: createLogger('warn'),
  });
  await db.close();
  if (!db.created) {
    io.err(`${config.database} already holds a database; nothing changed\n`);
    return EXIT.failed;
  }
  io.out(`created a new database in ${config.database}\n`);
  return EXIT.ok;
}

async function runVar(xpath: string, opts: Record<string, string | boolean | undefined>, io: Io): Promise<number> {
  const writes = [opts['put'], opts['post'], opts['delete']].filter((w) => w !== undefined);
  if (writes.length > 1) throw new UsageError('use only one of --put, --post and --delete');
  const accept = opts['json'] ? 'application/json' : opts['text'] ? 'text/plain' : opts['xml'] ? 'application/xml' : undefined;
  const base = String(opts['url'])
    .replace(/\/+$/, '')
    .replace(/\/data$/, '');
  const url = new URL(
    `${base}/${opts['eval'] ? 'evaluate' : 'data'}/${xpath
      .replace(/^\/data\/?/, '')
      .split('/')
      .map(encodeURIComponent)
      .join('/')}`,
  );
  if (opts['variant']) url.searchParams.set('.VARIANT', String(opts['variant']));
  const headers: Record<string, string> = authHeaders(opts);
  if (accept) headers['Accept'] = accept;
  let method = 'GET';
  let body: string | undefined;
  if (opts['delete']) method = 'DELETE';
  else if (opts['put'] !== undefined || opts['post'] !== undefined) {
    method = opts['put'] !== undefined ? 'PUT' : 'POST';
    headers['Content-Type'] = String(opts['put'] ?? opts['post']);
    body = typeof opts['data'] === 'string' ? opts['data'] : await io.stdin();
  }
  return report(await httpRequest(url.toString(), { method, headers, body }), io);
}

async function runControl(command: string, args: string[], opts: Record<string, unknown>, io: Io): Promise<number> {
  const url = new URL(
    `${String(opts['url'])
      .replace(/\/+$/, '')
      .replace(/\/data$/, '')}/internal/${command}`,
  );
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`${arg}: arguments are NAME=VALUE`);
    url.searchParams.append(arg.slice(0, eq), arg.slice(eq + 1));
  }
  return report(await httpRequest(url.toString(), { timeoutMs: 120_000, headers: authHeaders(opts) }), io);
}

/** igor plugin list|add NAME[=SRC]|remove NAME: the running server's /internal/plugins. */
async function runPlugin(
  action: 'list' | 'add' | 'remove',
  spec: string | undefined,
  opts: Record<string, unknown>,
  io: Io,
): Promise<number> {
  const base = `${String(opts['url'])
    .replace(/\/+$/, '')
    .replace(/\/data$/, '')}/internal/plugins`;
  const headers = { ...authHeaders(opts), Accept: 'text/plain' };
  if (action === 'list') return report(await httpRequest(base, { headers }), io);
  const [name = '', source] = (spec ?? '').split('=', 2);
  if (!name) throw new UsageError(`igor plugin ${action} needs a plugin name`);
  const url = `${base}/${encodeURIComponent(name)}${source ? `?source=${encodeURIComponent(source)}` : ''}`;
  return report(await httpRequest(url, { method: action === 'add' ? 'PUT' : 'DELETE', headers }), io);
}

/** igor plugin NAME COMMAND [--KEY VALUE|KEY=VALUE…]: /plugin/NAME/command/COMMAND on the running server. */
async function runPluginCommand(name: string, command: string, args: string[], opts: Record<string, unknown>, io: Io): Promise<number> {
  const url = new URL(
    `${String(opts['url'])
      .replace(/\/+$/, '')
      .replace(/\/data$/, '')}/plugin/${encodeURIComponent(name)}/command/${encodeURIComponent(command)}`,
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2);
      const value = inline ?? (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--') ? args[++i]! : 'true');
      url.searchParams.append(key!, value);
    } else if (arg.includes('=')) {
      const eq = arg.indexOf('=');
      url.searchParams.append(arg.slice(0, eq), arg.slice(eq + 1));
    } else throw new UsageError(`${arg}: arguments are --KEY VALUE or KEY=VALUE`);
  }
  return report(await httpRequest(url.toString(), { headers: { ...authHeaders(opts), Accept: 'text/plain' } }), io);
}

type Done = (code: number) => void;

/** A setting's commander option, made from its one declaration (config.ts SETTINGS): flag, help, environment, default. */
function optionOf(setting: Setting): Option {
  const [flag, value] = setting.flag.split(' ');
  // README's `--port N` and `--mqtt-broker [PORT]` are commander's `--port <n>` and `--mqtt-broker [port]`.
  const placeholder = !value ? '' : value.startsWith('[') ? ` ${value.toLowerCase()}` : ` <${value.toLowerCase()}>`;
  const help = setting.help.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1').replace(/`/g, '');
  const shown = setting.shown.replace(/`/g, '');
  return new Option(`${setting.short ? `${setting.short}, ` : ''}${flag}${placeholder}`, `${help} (env ${setting.env}; default ${shown})`);
}

/** What the command line gave for a setting: its value, true for a switch that is on, or undefined. */
function givenOption(setting: Setting, opts: Record<string, string | boolean | undefined>): string | boolean | undefined {
  const flag = setting.flag.split(' ')[0]!;
  const negated = flag.startsWith('--no-');
  const name = (negated ? flag.slice('--no-'.length) : flag.slice(2)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const value = opts[name];
  if (negated) return value === false ? true : undefined;
  if (setting.kind === 'switch') return value === true ? true : undefined;
  return value;
}

function serveCommand(program: Command, io: Io, done: Done): void {
  const serve = program.command('serve').description('run the server');
  for (const setting of SETTINGS) serve.addOption(optionOf(setting));
  serve.action(async (opts) => done(await runServe(opts, io)));
}

function initCommand(program: Command, io: Io, done: Done): void {
  program
    .command('init')
    .description('create a new database directory from the template')
    .argument('<dir>', 'directory to create')
    .action(async (dir: string) => done(await runInit(dir, io)));
}

function varCommand(program: Command, io: Io, done: Done): void {
  serverOptions(
    program
      .command('var')
      .description('read or write the tree over REST, like igorVar')
      .argument('<xpath>', 'path under /data, e.g. sensors/fitbit/jack'),
  )
    .option('--put <mimetype>', 'replace or create the element with the body (from --data or stdin)')
    .option('--post <mimetype>', 'append an element with the body (from --data or stdin)')
    .option('--delete', 'delete every element the path selects')
    .option('--data <data>', 'body for --put/--post (default: read stdin)')
    .addOption(new Option('--json', 'answer in JSON').conflicts(['xml', 'text']))
    .addOption(new Option('--xml', 'answer in XML').conflicts(['text']))
    .option('--text', 'answer in plain text')
    .option('--variant <variant>', '.VARIANT: multi, multiraw, raw, content or ref')
    .option('-e, --eval', 'evaluate an XPath expression (/evaluate) instead')
    .action(async (xpath: string, opts) => done(await runVar(xpath, opts, io)));
}

function controlCommand(program: Command, io: Io, done: Done): void {
  serverOptions(
    program
      .command('control')
      .description('send a command to the server, like igorControl (version, save, flush, stop, help, dump, log, restart, ...)')
      .argument('<command>', 'version, save, flush, stop, help, ...')
      .argument('[args...]', 'NAME=VALUE arguments'),
  ).action(async (command: string, args: string[], opts) => done(await runControl(command, args, opts, io)));
}

function pluginCommand(program: Command, io: Io, done: Done): void {
  const plugin = serverOptions(
    program
      .command('plugin')
      .description(
        "list, install and uninstall plugins of a running server, or run a plugin's command (as an admin): igor plugin NAME COMMAND [--KEY VALUE|KEY=VALUE…]",
      )
      .argument('[name]', 'a plugin, for its commands')
      .argument('[command]', 'one of its commands, e.g. igor plugin submit token')
      .argument('[args...]', '--KEY VALUE or KEY=VALUE arguments')
      .allowUnknownOption()
      .helpOption('-h, --help'),
  ).action(async (name: string | undefined, command: string | undefined, args: string[], opts) => {
    if (!name || !command) throw new UsageError('igor plugin list|add|remove, or igor plugin NAME COMMAND');
    done(await runPluginCommand(name, command, args, opts, io));
  });
  // Server options (--url, --credentials, --token) belong to `plugin` and apply to its subcommands too.
  plugin
    .command('list')
    .description('installed plugins (NAME=SOURCE when installed under another name)')
    .action(async (_opts, cmd: Command) => done(await runPlugin('list', undefined, cmd.optsWithGlobals(), io)));
  plugin
    .command('add')
    .description('install a plugin; NAME=SOURCE installs plugin SOURCE under the name NAME (the same plugin can be installed twice)')
    .argument('<name>', 'NAME or NAME=SOURCE')
    .action(async (spec: string, _opts, cmd: Command) => done(await runPlugin('add', spec, cmd.optsWithGlobals(), io)));
  plugin
    .command('remove')
    .description('uninstall a plugin and remove what it added to the tree')
    .argument('<name>', 'the name it is installed under')
    .action(async (name: string, _opts, cmd: Command) => done(await runPlugin('remove', name, cmd.optsWithGlobals(), io)));
}

function dbCommand(program: Command, io: Io, done: Done): void {
  const database = () => new Option('-d, --database <dir>', 'database directory (the server must be stopped)').env('IGOR_DATABASE');
  const db = program.command('db').description('check and recover a database directory (with the server stopped)');
  db.command('check')
    .description('read everything and say what is wrong, changing nothing; exit 0 when healthy')
    .addOption(database())
    .action(async (opts) => {
      const dir = resolveConfig({ database: opts.database }).database;
      const report = await checkDatabase(dir);
      io.out(describeReport(report, false));
      done(report.healthy ? EXIT.ok : EXIT.failed);
    });
  db.command('recover')
    .description(
      'rebuild from the newest intact snapshot and every intact record after it; reports what is lost, keeps the damaged files aside',
    )
    .option('--keep-snapshot', 'take a database.xml edited by hand as it is (its checksum no longer matches)')
    .addOption(database())
    .action(async (opts) => {
      const dir = resolveConfig({ database: opts.database }).database;
      const report = await recoverDatabase(dir, opts.keepSnapshot === true);
      io.out(report.aside ? describeReport(report, true) : 'Nothing to recover: the database is healthy; nothing was changed.\n');
      done(EXIT.ok);
    });
}

/** The igor command: each sub-command made by its own function, with this one's output and exit handling. */
export function buildProgram(io: Io, done: Done): Command {
  const program = new Command('igor')
    .description('Igor-TS: the home-automation server that keeps your home in one XML tree')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
  for (const add of [
    serveCommand,
    initCommand,
    varCommand,
    controlCommand,
    pluginCommand,
    userCommand,
    tokenCommand,
    dbCommand,
    historyCommand,
  ])
    add(program, io, done);
  return program;
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.err(`igor: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ConnectionError || err instanceof TimeoutError) {
      io.err(`igor: ${err.message}\n`);
      return EXIT.unreachable;
    }
    if (err instanceof IgorError) {
      io.err(`igor: ${err.message}\n`);
      return err.status === 400 ? EXIT.usage : EXIT.failed;
    }
    if (err instanceof DatabaseOpenError || err instanceof DirectoryLockedError) {
      io.err(`igor: ${err.message}\n`);
      return EXIT.failed;
    }
    io.err(`igor: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failed;
  }
}
