/**
 * The one rule for what of the tree exists for a principal. Every read goes through it: /data (the path,
 * its predicates, functions and axes), /evaluate, /events, a plugin's tree access, actions' conditions and
 * templates, and the selection of what a write changes. What a principal may not see is not hidden from
 * its answers afterwards; it is absent from the tree its query runs over (xpath/evaluate.ts walks only what
 * a Visibility admits), so no predicate, function or error message can tell it is there.
 *
 * By purpose:
 * - 'read': a client's read. Never Igor's hidden (namespaced) data, never secrets; otherwise what the
 *   policy lets the principal read, and the containers on the way to it.
 * - 'raw': the same, but an admin (or the server) gets everything, hidden data and secrets included.
 * - 'plugin': a plugin's read for its own work. Secrets only where the plugin may write them (its client_secret,
 *   its users' tokens); never hidden data. A plugin acting for a caller reads as 'read': no secrets, as the
 *   caller reads none.
 * - 'write': where a write may look: what the principal may read, plus where it may write (a device's token
 *   may write without reading), plus the secrets it may change. An admin's writes see everything.
 *
 * Visibility goes by names: whether an element exists for a principal follows from the names of the
 * elements from the root down to it, and an element exists only if its parent does.
 */
import { ATTRIBUTE_NODE, DOCUMENT_NODE, ELEMENT_NODE, isHidden, type Show } from '../tree/dom.ts';
import type { WriteOptions } from '../tree/tree.ts';
import type { View } from '../tree/xpath.ts';
import { parseSimplePath } from '../tree/simplePath.ts';
import { canSee, leadsToRight, rightsAt } from './policy.ts';
import { isAdmin, type Principal } from './principal.ts';

export type Purpose = 'read' | 'raw' | 'plugin' | 'write';

/**
 * Secrets: element (and attribute) names whose content is never shown but to an admin asking raw
 * (passwords, client secrets, OAuth and API tokens, sessions), wherever they are in the tree, and any name
 * ending in `Secret` or `_secret` (isSecretName).
 */
export const SECRET_NAMES: ReadonlySet<string> = new Set([
  'encryptedPassword',
  'password',
  'client_secret',
  'secret',
  'token',
  'token_id',
  'access_token',
  'refresh_token',
  'apiTokens',
  'loginSessions',
]);

/** A name that says it is a secret (a plugin's `webhookSecret`, an `api_secret`) is one too. */
const SAYS_SECRET = /(?:Secret|_secret)$/;

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(name) || SAYS_SECRET.test(name);
}

/** What a client could not see of an element it replaces, and so could not send back: kept by a PUT. */
export function unseenByWriters(node: Node): boolean {
  return isHidden(node) || isSecretName(node.nodeName);
}

export interface Visibility extends View {
  /** Everything exists: the server itself, or an admin asking raw. */
  readonly everything: boolean;
  /** For serialising: a node is shown when admits() says so (asked top down, as serialising walks). */
  readonly show: Show;
  /** Whether the element whose names from the root are `chain` exists (with `attribute`: that attribute of it). */
  admitsChain(chain: readonly string[], attribute?: string): boolean;
  /** A view of a subtree that is not (or no longer) in the tree, whose root was at `chain`. */
  detached(root: Node, chain: readonly string[]): View & { show: Show };
}

interface ParentRule {
  chain: string[];
  admitted: boolean;
  children: Map<string, boolean>;
}

type ChildRule = (chain: readonly string[], name: string) => boolean;

const WRITE_RIGHTS = ['put', 'post', 'delete'] as const;

