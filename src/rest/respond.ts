/** The one place where errors become HTTP responses. */
import type { RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IgorError, NotFoundError, codeOf, statusOf } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { hasBody } from './body.ts';
import { CONTENT_TYPE, errorFormat } from './negotiate.ts';

export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, logger: Logger): void {
  const status = statusOf(err);
  // Errors we did not foresee are logged in full but shown only briefly: they are bugs, not messages.
  const message = status === 500 ? 'internal error; see the server log' : (err as Error).message;
  // The path and the names of the query's parameters: their values may be passwords (user/add) or URLs with them.
  if (status >= 500) logger.error({ err, method: req.method, url: loggedUrl(req.url ?? '') }, 'request failed');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const format = errorFormat(req);
  const code = codeOf(err);
  // The code in JSON bodies, and for every format in a header: plain-text clients (Igor's) keep the bare message.
  const body = format === 'json' ? JSON.stringify({ error: message, code, status }) + '\n' : message + '\n';
  const headers: Record<string, string | number> = {
    ...(err instanceof IgorError ? err.headers : {}),
    'Content-Type': CONTENT_TYPE[format],
    'Content-Length': Buffer.byteLength(body),
    'Igor-Error-Code': code,
  };
  // Refused before its body was read (too large, not allowed): the rest of the body is not worth reading.
  if (status === 413 || (hasBody(req) && !req.complete)) headers['Connection'] = 'close';
  // Ask for Basic credentials, but not from a page's own fetch() (it says X-Requested-With, as igor-page.js
  // does): the browser would pop up a password dialog over the page, which has its own way to log in.
  const fromPage = req.headers['x-requested-with'] !== undefined;
  if (status === 401 && !fromPage) headers['WWW-Authenticate'] = 'Basic realm="Igor", charset="UTF-8"';
  res.writeHead(status, headers);
  res.end(body);
}

function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()];
  return `${url.slice(0, q)}?${names.map((n) => `${encodeURIComponent(n)}=…`).join('&')}`;
}

export function notFound(): RequestHandler {
  return (req, _res, next) => next(new NotFoundError(`no such resource: ${req.method} ${req.path}`));
}
