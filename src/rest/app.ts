/**
 * The HTTP front: every request is first authenticated; /data and /evaluate then go straight to their handler
 * on node:http (the hot path, no framework in between); everything else goes through express: /login,
 * /internal, /action, static files, then 404.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { authenticate } from '../auth/authenticate.ts';
import { clientAddress } from '../auth/logins.ts';
import { csrfGate } from '../auth/csrf.ts';
import { principalOf, setPrincipal, type Principal } from '../auth/principal.ts';
import { statusOf } from '../errors.ts';
import { accountRoutes } from './accounts.ts';
import { actionRoutes } from './actions.ts';
import { currentAction } from '../actions/manager.ts';
import type { HostContext } from './context.ts';
import { handleData } from './data.ts';
import { eventRoutes } from './events.ts';
import { historyRoutes } from './history.ts';
import { internalRoutes } from './internal.ts';
import { loginRoutes } from './login.ts';
import { pluginAdminRoutes } from './pluginAdmin.ts';
import { pluginPageRoutes } from './pluginPages.ts';
import { pluginRoutes } from './plugins.ts';
import { HOME_PAGES_CSP, securityHeaders } from './headers.ts';
import { ROUTING } from './router.ts';
import { canonicalOf, type CanonicalRequest } from '../http/canonical.ts';
import { notFound, sendError } from './respond.ts';

const require = createRequire(import.meta.url);

function fail(ctx: HostContext, req: IncomingMessage, res: ServerResponse, err: unknown, c?: CanonicalRequest): void {
  const status = statusOf(err);
  if (c && (status === 401 || status === 403)) {
    ctx.failures.record(principalOf(req), c.method, c.path, { requestPath: c.path, action: currentAction(), client: clientAddress(req) });
  }
  sendError(req, res, err, ctx.logger);
}

function expressApp(ctx: HostContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // As every router here (router.ts): `/Internal/save` is not `/internal/save`.
  app.set('case sensitive routing', ROUTING.caseSensitive);
  app.set('strict routing', ROUTING.strict);
  app.use(loginRoutes(ctx));
  // Before internalRoutes, which keeps the rest of /internal for admins: users manage their own here.
  app.use(accountRoutes(ctx));
  app.use(internalRoutes(ctx));
  app.use(actionRoutes(ctx));
  app.use(pluginPageRoutes(ctx));
  app.use(pluginAdminRoutes(ctx));
  app.use(pluginRoutes(ctx));
  app.use(eventRoutes(ctx));
  app.use(historyRoutes(ctx));
  // Static files: the database's own static/ folder first (the home's own pages), then the package's; at /NAME
  // as in Igor, and at /static/NAME for pages that live elsewhere (plugin pages).
  const home = { setHeaders: (res: ServerResponse) => res.setHeader('Content-Security-Policy', HOME_PAGES_CSP) };
  for (const [dir, options] of [
    [join(ctx.db.dir, 'static'), home],
    [join(ctx.packageDir, 'static'), {}],
  ] as const) {
    app.use(express.static(dir, options));
    app.use('/static', express.static(dir, options));
  }
  // The one chart library the pages use, straight from its npm package: no build step.
  app.use('/vendor/uplot', express.static(join(dirname(require.resolve('uplot/package.json')), 'dist')));
  app.use(notFound());
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => fail(ctx, req, res, err, canonicalOf(req)));
  return app;
}

export function createRequestListener(ctx: HostContext): RequestListener {
  const app = expressApp(ctx);
  const secure = (ctx.config.publicUrl ?? '').startsWith('https:');
  const headers = securityHeaders(secure);
  const serve = (req: IncomingMessage, res: ServerResponse, c: CanonicalRequest, principal: Principal) => {
    setPrincipal(req, principal);
    try {
      csrfGate(ctx.auth.sessionKey, secure, req, res, c, principal);
    } catch (err) {
      fail(ctx, req, res, err, c);
      return;
    }
    handleData(ctx, req, res, c).then(
      (handled) => {
        if (!handled) app(req, res);
      },
      (err: unknown) => fail(ctx, req, res, err, c),
    );
  };
  // Synchronous when it can be: a GET answered in the same tick as its request costs half as much.
  return (req: IncomingMessage, res: ServerResponse) => {
    headers(req, res);
    let c: CanonicalRequest;
    let principal: Principal | Promise<Principal>;
    try {
      // First of all: every later decision reads this form of the request (http/canonical.ts).
      c = canonicalOf(req);
      principal = authenticate(ctx.auth, req, c);
    } catch (err) {
      fail(ctx, req, res, err);
      return;
    }
    if (principal instanceof Promise)
      principal.then(
        (p) => serve(req, res, c, p),
        (err: unknown) => fail(ctx, req, res, err, c),
      );
    else serve(req, res, c, principal);
  };
}
