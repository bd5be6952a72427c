/**
 * A plugin's definition, loaded from its folder and checked: the default export of plugin.ts (or plugin.js) with a
 * description and create(), and the subtrees it declares, which become part of who it is (its principal). Shared
 * by the registry (installing) and the test host (src/testing), so that a plugin's own tests load it as a server does.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Principal } from '../auth/principal.ts';
import { BadGatewayError, BadRequestError } from '../errors.ts';
import type { PluginDefinition } from '../plugin-api.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { ENTRY_FILES } from './sources.ts';

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

/** A definition as checked: the definition, and the subtrees it declares as names from /data down. */
export interface CheckedDefinition {
  def: PluginDefinition;
  writes: string[][];
  forCallers: string[][];
}

/**
 * Whether `candidate` defines a plugin (a 400 saying what is missing if not) and declares only subtrees it may
 * have. `where` names it in messages (its entry file), `source` is its folder's name.
 */
export function checkDefinition(candidate: Partial<PluginDefinition> | undefined, where: string, source: string): CheckedDefinition {
  const def = candidate;
  if (!def || typeof def.create !== 'function' || typeof def.description !== 'string') {
    throw new BadRequestError(`${where} must export default { description, create(host) }`);
  }
  if (def.writes !== undefined && !Array.isArray(def.writes)) throw new BadRequestError(`${where}: writes must be a list of paths`);
  if (def.forCallers !== undefined && !Array.isArray(def.forCallers))
    throw new BadRequestError(`${where}: forCallers must be a list of paths`);
  const writes = (def.writes ?? []).map((path) => extraSubtree(path, source));
  const forCallers = (def.forCallers ?? []).map((path) => callerSubtree(path, source));
  return { def: def as PluginDefinition, writes, forCallers };
}

/**
 * The plugin's definition from its folder, checked: a module that cannot be loaded is a 502 (its code failed), one
 * that does not define a plugin, or declares subtrees it may not write, a 400.
 */
export async function loadDefinition(dir: string): Promise<CheckedDefinition> {
  const entry = ENTRY_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!entry) throw new BadRequestError(`${dir} holds no ${ENTRY_FILES.join(' or ')}`);
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
  return checkDefinition(def, entry, basename(dir));
}

/** Who a plugin is: its name and the subtrees its definition declares. */
export function pluginPrincipal(name: string, { writes, forCallers }: CheckedDefinition): Principal & { kind: 'plugin' } {
  return { kind: 'plugin', name, ...(writes.length ? { writes } : {}), ...(forCallers.length ? { forCallers } : {}) };
}
