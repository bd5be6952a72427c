/**
 * Adopting an Igor directory: the first start on a database.xml that Igor wrote (Database.fromIgor). The server
 * says so, marks the database so that new passwords are stored as Igor stores them (users.ts: Igor can still
 * check every login if its owner goes back), and installs the shipped plugins that stand in for Igor's plugins
 * the directory had (`user`, `copytree`, `systemHealth`): their data, marked own:plugin="NAME", is already there,
 * and their actions (systemHealth's runs every minute) would fail without them.
 */
import { lstat, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PASSWORD_HASH_SETTING } from './auth/users.ts';
import type { Logger } from './logger.ts';
import type { PluginRegistry } from './pluginhost/registry.ts';
import type { Database } from './store/database.ts';
import { ELEMENT_NODE } from './tree/dom.ts';
import { isTagName } from './tree/xmlNames.ts';
import { elementFromJson } from './tree/jsonxml.ts';

const OWNER = 'own:plugin';

export interface Adoption {
  /** Igor's plugins that run here now (NAME, or NAME=SOURCE for one Igor installed under another name). */
  installed: string[];
  /** Igor's plugins with no counterpart here: their data and actions stay, their code does not run. */
  notRunnable: string[];
}

/** Marks the database as adopted from Igor: new password hashes are Igor's pbkdf2-sha256 (users.ts). */
export async function markAdopted(db: Database): Promise<void> {
  await db.write((t) => t.put(PASSWORD_HASH_SETTING, elementFromJson(t.doc, 'passwordHash', 'pbkdf2-sha256')));
}

/** The plugins an Igor database had installed: every own:plugin="NAME" its plugins' fragments left in the tree. */
function igorPluginNames(db: Database): string[] {
  const names = new Set<string>();
  const stack: Element[] = [db.tree.root];
  while (stack.length) {
    const el = stack.pop()!;
    const owner = el.getAttribute(OWNER);
    if (owner && isTagName(owner)) names.add(owner);
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) stack.push(c as Element);
  }
  return [...names].sort();
}

/** Which plugin Igor installed as `name`: `addstd NAME=SRC` made plugins/NAME a link to ../std-plugins/SRC. */
async function igorSourceOf(dir: string, name: string): Promise<string> {
  const link = join(dir, 'plugins', name);
  const isLink = await lstat(link).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );
  const target = isLink ? basename(await readlink(link)) : name;
  return isTagName(target) ? target : name;
}

/** Installs the shipped counterparts of the Igor directory's plugins; one that fails is logged and left out. */
export async function adoptIgorPlugins(db: Database, plugins: PluginRegistry, logger: Logger): Promise<Adoption> {
  const standard = new Set(await plugins.standard());
  const installed = new Set(plugins.installed().map((p) => p.name));
  const adoption: Adoption = { installed: [], notRunnable: [] };
  for (const name of igorPluginNames(db)) {
    if (installed.has(name)) continue;
    const source = await igorSourceOf(db.dir, name);
    if (!standard.has(source)) {
      adoption.notRunnable.push(name);
      continue;
    }
    try {
      await plugins.install(name, source);
      adoption.installed.push(source === name ? name : `${name}=${source}`);
    } catch (err) {
      logger.error({ err, plugin: name }, `Igor's plugin ${name} could not be installed here`);
      adoption.notRunnable.push(name);
    }
  }
  return adoption;
}

/** What the first start on an Igor directory tells the person who started it. */
export function describeAdoption(dir: string, adoption: Adoption): string {
  const lines = [
    `${dir} is an Igor directory (its database.xml was written by Igor): it is adopted as it is.`,
    'New passwords are stored as Igor stores them (pbkdf2-sha256), so Igor can still check every login if you go back;',
    'delete services/igor/passwordHash once you will not, and new ones are stored as scrypt.',
  ];
  if (adoption.installed.length) lines.push(`Igor's plugins that run here, installed: ${adoption.installed.join(', ')}.`);
  if (adoption.notRunnable.length)
    lines.push(`Igor's plugins that do not run here (their data and actions stay): ${adoption.notRunnable.join(', ')}.`);
  lines.push('README, "Coming from Igor", says what to check now.');
  return lines.join('\n') + '\n';
}
