/**
 * Plugin pages that are templates, as Igor's are (Jinja2 there): an `.html` page using template syntax is
 * rendered by nunjucks (Jinja-compatible, maintained), with autoescaping on, so values from the tree or the query
 * are text in the page, never markup. The context holds Igor's variables — pluginName, pluginData, user,
 * userData, the query parameters (also as kwargs) — filled by the caller with only what that caller may read:
 * secrets never reach a page. Plain pages are sent as they are. Loaded when first needed: most servers never
 * render one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Environment } from 'nunjucks';
import { BadGatewayError } from '../errors.ts';

const TEMPLATE_SYNTAX = /\{\{|\{%/;
const environments = new Map<string, Environment>();

async function environmentFor(dir: string): Promise<Environment> {
  let env = environments.get(dir);
  if (!env) {
    const nunjucks = (await import('nunjucks')).default;
    // Only the plugin's own folder can be included or extended; autoescape makes every {{ value }} text.
    env = new nunjucks.Environment(new nunjucks.FileSystemLoader(dir, { noCache: true }), { autoescape: true, throwOnUndefined: false });
    environments.set(dir, env);
  }
  return env;
}

/** The page rendered with `context` if it is a template, or undefined if it is a plain page. */
export async function renderIfTemplate(dir: string, page: string, context: () => Record<string, unknown>): Promise<string | undefined> {
  if (!page.endsWith('.html')) return undefined;
  const source = await readFile(join(dir, page), 'utf8');
  if (!TEMPLATE_SYNTAX.test(source)) return undefined;
  const env = await environmentFor(dir);
  try {
    return env.renderString(source, context());
  } catch (err) {
    throw new BadGatewayError(`page ${page} could not be rendered: ${(err as Error).message}`);
  }
}
