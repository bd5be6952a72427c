/**
 * A plugin's database-fragment.xml, merged into the tree on install as in Igor: `{plugin}` becomes the
 * install name; an element marked `own:plugin="NAME"` belongs to the plugin (added if the tree does not have
 * it, kept as it is if it does, removed on uninstall); an unmarked element is a container (sensors, actions)
 * matched by tag, created if missing, and merged into.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError } from '../errors.ts';
import { elementChildren } from '../tree/dom.ts';
import { parseXml } from '../tree/parseXml.ts';
import { refOf } from '../tree/refs.ts';
import { combine, type Mutation, type Tree } from '../tree/tree.ts';

export const OWNER_NS = 'http://jackjansen.nl/igor/owner';
const OWNER = 'own:plugin';

export function parseFragment(xml: string, plugin: string): Document {
  let text = xml.replaceAll('{plugin}', plugin);
  // Fragments may use own:plugin without declaring the prefix: it is Igor's, and always the same.
  if (!/xmlns:own\s*=/.test(text)) text = text.replace(/<data(\s|>|\/)/, `<data xmlns:own="${OWNER_NS}"$1`);
  const doc = parseXml(text, `the database fragment of ${plugin}`);
  if (doc.documentElement!.nodeName !== 'data')
    throw new BadRequestError(`the database fragment of ${plugin} must have <data> as its root`);
  return doc;
}

/** The fragment in a plugin's folder, if it has one. */
export async function readFragment(folder: string, plugin: string): Promise<Document | undefined> {
  const file = join(folder, 'database-fragment.xml');
  return existsSync(file) ? parseFragment(await readFile(file, 'utf8'), plugin) : undefined;
}

/** Merges the fragment under /data as one mutation. */
export function mergeFragment(tree: Tree, fragment: Document): Mutation {
  const changes: Mutation[] = [];
  const merge = (from: Element, into: Element): void => {
    for (const f of elementChildren(from)) {
      const owner = f.getAttribute(OWNER);
      const existing = elementChildren(into).find((e) => e.nodeName === f.nodeName && (e.getAttribute(OWNER) || '') === (owner || ''));
      if (existing && !owner) merge(f, existing);
      else if (!existing) changes.push(tree.post(`${refOf(into)}/${f.nodeName}`, tree.doc.importNode(f, true) as Element));
    }
  };
  merge(fragment.documentElement!, tree.root);
  return combine(changes);
}

/** Every element that belongs to the plugin (own:plugin="NAME"), outermost only. */
export function ownedBy(tree: Tree, plugin: string): Element[] {
  const found: Element[] = [];
  // Iterative, in document order: a tree of any depth is walked.
  const stack: Element[] = elementChildren(tree.root).reverse();
  while (stack.length) {
    const el = stack.pop()!;
    if (el.getAttribute(OWNER) === plugin) found.push(el);
    else stack.push(...elementChildren(el).reverse());
  }
  return found;
}