/** Whether a child named `name` of an admitted element at `chain` is admitted too. */
function childRule(p: Principal, purpose: Purpose): ChildRule | 'everything' {
  const admin = isAdmin(p);
  if (admin && (purpose === 'raw' || purpose === 'write')) return 'everything';
  const at = (chain: readonly string[], name: string) => [...chain, name];
  if (admin) return (_chain, name) => !hiddenName(name) && !isSecretName(name);
  switch (purpose) {
    case 'read':
    case 'raw':
      return (chain, name) => !hiddenName(name) && !isSecretName(name) && canSee(p, at(chain, name));
    case 'plugin':
      if (p.kind === 'plugin' && p.caller) return childRule(p, 'read');
      return (chain, name) => {
        if (hiddenName(name)) return false;
        const here = at(chain, name);
        if (isSecretName(name) && !rightsAt(p, here).has('put')) return false;
        return canSee(p, here);
      };
    case 'write':
      return (chain, name) => {
        if (hiddenName(name)) return false;
        const here = at(chain, name);
        const rights = rightsAt(p, here);
        const writes = WRITE_RIGHTS.some((r) => rights.has(r));
        if (isSecretName(name)) return writes;
        return writes || canSee(p, here) || WRITE_RIGHTS.some((r) => leadsToRight(p, here, r));
      };
  }
}

function hiddenName(name: string): boolean {
  return name.includes(':') || name === 'xmlns';
}

/**
 * Hidden data is namespaced data, whatever its name says: `<capability xmlns="…">` declares its namespace as the
 * default one, and has no prefix to tell.
 */
function inNamespace(n: Node): boolean {
  return n.nodeType === ELEMENT_NODE && !!(n as Element).namespaceURI;
}

class NamedVisibility implements Visibility {
  readonly everything: boolean;
  private readonly rule: ChildRule;
  private readonly parents = new WeakMap<Node, ParentRule>();
  private readonly root: ParentRule = { chain: [], admitted: true, children: new Map() };
  readonly show: Show = (n) => this.admits(n);

  constructor(p: Principal, purpose: Purpose) {
    const rule = childRule(p, purpose);
    this.everything = rule === 'everything';
    this.rule = rule === 'everything' ? () => true : rule;
  }

  private child(parent: ParentRule, name: string): boolean {
    if (!parent.admitted) return false;
    let known = parent.children.get(name);
    if (known === undefined) parent.children.set(name, (known = this.rule(parent.chain, name)));
    return known;
  }

  /** The rule for the children of `el`, worked out once per element (from its nearest known ancestor down). */
  private parentRule(el: Node): ParentRule {
    const known = this.parents.get(el);
    if (known) return known;
    const path: Node[] = [];
    let rule: ParentRule | undefined;
    for (let n: Node | null = el; n; n = n.parentNode) {
      if (n.nodeType === DOCUMENT_NODE) {
        rule = this.root;
        break;
      }
      const cached = this.parents.get(n);
      if (cached) {
        rule = cached;
        break;
      }
      path.push(n);
    }
    // Not under a document: not in the tree (and nothing is remembered about it).
    if (!rule) return { chain: [], admitted: false, children: new Map() };
    for (let i = path.length - 1; i >= 0; i--) {
      const n = path[i]!;
      const admitted = !inNamespace(n) && this.child(rule, n.nodeName);
      const next: ParentRule = { chain: [...rule.chain, n.nodeName], admitted, children: new Map() };
      this.parents.set(n, next);
      rule = next;
    }
    return rule;
  }

  admits(n: Node): boolean {
    if (this.everything) return true;
    switch (n.nodeType) {
      case DOCUMENT_NODE:
        return true;
      case ELEMENT_NODE: {
        const parent = n.parentNode;
        if (!parent || inNamespace(n)) return false;
        return this.child(parent.nodeType === DOCUMENT_NODE ? this.root : this.parentRule(parent), n.nodeName);
      }
      case ATTRIBUTE_NODE: {
        const owner = (n as Attr).ownerElement;
        if (!owner || !this.admits(owner)) return false;
        return this.attribute(this.parentRule(owner), n.nodeName);
      }
      default: {
        // Text inside an element exists with it; nothing else stands beside the root element.
        const parent = n.parentNode;
        return !!parent && parent.nodeType === ELEMENT_NODE && this.parentRule(parent).admitted;
      }
    }
  }

  private attribute(owner: ParentRule, name: string): boolean {
    return owner.admitted && !hiddenName(name) && !isSecretName(name);
  }

