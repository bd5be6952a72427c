/**
 * /plugin/NAME/page/PAGE: a plugin's pages — its files as they are, readme.md rendered, and .html pages that are
 * templates rendered with what the caller may read (pluginhost/templates.ts). Served under the strict CSP of
 * headers.ts: what a page shows cannot become code.
 */
import { routes } from './router.ts';
import { type Router, type Request, type Response } from 'express';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { principalOf } from '../auth/principal.ts';
import { viewOf, visibilityFor } from '../auth/visibility.ts';
import { NotFoundError } from '../errors.ts';
import type { Json } from '../plugin-api.ts';
import { renderIfTemplate } from '../pluginhost/templates.ts';
import { escapeText } from '../tree/serialize.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { jsonOf, setOwn } from '../tree/jsonxml.ts';
import type { HostContext } from './context.ts';
import { queryOf } from './negotiate.ts';
import { privileged } from '../pluginhost/call.ts';
import { runningPlugin } from './plugins.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'db' | 'plugins'>;

const PAGE = /^[A-Za-z0-9_][\w.-]*\.(html|css|js|svg|png|json|md)$/;

async function servePage(ctx: Deps, req: Request, res: Response): Promise<void> {
  const name = req.params['name'] as string;
  const page = req.params['page'] as string;
  const plugin = await runningPlugin(ctx, name);
  if (!PAGE.test(page) || !existsSync(join(plugin.dir, page))) throw new NotFoundError(`plugin ${name} has no page ${page}`);
  // Plugin pages run no inline script and load nothing from elsewhere (headers.ts): what they show cannot become code.
  if (page.endsWith('.md')) {
    const { marked } = await import('marked'); // only for readmes: not loaded at start-up
    const html = marked.parse(await readFile(join(plugin.dir, page), 'utf8'), { async: false });
    res
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
          `<title>${escapeText(name)}: ${escapeText(page)} — Igor-TS</title><link rel="stylesheet" href="/static/igor.css">` +
          `<script src="/static/igor-page.js" defer></script></head>` +
          `<body><main class="readme">${html}</main></body></html>\n`,
      );
    return;
  }
  const rendered = await renderIfTemplate(plugin.dir, page, () => pageContext(ctx, req, name));
  if (rendered !== undefined) {
    res.type('text/html; charset=utf-8').send(rendered);
    return;
  }
  res.sendFile(page, { root: plugin.dir, dotfiles: 'deny' });
}

/**
 * Igor's template variables, with what the caller may read only (their visibility for reading, so no secrets):
 * pluginData is plugindata/NAME, userData identities/USER/plugindata/NAME for the user they may act for (the
 * query's user= if they may, else themselves); the query parameters as kwargs and, beside Igor's own names, as
 * variables of their own.
 */
function pageContext(ctx: Deps, req: Request, name: string): Record<string, unknown> {
  const p = principalOf(req);
  const reading = visibilityFor(p, 'read');
  const view = viewOf(reading);
  const valueAt = (path: string): Json | undefined => {
    const el = ctx.db.tree.select(path, ctx.db.tree.doc, { view })[0];
    return el && el.nodeType === 1 ? jsonOf(el as Element, reading.show) : undefined;
  };
  const kwargs: Record<string, string> = {};
  for (const [k, v] of queryOf(req)) setOwn(kwargs, k, v);
  const asked = kwargs['user'];
  const self = p.kind === 'user' ? p.name : undefined;
  const user = asked && isTagName(asked) && (privileged(p, name) || asked === self) ? asked : self;
  return {
    ...kwargs,
    kwargs,
    pluginName: name,
    pluginData: valueAt(`/data/plugindata/${name}`) ?? {},
    user: user ?? null,
    userData: (user && valueAt(`/data/identities/${user}/plugindata/${name}`)) ?? {},
  };
}

/** The pages a running plugin has (setup.html, readme.md, …), so that pages link only to those that exist. */
async function listPages(ctx: Deps, req: Request, res: Response): Promise<void> {
  const plugin = await runningPlugin(ctx, req.params['name'] as string);
  const files = await readdir(plugin.dir, { withFileTypes: true });
  res.json(
    files
      .filter((f) => f.isFile() && PAGE.test(f.name) && /\.(html|md)$/.test(f.name))
      .map((f) => f.name)
      .sort(),
  );
}

export function pluginPageRoutes(ctx: Deps): Router {
  const router = routes();
  router.get('/plugin/:name/page/:page', (req, res) => servePage(ctx, req, res));
  router.get('/plugin/:name/page', (req, res) => listPages(ctx, req, res)); // /page/ too
  return router;
}
