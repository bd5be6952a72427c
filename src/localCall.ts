/**
 * Calling this server's own routes from inside it (actions with local URLs, event sources): the shape of such a
 * call, kept apart from the HTTP layer that answers it (rest/inject.ts), so that actions/ and events/ depend on
 * this and not on rest/.
 */
import type { Principal } from './auth/principal.ts';

export interface LocalRequest {
  method: string;
  /** Path and query, e.g. `/data/sandbox/x?.VARIANT=ref`. */
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Who the call acts as: the server itself, or a plugin. */
  as: Principal;
}

export interface LocalResponse {
  status: number;
  body: string;
}

export type LocalCaller = (req: LocalRequest) => Promise<LocalResponse>;
