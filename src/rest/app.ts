/** The HTTP application: routes in the order they are matched, then 404, then the error handler. */
import express, { type Express } from 'express';
import { join } from 'node:path';
import type { HostContext } from './context.ts';
import { dataRoutes } from './data.ts';
import { internalRoutes } from './internal.ts';
import { errorHandler, notFound } from './respond.ts';

export function createApp(ctx: HostContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // tree answers change all the time; hashing every body costs more than it saves
  app.set('query parser', 'simple');
  app.use(dataRoutes(ctx));
  app.use(internalRoutes(ctx));
  // Static files: the database's own static/ folder first (the home's own pages), then the package's.
  app.use(express.static(join(ctx.db.dir, 'static'), { fallthrough: true }));
  app.use(express.static(join(ctx.packageDir, 'static'), { fallthrough: true }));
  app.use(notFound());
  app.use(errorHandler(ctx.logger));
  return app;
}
