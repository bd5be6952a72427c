/**
 * Where plugin sources are found: folders holding a plugin.ts (or plugin.js), in the database's own plugins/
 * first, then the package's. Symbolic links to plugin folders are followed: Igor's `addstd` installs its plugins
 * as links (plugins/user -> ../std-plugins/user). An Igor (Python) plugin is listed, so that someone who brought
 * an Igor directory over sees what did not come with it, but never hides a runnable plugin of the same name found
 * later: the shipped `user` replaces Igor's Python `user`.
 */
import { existsSync } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { isTagName } from '../tree/xmlNames.ts';

export const ENTRY_FILES = ['plugin.ts', 'plugin.js'];
/** What an Igor (Python) plugin folder holds instead: an Igor database directory keeps them in plugins/. */
const PYTHON_FILES = ['igorplugin.py', '__init__.py'];
export const PYTHON_PLUGIN = 'Python plugin, not runnable here';

export interface PluginSource {
  source: string;
  dir: string;
}

export interface AvailablePlugin extends PluginSource {
  description: string;
  /** A plugin.ts or plugin.js: it can be installed (else an Igor plugin, or a link to nothing). */
  runnable: boolean;
  /** An Igor (Python) plugin of the same name that this one is used in place of: its folder. */
  replaces?: string;
}

export function isRunnable(dir: string): boolean {
  return ENTRY_FILES.some((f) => existsSync(join(dir, f)));
}

function isPythonPlugin(dir: string): boolean {
  return PYTHON_FILES.some((f) => existsSync(join(dir, f)));
}

/** The plugin folders in `folder` by name, links to folders included; a link to nothing, with where it points. */
async function folderEntries(folder: string): Promise<{ name: string; missing?: string }[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const out: { name: string; missing?: string }[] = [];
  for (const e of entries) {
    if (!isTagName(e.name)) continue;
    if (e.isDirectory()) out.push({ name: e.name });
    else if (e.isSymbolicLink()) {
      const path = join(folder, e.name);
      const target = await stat(path).catch(() => undefined);
      if (target?.isDirectory()) out.push({ name: e.name });
      else if (!target) out.push({ name: e.name, missing: await readlink(path).catch(() => '?') });
    }
  }
  return out;
}

/**
 * Every plugin source that could be installed, and those that cannot (an Igor plugin, a link to a folder that is
 * not there: the copy of an Igor directory on a machine without Igor), described so, by name.
 */
export async function listSources(searchPath: string[], describe: (dir: string) => Promise<string>): Promise<AvailablePlugin[]> {
  const found = new Map<string, AvailablePlugin>();
  const notRunnable = new Map<string, AvailablePlugin>();
  for (const folder of searchPath) {
    for (const { name, missing } of await folderEntries(folder)) {
      const dir = join(folder, name);
      const shadowed = notRunnable.get(name);
      if (found.has(name) || (shadowed && !isRunnable(dir))) continue;
      if (isRunnable(dir)) {
        found.set(name, {
          source: name,
          dir,
          description: await describe(dir),
          runnable: true,
          ...(shadowed ? { replaces: shadowed.dir } : {}),
        });
      } else if (missing !== undefined) {
        notRunnable.set(name, { source: name, dir, description: `a link to ${missing}, which is not there`, runnable: false });
      } else if (isPythonPlugin(dir)) notRunnable.set(name, { source: name, dir, description: PYTHON_PLUGIN, runnable: false });
    }
  }
  for (const [name, entry] of notRunnable) if (!found.has(name)) found.set(name, entry);
  return [...found.values()].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}

/** The folder of the runnable plugin `source`: the first found, past any Igor (Python) plugin of that name. */
export function findSource(searchPath: string[], source: string): string {
  if (!isTagName(source)) throw new BadRequestError(`"${source}" is not a plugin name`);
  let python: string | undefined;
  for (const folder of searchPath) {
    const dir = join(folder, source);
    if (isRunnable(dir)) return dir;
    if (python === undefined && isPythonPlugin(dir)) python = folder;
  }
  if (python) throw new BadRequestError(`${source} in ${python} is an Igor plugin written in Python: ${PYTHON_PLUGIN}`);
  throw new NotFoundError(`there is no plugin ${source} (looked in ${searchPath.join(', ')})`);
}
