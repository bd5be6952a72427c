/** The one place where errors become HTTP responses. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { NotFoundError, statusOf } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { CONTENT_TYPE, errorFormat } from './negotiate.ts';

export function notFound(): RequestHandler {
  return (req, _res, next) => next(new NotFoundError(`no such resource: ${req.method} ${req.path}`));
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const status = statusOf(err);
    // Errors we did not foresee are logged in full but shown only briefly: they are bugs, not messages.
    const message = status === 500 ? 'internal error; see the server log' : (err as Error).message;
    if (status >= 500) logger.error({ err, method: req.method, url: req.url }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status === 413) res.set('Connection', 'close'); // the rest of the body is not worth reading
    const format = errorFormat(req);
    res
      .status(status)
      .set('Content-Type', CONTENT_TYPE[format])
      .send(format === 'json' ? JSON.stringify({ error: message, status }) + '\n' : message + '\n');
  };
}
