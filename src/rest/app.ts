/**
 * The HTTP front: /data and /evaluate go straight to their handler on node:http (the hot path, no
 * framework in between); everything else goes through express: /internal, /action, static files, then 404.
 */
import express, { type Express } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { actionRoutes } from './actions.ts';
import type { HostContext } from './context.ts';
import { handleData } from './data.ts';
import { internalRoutes } from './internal.ts';
import { errorHandler, notFound, sendError } from './respond.ts';

function expressApp(ctx: HostContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(internalRoutes(ctx));
  app.use(actionRoutes(ctx));
  // Static files: the database's own static/ folder first (the home's own pages), then the package's.
  app.use(express.static(join(ctx.db.dir, 'static')));
  app.use(express.static(join(ctx.packageDir, 'static')));
  app.use(notFound());
  app.use(errorHandler(ctx.logger));
  return app;
}

export function createRequestListener(ctx: HostContext): RequestListener {
  const app = expressApp(ctx);
  return (req: IncomingMessage, res: ServerResponse) => {
    handleData(ctx, req, res).then(
      (handled) => {
        if (!handled) app(req, res);
      },
      (err: unknown) => sendError(req, res, err, ctx.logger),
    );
  };
}
