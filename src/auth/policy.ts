/**
 * Who may do what where in the tree, by path and method, with defaults like Igor's:
 * - everyone, anonymous too: read environment/, status/, services/igor/; read and write sandbox/;
 * - a user U: also read and write identities/U/ and people/U/; read people/, sensors/, devices/, actions/;
 * - a plugin P: also read and write plugindata/P/, sensors/P/, devices/P/, status/sensors/P/,
 *   status/devices/P/ and identities/<any>/plugindata/P/ (its own work);
 * - a plugin acting for a caller (a deputy): what the caller may do, within the plugin's own subtrees and those
 *   it declares it serves callers in (`forCallers`): never more than the caller, never where the plugin may not;
 * - an admin and the server itself: everything.
 * An API token narrows its user's rights to one subtree and some methods.
 * Each narrowing is an intersection of grants: a token's scope with its user's, a deputy's caller with its plugin.
 * What of the tree exists for a principal when it reads is visibility.ts's rule, made from these rights.
 */
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import { containsHiddenData, SHOW_ALL } from '../tree/dom.ts';
import { ancestry } from '../tree/refs.ts';
import { serialize } from '../tree/serialize.ts';
import type { Mutation } from '../tree/tree.ts';
import { describe, isAdmin, type Principal, type Right } from './principal.ts';
import { checkQuota, type QuotaLimits } from './quotas.ts';

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

/** Grants per principal: a read asks for every node it shows, so they are made once per principal, not per node. */
const grantsCache = new WeakMap<Principal, Grant[] | 'all'>();

function grantsOf(p: Principal): Grant[] | 'all' {
  let grants = grantsCache.get(p);
  if (!grants) grantsCache.set(p, (grants = makeGrants(p)));
  return grants;
}

function makeGrants(p: Principal): Grant[] | 'all' {
  switch (p.kind) {
    case 'system':
      return 'all';
    case 'anonymous':
      return PUBLIC;
    case 'user': {
      const user: Grant[] | 'all' = p.admin
        ? 'all'
        : [
            ...PUBLIC,
            { pattern: ['identities', p.name], rights: ALL },
            { pattern: ['people', p.name], rights: ALL },
            { pattern: ['people'], rights: GET },
            { pattern: ['sensors'], rights: GET },
            { pattern: ['devices'], rights: GET },
            { pattern: ['actions'], rights: GET },
          ];
      return p.scope ? intersect(user, [{ pattern: p.scope.path, rights: p.scope.rights }]) : user;
    }
    case 'plugin': {
      const own: Grant[] = [
        ...PUBLIC,
        { pattern: ['plugindata', p.name], rights: ALL },
        { pattern: ['sensors', p.name], rights: ALL },
        { pattern: ['devices', p.name], rights: ALL },
        { pattern: ['status', 'sensors', p.name], rights: ALL },
        { pattern: ['status', 'devices', p.name], rights: ALL },
        { pattern: ['identities', '*', 'plugindata', p.name], rights: ALL },
        // Subtrees its definition says it writes (sensors/fitbit for _fitbit), accepted by installing it.
        ...(p.writes ?? []).map((pattern) => ({ pattern, rights: ALL })),
      ];
      if (!p.caller) return own;
      const reach = [...own, ...(p.forCallers ?? []).map((pattern) => ({ pattern, rights: ALL }))];
      return intersect(grantsOf(p.caller), reach);
    }
  }
}

/** What two principals may both do: for each pair of grants that overlap, the deeper pattern with the rights both give. */
function intersect(a: Grant[] | 'all', b: Grant[] | 'all'): Grant[] | 'all' {
  if (a === 'all') return b;
  if (b === 'all') return a;
  const out: Grant[] = [];
  for (const x of a) {
    for (const y of b) {
      const pattern = deeper(x.pattern, y.pattern);
      const rights = new Set([...x.rights].filter((r) => y.rights.has(r)));
      if (pattern && rights.size) out.push({ pattern, rights });
    }
  }
  return out;
}

/** Who is an admin and how one logs in: others may read their own, but only an admin changes them. */
const ADMIN_WRITES: string[][] = [
  ['identities', '*', 'admin'],
  ['identities', '*', 'encryptedPassword'],
  ['identities', '*', 'apiTokens'],
  ['identities', '*', 'loginSessions'],
];

/** Who was refused what: for an admin's eyes, although the rest of services/igor is public. */
const ADMIN_READS: string[][] = [['services', 'igor', 'accessFailures']];

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
  const grants = grantsOf(p);
  if (grants === 'all') return ALL;
  const union = new Set<Right>();
  for (const g of grants) if (matchesPrefix(g.pattern, names)) for (const r of g.rights) union.add(r);
  if (ADMIN_READS.some((pattern) => matchesPrefix(pattern, names))) union.clear();
  if (union.size > 1 && ADMIN_WRITES.some((pattern) => matchesPrefix(pattern, names))) {
    for (const r of ALL) if (r !== 'get') union.delete(r);
  }
  return union;
}

