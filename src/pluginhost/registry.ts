/**
 * Which plugins exist and which run. Plugin sources are found by sources.ts (the database's plugins/ folder first,
 * then the package's). Installing one under a name (the same source can be installed twice, under two names)
 * merges its database fragment, records it under services/igor/plugins/NAME and starts it; uninstalling stops it
 * and removes what its fragment made. The host knows plugins only through this folder convention and the plugin
 * API, never by name.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BadGatewayError, BadRequestError, IgorError, NotFoundError } from '../errors.ts';
import type { PluginDefinition, PluginInstance, PluginMethodSpec } from '../plugin-api.ts';
import { recordStatus } from '../status.ts';
import { isTagName, refOf } from '../tree/dom.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { combine } from '../tree/tree.ts';
import type { Principal } from '../auth/principal.ts';
import { makePluginHost, type HostDeps, type HostOfPlugin } from './host.ts';
import { mergeFragment, ownedBy, parseFragment } from './fragment.ts';
import { ENTRY_FILES, findSource, listSources, type AvailablePlugin } from './sources.ts';

export { PYTHON_PLUGIN, type AvailablePlugin, type PluginSource } from './sources.ts';

const RECORDS = '/data/services/igor/plugins';

let registering: Promise<void> | undefined;

/**
 * A person's plugin.ts needs tsx's loaders, which the compiled server does not load until then (they cost about
 * 30 MB and a quarter of a second here). Both are registered, the CommonJS one too: a plugin.ts outside this
 * package has no package.json saying it is an ES module, and failed without it (ERR_REQUIRE_CYCLE_MODULE).
 */
function typeScriptLoader(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return Promise.resolve(); // this file is running as TypeScript: a loader is there
  registering ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return registering;
}

const EXTRA_ROOTS = new Set(['sensors', 'devices', 'environment', 'status']);

/** A declared extra subtree, checked: plain names, under a root where sensor-like data lives. */
function extraSubtree(path: unknown, source: string): string[] {
  const names =
    typeof path === 'string'
      ? path
          .replace(/^\/?(data\/)?/, '')
          .split('/')
          .filter(Boolean)
      : [];
  if (names.length < 2 || !EXTRA_ROOTS.has(names[0]!) || !names.every(isTagName)) {
    throw new BadRequestError(
      `plugin ${source} declares it writes "${String(path)}": only subtrees such as sensors/NAME, devices/NAME, environment/NAME or status/NAME`,
    );
  }
  return names;
}

/** Where a plugin serves its callers (`forCallers`): plain paths under /data; `/data` itself is the whole tree. */
function callerSubtree(path: unknown, source: string): string[] {
  const names =
    typeof path === 'string'
      ? path
          .replace(/^\/?data(\/|$)/, '')
          .split('/')
          .filter(Boolean)
      : undefined;
  if (!names || !names.every(isTagName)) {
    throw new BadRequestError(`plugin ${source} declares it serves callers in "${String(path)}": a plain path under /data`);
  }
  return names;
}

/** Who a plugin is: its name and the subtrees its definition declares. */
function pluginPrincipal(name: string, writes: string[][], forCallers: string[][]): Principal & { kind: 'plugin' } {
  return { kind: 'plugin', name, ...(writes.length ? { writes } : {}), ...(forCallers.length ? { forCallers } : {}) };
}

export interface RunningPlugin {
  name: string;
  /** Who it is: its name, the extra subtrees it writes and those where it serves its callers. */
  self: Principal & { kind: 'plugin' };
  source: string;
  dir: string;
  description: string;
  methods: Map<string, PluginMethodSpec>;
  host: HostOfPlugin;
  instance: PluginInstance;
}

export interface RegistryDeps extends HostDeps {
  /** Folders holding plugin sources, searched in order; the last is the package's own (the shipped plugins). */
  searchPath: string[];
}

