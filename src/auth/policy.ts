/**
 * Who may do what where in the tree, by path and method, with defaults like Igor's:
 * - everyone, anonymous too: read environment/, status/, services/igor/; read and write sandbox/;
 * - a user U: also read and write identities/U/ and people/U/; read people/, sensors/, devices/, actions/;
 * - a plugin P: also read and write plugindata/P/, sensors/P/, devices/P/, status/sensors/P/,
 *   status/devices/P/ and identities/<any>/plugindata/P/, plus what the user it works for may do;
 * - an admin and the server itself: everything.
 * An API token narrows its user's rights to one subtree and some methods.
 * Secrets (passwords, client secrets, tokens) are never shown but to an admin asking with .VARIANT=raw.
 */
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { ancestry, isHidden, SHOW_ALL, type Show } from '../tree/dom.ts';
import { describe, isAdmin, type Principal, type Right } from './principal.ts';

const ALL: ReadonlySet<Right> = new Set(['get', 'put', 'post', 'delete']);
const GET: ReadonlySet<Right> = new Set(['get']);
const NONE: ReadonlySet<Right> = new Set();

interface Grant {
  /** Element names below /data; '*' matches any one name. */
  pattern: string[];
  rights: ReadonlySet<Right>;
}

const PUBLIC: Grant[] = [
  { pattern: ['environment'], rights: GET },
  { pattern: ['status'], rights: GET },
  { pattern: ['services', 'igor'], rights: GET },
  { pattern: ['sandbox'], rights: ALL },
];

/** Element names whose content is secret, wherever they are. */
export const SECRET_NAMES: ReadonlySet<string> = new Set([
  'encryptedPassword', 'password', 'client_secret', 'secret', 'token', 'token_id', 'access_token', 'refresh_token', 'apiTokens',
]);

export function isSecret(node: Node): boolean {
  return SECRET_NAMES.has(node.nodeName);
}

function grantsOf(p: Principal): Grant[] | 'all' {
  switch (p.kind) {
    case 'system':
      return 'all';
    case 'anonymous':
      return PUBLIC;
    case 'user':
      if (p.admin) return 'all';
      return [
        ...PUBLIC,
        { pattern: ['identities', p.name], rights: ALL },
        { pattern: ['people', p.name], rights: ALL },
        { pattern: ['people'], rights: GET },
        { pattern: ['sensors'], rights: GET },
        { pattern: ['devices'], rights: GET },
        { pattern: ['actions'], rights: GET },
      ];
    case 'plugin': {
      const own: Grant[] = [
        ...PUBLIC,
        { pattern: ['plugindata', p.name], rights: ALL },
        { pattern: ['sensors', p.name], rights: ALL },
        { pattern: ['devices', p.name], rights: ALL },
        { pattern: ['status', 'sensors', p.name], rights: ALL },
        { pattern: ['status', 'devices', p.name], rights: ALL },
        { pattern: ['identities', '*', 'plugindata', p.name], rights: ALL },
      ];
      const caller = p.caller ? grantsOf(p.caller) : [];
      return caller === 'all' ? 'all' : [...own, ...caller];
    }
  }
}

function matchesPrefix(pattern: string[], names: string[]): boolean {
  if (pattern.length > names.length) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] !== '*' && pattern[i] !== names[i]) return false;
  return true;
}

/** `names` leads towards `pattern` (a container on the way to something granted). */
function leadsTo(names: string[], pattern: string[]): boolean {
  if (names.length >= pattern.length) return false;
  for (let i = 0; i < names.length; i++) if (pattern[i] !== '*' && pattern[i] !== names[i]) return false;
  return true;
}

/** The rights `p` has on the element whose names from the root are `chain` (starting with 'data'). */
export function rightsAt(p: Principal, chain: string[]): ReadonlySet<Right> {
  if (chain[0] !== 'data') return NONE;
  const names = chain.slice(1);
  const scope = p.kind === 'user' ? p.scope : undefined;
  if (scope && !matchesPrefix(scope.path, names)) return NONE;
  const grants = grantsOf(p);
  let rights: ReadonlySet<Right>;
  if (grants === 'all') rights = ALL;
  else {
    const union = new Set<Right>();
    for (const g of grants) if (matchesPrefix(g.pattern, names)) for (const r of g.rights) union.add(r);
    rights = union;
  }
  return scope ? new Set([...rights].filter((r) => scope.rights.has(r))) : rights;
}

/** Whether `p` may see the element: it may read it, or it is a container on the way to something it may read. */
export function canSee(p: Principal, chain: string[]): boolean {
  if (rightsAt(p, chain).has('get')) return true;
  if (chain[0] !== 'data') return false;
  const names = chain.slice(1);
  const scope = p.kind === 'user' ? p.scope : undefined;
  const grants = grantsOf(p);
  if (grants === 'all') return scope !== undefined && leadsTo(names, scope.path);
  return grants.some((g) => leadsTo(names, g.pattern) && (!scope || leadsTo(names, scope.path) || matchesPrefix(scope.path, names)));
}

/** What `p` is shown of the tree: what it may see, never secrets but to an admin asking raw, hidden data only raw. */
export function showFor(p: Principal, raw: boolean): Show {
  if (isAdmin(p)) return raw ? SHOW_ALL : (n) => !isHidden(n) && !isSecret(n);
  return (n) => {
    if (isHidden(n) || isSecret(n)) return false;
    return n.nodeType === 2 || canSee(p, ancestry(n)); // an attribute goes with its element
  };
}

/** Throws 401 (anonymous: log in) or 403 (known, not allowed). */
export function deny(p: Principal, right: Right | 'use', what: string): never {
  if (p.kind === 'anonymous') throw new UnauthorizedError(`log in to ${right} ${what}`);
  throw new ForbiddenError(`${describe(p)} may not ${right} ${what}`);
}

export function checkRight(p: Principal, right: Right, node: Node, parent?: Node): void {
  const chain = ancestry(node, parent);
  if (!rightsAt(p, chain).has(right)) deny(p, right, '/' + chain.join('/'));
}
