/**
 * How much of the tree anyone but an admin may fill: the sandbox (anonymous clients and everyone else share it),
 * and each user's own identities/U and people/U, hold at most --quota-elements elements and --quota-bytes bytes of
 * names, text and attribute values. A write by anyone but an admin, the server or a plugin at its own work, that
 * grows an area past either is refused (507, over_quota) and changes nothing; one that does not grow it always
 * passes, so an area over its quota can be cleaned up. Measured on the live tree, writes under way included, so
 * that many writes at once cannot slip past it together.
 */
import { InsufficientStorageError } from '../errors.ts';
import { ELEMENT_NODE } from '../tree/dom.ts';
import type { ChangeEvent, Mutation } from '../tree/tree.ts';
import { isAdmin, type Principal } from './principal.ts';

export interface QuotaLimits {
  quotaElements: number;
  quotaBytes: number;
}

interface Size {
  elements: number;
  bytes: number;
}

/** The area a change at `path` counts towards, as the paths of its roots, or undefined outside every area. */
function areaOf(path: string): { name: string; roots: string[] } | undefined {
  const [, data, top, owner] = path.split('/');
  if (data !== 'data') return undefined;
  if (top === 'sandbox') return { name: 'the sandbox', roots: ['/data/sandbox'] };
  if ((top === 'identities' || top === 'people') && owner) {
    const user = owner.replace(/\[\d+\]$/, '');
    return { name: `${user}'s own part of the tree`, roots: [`/data/identities/${user}`, `/data/people/${user}`] };
  }
  return undefined;
}

/** Elements and bytes of an element and everything in it, counting no further than `stopAt`. */
function sizeOf(el: Node, stopAt: Size = { elements: Infinity, bytes: Infinity }): Size {
  const size = { elements: 0, bytes: 0 };
  const stack: Node[] = [el];
  while (stack.length && size.elements <= stopAt.elements && size.bytes <= stopAt.bytes) {
    const n = stack.pop()!;
    if (n.nodeType !== ELEMENT_NODE) {
      size.bytes += n.nodeValue?.length ?? 0;
      continue;
    }
    size.elements++;
    size.bytes += n.nodeName.length;
    const attrs = (n as Element).attributes;
    for (let i = 0; i < attrs.length; i++) size.bytes += attrs[i]!.name.length + attrs[i]!.value.length;
    for (let c = n.firstChild; c; c = c.nextSibling) stack.push(c);
  }
  return size;
}

/** What a change adds to its area (negative: what it frees). */
function growth(e: ChangeEvent): Size {
  const now = e.kind === 'delete' ? { elements: 0, bytes: 0 } : sizeOf(e.node);
  const before = e.kind === 'delete' ? sizeOf(e.node) : e.old ? sizeOf(e.old) : { elements: 0, bytes: 0 };
  return { elements: now.elements - before.elements, bytes: now.bytes - before.bytes };
}

/** Throws 507 when the mutation (made, not yet durable) takes an area `p` writes past its quota. */
export function checkQuota(p: Principal, mutation: Mutation, limits: QuotaLimits): void {
  if (isAdmin(p) || (p.kind === 'plugin' && !p.caller)) return;
  const grown = new Map<string, { roots: string[]; by: Size; root: Node }>();
  for (const e of mutation.events) {
    const area = areaOf(e.path);
    if (!area) continue;
    const by = growth(e);
    const known = grown.get(area.name);
    if (known) {
      known.by.elements += by.elements;
      known.by.bytes += by.bytes;
    } else grown.set(area.name, { roots: area.roots, by, root: e.parent?.ownerDocument ?? e.node.ownerDocument! });
  }
  for (const [name, { roots, by, root }] of grown) {
    if (by.elements <= 0 && by.bytes <= 0) continue;
    const limit = { elements: limits.quotaElements, bytes: limits.quotaBytes };
    const total = { elements: 0, bytes: 0 };
    for (const el of roots.map((r) => elementAt(root, r)).filter((n): n is Element => n !== undefined)) {
      const size = sizeOf(el, limit);
      total.elements += size.elements;
      total.bytes += size.bytes;
    }
    if (total.elements > limit.elements || total.bytes > limit.bytes) {
      throw new InsufficientStorageError(
        `${name} would hold more than ${total.elements > limit.elements ? `${limit.elements} elements (--quota-elements)` : `${limit.bytes} bytes (--quota-bytes)`}; delete something there first`,
        'over_quota',
      );
    }
  }
}

/** The element at a plain path of names below the document, if there is one. */
function elementAt(doc: Node, path: string): Element | undefined {
  let n: Node | null | undefined = doc;
  for (const name of path.split('/').filter(Boolean)) {
    let c: Node | null = n!.firstChild;
    while (c && !(c.nodeType === ELEMENT_NODE && c.nodeName === name)) c = c.nextSibling;
    n = c;
    if (!n) return undefined;
  }
  return n as Element;
}
