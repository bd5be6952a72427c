/**
 * Routers as every route here is declared: paths match case-sensitively and exactly. Express matches without
 * regard to case by default, so `/Internal/save` reached the handler of `/internal/save` while every check that
 * compared paths saw a different one. Requests reach routes in their canonical form (http/canonical.ts).
 */
import { Router } from 'express';

export const ROUTING = { caseSensitive: true, strict: true } as const;

export function routes(): Router {
  return Router(ROUTING);
}