export class PluginRegistry {
  private readonly running = new Map<string, RunningPlugin>();
  /** Plugins that are installed but would not start, and why. */
  private readonly broken = new Map<string, string>();
  /** Installs under way: their fragment is in the tree (its actions may fire) before the plugin has started. */
  private readonly installing = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: RegistryDeps) {}

  /** Every plugin source that could be installed, and the Igor plugins that cannot (sources.ts). */
  available(): Promise<AvailablePlugin[]> {
    return listSources(this.deps.searchPath, (dir) =>
      this.load(dir).then(
        (d) => d.def.description,
        (err: Error) => `(cannot be loaded: ${err.message})`,
      ),
    );
  }

  /** Igor's "standard plugins": those this package ships (the last folder searched), by name. */
  async standard(): Promise<string[]> {
    const shipped = this.deps.searchPath.slice(-1);
    return (await listSources(shipped, async () => '')).filter((p) => p.runnable).map((p) => p.source);
  }

  /** Installed plugins (from the tree), with whether they run. */
  installed(): { name: string; source: string; running: boolean; error?: string }[] {
    return (this.deps.db.tree.select(`${RECORDS}/*`) as Element[]).map((el) => {
      const name = el.nodeName;
      const source = el.getElementsByTagName('source')[0]?.textContent || name;
      const error = this.broken.get(name);
      return { name, source, running: this.running.has(name), ...(error ? { error } : {}) };
    });
  }

  get(name: string): RunningPlugin | undefined {
    return this.running.get(name);
  }

  /** The running plugin, once an install under way has finished (so its own actions never find it missing). */
  async ready(name: string): Promise<RunningPlugin | undefined> {
    await this.installing.get(name)?.catch(() => {});
    return this.running.get(name);
  }

  /** Whether the canonical `path` is /plugin/NAME/METHOD of a public method that reads the Authorization header itself. */
  ownsAuthorization(path: string): boolean {
    const m = /^\/plugin\/([^/]+)\/([^/]+)/.exec(path);
    const spec = m ? this.running.get(m[1]!)?.methods.get(m[2]!) : undefined;
    return !!spec && spec.access === 'public' && spec.ownAuthorization === true;
  }

  /** Who the plugin acts as: its own parts of the tree and what its definition declares. */
  principal(name: string): Principal & { kind: 'plugin' } {
    return this.running.get(name)?.self ?? { kind: 'plugin', name };
  }

  private find(source: string): string {
    return findSource(this.deps.searchPath, source);
  }

  /**
   * The plugin's definition, checked: a module that cannot be loaded is a 502 (its code failed), one that does
   * not define a plugin, or declares subtrees it may not write, a 400.
   */
  private async load(dir: string): Promise<{ def: PluginDefinition; writes: string[][]; forCallers: string[][] }> {
    const entry = ENTRY_FILES.map((f) => join(dir, f)).find((f) => existsSync(f))!;
    let module: { default?: Partial<PluginDefinition> };
    try {
      if (entry.endsWith('.ts')) await typeScriptLoader();
      module = (await import(pathToFileURL(entry).href)) as typeof module;
    } catch (err) {
      throw new BadGatewayError(`${entry} cannot be loaded: ${(err as Error)?.message ?? String(err)}`);
    }
    // A plugin.ts that Node takes for CommonJS (outside this package, with no package.json saying otherwise)
    // arrives transpiled with `__esModule`, its default export one level further down.
    const def = module.default?.create ? module.default : ((module.default as typeof module | undefined)?.default ?? module.default);
    if (!def || typeof def.create !== 'function' || typeof def.description !== 'string') {
      throw new BadRequestError(`${entry} must export default { description, create(host) }`);
    }
    if (def.writes !== undefined && !Array.isArray(def.writes)) throw new BadRequestError(`${entry}: writes must be a list of paths`);
    if (def.forCallers !== undefined && !Array.isArray(def.forCallers))
      throw new BadRequestError(`${entry}: forCallers must be a list of paths`);
    const writes = (def.writes ?? []).map((path) => extraSubtree(path, basename(dir)));
    const forCallers = (def.forCallers ?? []).map((path) => callerSubtree(path, basename(dir)));
    return { def: def as PluginDefinition, writes, forCallers };
  }

  /** Starts every installed plugin; one that fails is logged and recorded under status/plugins/NAME. */
  async startAll(): Promise<void> {
    for (const { name, source } of this.installed()) {
      try {
        await this.start(name, source);
      } catch (err) {
        const message = `plugin ${name} (${source}) did not start: ${(err as Error).message}`;
        this.broken.set(name, message);
        this.deps.logger.error({ err, plugin: name }, message);
        await recordStatus(this.deps.db, `plugins/${name}`, { ok: false, message }).catch(() => {});
      }
    }
  }

  private async start(name: string, source: string): Promise<RunningPlugin> {
    const dir = this.find(source);
    const { def, writes, forCallers } = await this.load(dir);
    const self = pluginPrincipal(name, writes, forCallers);
    const host = makePluginHost(this.deps, self);
    let instance: PluginInstance;
    try {
      instance = await def.create(host);
    } catch (err) {
      host.dispose();
      throw new BadGatewayError(`plugin ${name} (${source}) did not start: ${(err as Error)?.message ?? String(err)}`);
    }
    const methods = new Map<string, PluginMethodSpec>();
    for (const [method, m] of Object.entries(instance.methods ?? {})) methods.set(method, typeof m === 'function' ? { handler: m } : m);
    const flow = host.oauthFlow;
    if (flow) {
      if (!methods.has('auth1')) {
        methods.set('auth1', {
          access: 'user',
          handler: (call) => {
            if (!call.user) throw new BadRequestError('auth1 needs user=NAME: whose account to authorise');
            return host.redirect(flow.authorizeUrl(call.user));
          },
        });
      }
      if (!methods.has('auth2')) {
        methods.set('auth2', {
          access: 'public', // the provider sends the browser here; the single-use state is the proof
          handler: async (call) => {
            const user = await flow.complete(call.params);
            const setup = existsSync(join(dir, 'setup.html'));
            return setup
              ? host.redirect(`/plugin/${name}/page/setup.html?user=${encodeURIComponent(user)}&authorised=1`)
              : `${name} authorised for ${user}\n`;
          },
        });
      }
    }
    if (flow && !instance.commands?.['authorize']) {
      // `igor plugin NAME authorize --user U`: the URL U opens in a browser, for a server without its pages at hand.
      instance.commands = {
        ...instance.commands,
        authorize: (args) => {
          const user = args['user'];
          if (!user || !isTagName(user)) throw new BadRequestError('authorize needs --user NAME');
          if (!host.userData(user)) throw new NotFoundError(`${user} has no ${name} entry yet: create it on the setup page first`);
          return `Open this in a browser, as ${user}, within 10 minutes:\n${flow.authorizeUrl(user)}\n`;
        },
      };
    }
    const plugin: RunningPlugin = { name, self, source, dir, description: def.description, methods, host, instance };
    this.running.set(name, plugin);
    this.broken.delete(name);
    return plugin;
  }

  /**
   * Installs all or nothing: the definition and fragment are checked before the tree is touched, and a plugin
   * that does not start is removed again (its record and what its fragment made) before the error is given.
   */
  async install(name: string, source = name): Promise<RunningPlugin> {
    if (this.installing.has(name)) throw new IgorError(`${name} is being installed already`, 409, {}, 'conflict');
    const work = this.installNow(name, source);
    this.installing.set(name, work);
    try {
      return await work;
    } finally {
      this.installing.delete(name);
    }
  }

  private async installNow(name: string, source: string): Promise<RunningPlugin> {
    if (!isTagName(name))
      throw new BadRequestError(`"${name}" cannot be a plugin name: use letters, digits, _ - . and start with a letter or _`);
    if (this.deps.db.tree.select(`${RECORDS}/${name}`).length)
      throw new IgorError(`a plugin is already installed as ${name}`, 409, {}, 'conflict');
    const dir = this.find(source);
    await this.load(dir); // refuse a plugin that cannot load before changing the tree
    const fragmentFile = join(dir, 'database-fragment.xml');
    const fragment = existsSync(fragmentFile) ? parseFragment(await readFile(fragmentFile, 'utf8'), name) : undefined;
    await this.deps.db.write((t) => {
      const record = elementFromJson(t.doc, name, { source });
      return combine([...(fragment ? [mergeFragment(t, fragment)] : []), t.put(`${RECORDS}/${name}`, record)]);
    });
    try {
      const plugin = await this.start(name, source);
      this.deps.logger.info({ plugin: name, source }, `installed plugin ${name}`);
      return plugin;
    } catch (err) {
      await this.removeFromTree(name);
      this.deps.logger.error({ err, plugin: name }, `plugin ${name} did not start, and was not installed`);
      throw err;
    }
  }

  /**
   * Removes the plugin's record and what its fragment made (last first, so earlier references stay true), and
   * the list of records if this was its last.
   */
  private async removeFromTree(name: string): Promise<void> {
    await this.deps.db.write((t) => {
      const owned = ownedBy(t, name).reverse();
      const removed = [...owned.map((el) => t.delete(refOf(el))), t.delete(`${RECORDS}/${name}`)];
      if (t.select(`${RECORDS}/*`).length === 0) removed.push(t.delete(RECORDS));
      return combine(removed);
    });
  }

  async uninstall(name: string): Promise<void> {
    if (!isTagName(name) || this.deps.db.tree.select(`${RECORDS}/${name}`).length === 0)
      throw new NotFoundError(`no plugin is installed as ${name}`);
    await this.stop(name);
    await this.removeFromTree(name);
    this.broken.delete(name);
    this.deps.logger.info({ plugin: name }, `uninstalled plugin ${name}`);
  }

  private async stop(name: string): Promise<void> {
    const plugin = this.running.get(name);
    this.running.delete(name);
    await Promise.resolve(plugin?.instance.stop?.()).catch((err: unknown) =>
      this.deps.logger.error({ err, plugin: name }, 'plugin stop failed'),
    );
    plugin?.host.dispose();
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.running.keys()]) await this.stop(name);
  }
}
