/** Access guards for express routes. */
import type { NextFunction, Request, Response } from 'express';
import { deny } from '../auth/policy.ts';
import { isAdmin, principalOf } from '../auth/principal.ts';
import { csrfOk } from '../auth/session.ts';
import { ForbiddenError } from '../errors.ts';

/**
 * Only an admin (or the server itself) may go on. An admin's browser session must also show the CSRF token:
 * these routes change things even on GET (as in Igor), and a link on another site must not be able to.
 */
export function adminOnly(req: Request, _res: Response, next: NextFunction): void {
  const p = principalOf(req);
  if (!isAdmin(p)) deny(p, 'use', req.originalUrl.split('?')[0]!);
  if (p.kind === 'user' && p.via === 'session' && !csrfOk(req, typeof req.query['_csrf'] === 'string' ? req.query['_csrf'] : undefined)) {
    throw new ForbiddenError('this needs the CSRF token of your session (X-CSRF-Token header or _csrf parameter)');
  }
  next();
}
