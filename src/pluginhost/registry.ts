/**
 * Which plugins exist and which run. Plugin sources are found by sources.ts (the database's plugins/ folder first,
 * then the package's). Installing one under a name (the same source can be installed twice, under two names)
 * merges its database fragment, records it under services/igor/plugins/NAME and starts it; uninstalling stops it
 * and removes what its fragment made. The host knows plugins only through this folder convention and the plugin
 * API, never by name.
 */
import { BadRequestError, IgorError, NotFoundError } from '../errors.ts';
import type { Principal } from '../auth/principal.ts';
import { recordStatus } from '../status.ts';
import { refOf } from '../tree/refs.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { combine, type Mutation, type Tree } from '../tree/tree.ts';
import { loadDefinition } from './definition.ts';
import type { HostDeps } from './host.ts';
import { mergeFragment, ownedBy, readFragment } from './fragment.ts';
import { findSource, listSources, type AvailablePlugin } from './sources.ts';
import { startPlugin, stopPlugin, type RunningPlugin } from './start.ts';

export { PYTHON_PLUGIN, type AvailablePlugin, type PluginSource } from './sources.ts';
export type { RunningPlugin } from './start.ts';

const RECORDS = '/data/services/igor/plugins';

/** What installing a plugin writes to the tree, as one change: what its fragment makes, and its record. */
export function installRecord(t: Tree, name: string, source: string, fragment: Document | undefined): Mutation {
  const record = elementFromJson(t.doc, name, { source });
  return combine([...(fragment ? [mergeFragment(t, fragment)] : []), t.put(`${RECORDS}/${name}`, record)]);
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
      loadDefinition(dir).then(
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
    const plugin = await startPlugin(this.deps, name, source, dir, await loadDefinition(dir));
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
    await loadDefinition(dir); // refuse a plugin that cannot load before changing the tree
    const fragment = await readFragment(dir, name);
    await this.deps.db.write((t) => installRecord(t, name, source, fragment));
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
    if (plugin) await stopPlugin(plugin, this.deps.logger);
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.running.keys()]) await this.stop(name);
  }
}
