/** Access guards for express routes. */
import type { NextFunction, Request, Response } from 'express';
import { deny } from '../auth/policy.ts';
import { isAdmin, principalOf } from '../auth/principal.ts';

/** Only an admin (or the server itself) may go on. (A browser session's CSRF token was checked at the gate, auth/csrf.ts.) */
export function adminOnly(req: Request, _res: Response, next: NextFunction): void {
  const p = principalOf(req);
  if (!isAdmin(p)) deny(p, 'use', req.originalUrl.split('?')[0]!);
  next();
}