  admitsChain(chain: readonly string[], attribute?: string): boolean {
    if (this.everything) return true;
    let rule = this.root;
    for (const name of chain) {
      const admitted = this.child(rule, name);
      rule = { chain: [...rule.chain, name], admitted, children: new Map() };
      if (!admitted) return false;
    }
    return attribute === undefined || this.attribute(rule, attribute);
  }

  detached(root: Node, chain: readonly string[]): View & { show: Show } {
    const admits = (n: Node): boolean => {
      if (this.everything) return true;
      if (n.nodeType === ATTRIBUTE_NODE) {
        const owner = (n as Attr).ownerElement;
        return !!owner && admits(owner) && this.admitsChain(namesBetween(root, owner, chain), n.nodeName);
      }
      if (n.nodeType !== ELEMENT_NODE) return !!n.parentNode && (n.parentNode === root ? this.admitsChain(chain) : admits(n.parentNode));
      for (let m: Node | null = n; m && m !== root.parentNode; m = m.parentNode) if (inNamespace(m)) return false;
      return this.admitsChain(namesBetween(root, n, chain));
    };
    return { admits, show: admits };
  }
}

/** The names from the tree's root to `n`, for `n` inside a detached subtree whose root was at `base`. */
function namesBetween(root: Node, n: Node, base: readonly string[]): string[] {
  const names: string[] = [];
  for (let m: Node | null = n; m && m !== root; m = m.parentNode) names.push(m.nodeName);
  return [...base, ...names.reverse()];
}

/** Visibilities are kept per principal and purpose: the per-element rules they work out stay valid. */
const cache = new Map<string, Visibility>();
const CACHE_LIMIT = 200;

function keyOf(p: Principal): string {
  switch (p.kind) {
    case 'anonymous':
    case 'system':
      return p.kind;
    case 'user':
      return `user:${p.name}:${p.admin}:${p.scope ? `${p.scope.path.join('/')}:${[...p.scope.rights].sort().join(',')}` : ''}`;
    case 'plugin':
      return `plugin:${p.name}:${JSON.stringify([p.writes ?? [], p.forCallers ?? []])}:${p.caller ? keyOf(p.caller) : ''}`;
  }
}

/** The same principal object asks again and again (authenticate reuses them): found without building a key. */
const byObject = new WeakMap<Principal, Partial<Record<Purpose, Visibility>>>();

export function visibilityFor(p: Principal, purpose: Purpose): Visibility {
  let mine = byObject.get(p);
  const known = mine?.[purpose];
  if (known) return known;
  const v = visibilityByKey(p, purpose);
  if (!mine) byObject.set(p, (mine = {}));
  mine[purpose] = v;
  return v;
}

function visibilityByKey(p: Principal, purpose: Purpose): Visibility {
  // A non-admin's raw read is a read.
  const effective = purpose === 'raw' && !isAdmin(p) ? 'read' : purpose;
  const key = `${effective}|${keyOf(p)}`;
  let v = cache.get(key);
  if (v) {
    cache.delete(key); // most recently used last
    cache.set(key, v);
    return v;
  }
  v = new NamedVisibility(p, effective);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, v);
  return v;
}

/**
 * How a principal's write of `path` selects, and what it keeps. A plain path (names and positions) reaches by
 * name what the writer may write, whether or not it may read it (a device's token that only writes). Any other
 * path — a predicate, a function — is evaluated over what the writer may read only: what it may overwrite but
 * not read is never tested, so neither an answer nor the time it takes tells anything about it.
 * What writers never see (secrets, hidden data) is kept when they replace an element.
 */
export function writeOptions(p: Principal, path: string): WriteOptions {
  const write = visibilityFor(p, 'write');
  if (write.everything) return { unseen: unseenByWriters };
  const view = parseSimplePath(path) ? write : visibilityFor(p, p.kind === 'plugin' && !p.caller ? 'plugin' : 'read');
  return { view: viewOf(view), unseen: unseenByWriters };
}

/** The view to hand an evaluation: none when everything exists (the evaluator then checks nothing). */
export function viewOf(v: Visibility): View | undefined {
  return v.everything ? undefined : v;
}
