/** Who a request (or an action, or a plugin) acts as. */
import type { IncomingMessage } from 'node:http';

export type Right = 'get' | 'put' | 'post' | 'delete';

export interface TokenScope {
  /** Element names from /data down: the token is good for this subtree only. */
  path: string[];
  rights: ReadonlySet<Right>;
}

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; name: string; admin: boolean; via: 'basic' | 'token' | 'session'; scope?: TokenScope }
  /**
   * A plugin's code or one of its actions: its own data (and the subtrees it declares it `writes`). Acting for a
   * `caller` (a deputy), what that caller may do, within the plugin's own subtrees and `forCallers` (policy.ts).
   */
  | { kind: 'plugin'; name: string; caller?: Principal; writes?: string[][]; forCallers?: string[][] }
  /** The server itself, and actions under actions/ (which only an admin can write). */
  | { kind: 'system' };

export const ANONYMOUS: Principal = { kind: 'anonymous' };
export const SYSTEM: Principal = { kind: 'system' };

export function isAdmin(p: Principal): boolean {
  return p.kind === 'system' || (p.kind === 'user' && p.admin && !p.scope);
}

export function describe(p: Principal): string {
  switch (p.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'system':
      return 'igor';
    case 'user':
      return p.scope ? `${p.name} (token)` : p.name;
    case 'plugin':
      return `plugin ${p.name}`;
  }
}

const principals = new WeakMap<IncomingMessage, Principal>();

export function setPrincipal(req: IncomingMessage, p: Principal): void {
  principals.set(req, p);
}

export function principalOf(req: IncomingMessage): Principal {
  return principals.get(req) ?? ANONYMOUS;
}