/** Whether `p` may see the element: it may read it, or it is a container on the way to something it may read. */
export function canSee(p: Principal, chain: string[]): boolean {
  if (rightsAt(p, chain).has('get')) return true;
  if (chain[0] !== 'data') return false;
  const names = chain.slice(1);
  const grants = grantsOf(p);
  return grants !== 'all' && grants.some((g) => leadsTo(names, g.pattern));
}

/** The deeper of two paths when one lies within the other (`*` matching any name), else undefined. */
function deeper(a: string[], b: string[]): string[] | undefined {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  const merged = [...long];
  for (let i = 0; i < short.length; i++) {
    if (short[i] !== '*' && long[i] !== '*' && short[i] !== long[i]) return undefined;
    if (long[i] === '*') merged[i] = short[i]!;
  }
  return merged;
}

/** Throws 401 (anonymous: log in) or 403 (known, not allowed). */
export function deny(p: Principal, right: Right | 'use', what: string): never {
  if (p.kind === 'anonymous') throw new UnauthorizedError(`log in to ${right} ${what}`);
  throw new ForbiddenError(`${describe(p)} may not ${right} ${what}`);
}

/**
 * Refuses a write that the rules refuse whatever the tree holds, told by the names of its plain path alone (`names`
 * undefined: not a plain path, so only what it selects can tell): before a body is read or anything is selected.
 */
export function checkWritePath(p: Principal, names: string[] | undefined, right: Right, path: string): void {
  if (names && !rightsAt(p, names).has(right) && !leadsToRight(p, names, right)) deny(p, right, path);
}

/** Only an admin (or the server) writes hidden data (own:plugin ownership, au: capabilities). */
export function checkNoHiddenData(p: Principal, el: Element): void {
  if (!isAdmin(p) && containsHiddenData(el))
    throw new ForbiddenError(`${describe(p)} may not write namespaced (hidden) data such as own:… or au:…`);
}

export function checkRight(p: Principal, right: Right, node: Node, parent?: Node): void {
  const chain = ancestry(node, parent);
  if (!rightsAt(p, chain).has(right)) deny(p, right, '/' + chain.join('/'));
}

/**
 * Checks a written element and everything in it that changed: writing identities/jack whole must not slip in
 * an <admin>true</admin> that writing identities/jack/admin would be refused, but sending back one's identity
 * as read (with the admin flag and the secrets the server kept) is fine. `old` is the element it replaces.
 */
export function checkWrite(p: Principal, right: Right, el: Element, old?: Element): void {
  const chain = ancestry(el);
  const walk = (node: Element, before: Element | undefined, depth: number): void => {
    if (before && serialize(before, { show: SHOW_ALL }) === serialize(node, { show: SHOW_ALL })) return; // unchanged
    const here = chain.slice(0, depth);
    // A new, text-less container on the way to where the principal may write (identities/jack/plugindata
    // for a plugin's token) may be made; what goes inside it is checked in turn.
    const container = !before && !hasOwnText(node) && node.firstChild !== null && leadsToRight(p, here, right);
    if (!container && !rightsAt(p, here).has(right)) deny(p, right, '/' + here.join('/'));
    // Rules name at most 5 steps below /data: deeper than that, rights are those of the ancestor.
    if (depth >= 6) return;
    const seen = new Map<string, number>();
    for (let c = node.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      const k = seen.get(c.nodeName) ?? 0;
      seen.set(c.nodeName, k + 1);
      chain[depth] = c.nodeName;
      walk(c as Element, before && nthChild(before, c.nodeName, k), depth + 1);
    }
  };
  walk(el, old, chain.length);
}

function hasOwnText(el: Element): boolean {
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 3 && c.nodeValue?.trim()) return true;
  return el.attributes.length > 0;
}

/** Somewhere below `chain` the principal may exercise `right`. */
export function leadsToRight(p: Principal, chain: string[], right: Right): boolean {
  if (chain[0] !== 'data') return false;
  const names = chain.slice(1);
  const grants = grantsOf(p);
  return grants !== 'all' && grants.some((g) => g.rights.has(right) && leadsTo(names, g.pattern));
}

function nthChild(parent: Element, name: string, n: number): Element | undefined {
  for (let c = parent.firstChild; c; c = c.nextSibling) if (c.nodeName === name && n-- === 0) return c as Element;
  return undefined;
}

const RIGHT: Record<'PUT' | 'POST' | 'DELETE', Right> = { PUT: 'put', POST: 'post', DELETE: 'delete' };

/**
 * Checks every change of a mutation against the principal's rights, and (given `limits`) the quota of what it
 * fills (quotas.ts); undoes it all if one is refused.
 */
export function authoriseMutation(p: Principal, method: 'PUT' | 'POST' | 'DELETE', mutation: Mutation, limits?: QuotaLimits): Mutation {
  if (isAdmin(p)) return mutation;
  try {
    for (const e of mutation.events) {
      if (e.kind === 'delete' || e.node.nodeType !== 1) checkRight(p, RIGHT[method], e.node, e.parent);
      else checkWrite(p, RIGHT[method], e.node as Element, e.old);
    }
    if (limits) checkQuota(p, mutation, limits);
  } catch (err) {
    mutation.undo();
    throw err;
  }
  return mutation;
}
