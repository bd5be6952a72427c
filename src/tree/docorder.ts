/**
 * Makes document-order comparison cheap for the `xpath` engine over @xmldom/xmldom.
 *
 * Out of the box both are quadratic in the number of siblings (upstream goto100/xpath#97): the engine sorts
 * node-sets with an AVL tree whose comparisons scan the parent's whole child list, and de-duplicates every
 * added node with a linear search. A sensor time series with 10,000 readings under one parent took ~29 s
 * for `series/reading[last()]`. We replace the DOM's compareDocumentPosition with one that uses cached
 * sibling indices (rebuilt lazily, only for a parent whose children changed) and give node-sets a hash set for
 * de-duplication. bench/xpath-siblings.ts measures the effect.
 */
import { Node as DomNode } from '@xmldom/xmldom';
import xpath from 'xpath';
import { childrenToken, installChildTracking, onAppend } from './children.ts';
import { tick } from './xpathBudget.ts';

const INDEX = Symbol('igor.siblingIndex');
const INDEX_TOKEN = Symbol('igor.siblingIndexToken');

interface Indexed {
  [INDEX]?: number;
  [INDEX_TOKEN]?: object;
}

const ATTRIBUTE_NODE = 2;
const DOCUMENT_POSITION_PRECEDING = 2;
const DOCUMENT_POSITION_FOLLOWING = 4;
const DOCUMENT_POSITION_CONTAINS = 8;
const DOCUMENT_POSITION_CONTAINED_BY = 16;

function parentOf(n: Node): Node | null {
  return n.nodeType === ATTRIBUTE_NODE ? (n as Attr).ownerElement : n.parentNode;
}

/** Position among the parent's children; attributes sort before all children. */
function indexOf(n: Node): number {
  if (n.nodeType === ATTRIBUTE_NODE) {
    const attrs = (n as Attr).ownerElement!.attributes;
    for (let i = 0; i < attrs.length; i++) if (attrs[i] === n) return i - attrs.length;
    return -1;
  }
  const node = n as Node & Indexed;
  const token = childrenToken(n.parentNode!);
  if (node[INDEX_TOKEN] !== token) {
    // The parent's children changed since they were numbered: number them again, once.
    let i = 0;
    for (let c = n.parentNode!.firstChild; c; c = c.nextSibling) {
      const ic = c as Node & Indexed;
      ic[INDEX] = i++;
      ic[INDEX_TOKEN] = token;
    }
  }
  return node[INDEX]!;
}

function ancestry(n: Node): Node[] {
  const chain: Node[] = [];
  for (let m: Node | null = n; m; m = parentOf(m)) chain.push(m);
  return chain.reverse();
}

// A child appended at the end of numbered siblings is simply the next number.
onAppend((parent, child, token) => {
  const previous = child.previousSibling as (Node & Indexed) | null;
  const c = child as Node & Indexed;
  if (!previous) {
    c[INDEX] = 0;
    c[INDEX_TOKEN] = token;
  } else if (previous[INDEX_TOKEN] === token) {
    c[INDEX] = previous[INDEX]! + 1;
    c[INDEX_TOKEN] = token;
  }
  void parent;
});

let installed = false;

export function installFastDocumentOrder(): void {
  if (installed) return;
  installed = true;
  installChildTracking();
  const proto = DomNode.prototype as unknown as { compareDocumentPosition(this: Node, other: Node): number };
  const original = proto.compareDocumentPosition;
  proto.compareDocumentPosition = function (this: Node, other: Node): number {
    if (this === other) return 0;
    if (typeof (other as { nodeType?: unknown }).nodeType !== 'number') return original.call(this, other);
    const parent = parentOf(this);
    if (parent && parent === parentOf(other)) {
      return indexOf(other) < indexOf(this) ? DOCUMENT_POSITION_PRECEDING : DOCUMENT_POSITION_FOLLOWING;
    }
    const mine = ancestry(this);
    const theirs = ancestry(other);
    if (mine[0] !== theirs[0]) return original.call(this, other); // different trees: xmldom decides
    let i = 0;
    while (i < mine.length && i < theirs.length && mine[i] === theirs[i]) i++;
    if (i === mine.length) return DOCUMENT_POSITION_CONTAINED_BY | DOCUMENT_POSITION_FOLLOWING;
    if (i === theirs.length) return DOCUMENT_POSITION_CONTAINS | DOCUMENT_POSITION_PRECEDING;
    return indexOf(theirs[i]!) < indexOf(mine[i]!) ? DOCUMENT_POSITION_PRECEDING : DOCUMENT_POSITION_FOLLOWING;
  };

  const SEEN = Symbol('igor.seen');
  type NodeSet = { nodes: Node[]; size: number; tree: unknown; [SEEN]?: Set<Node> };
  const nodeSet = xpath.XNodeSet.prototype as unknown as {
    init(this: NodeSet): void;
    add(this: NodeSet, n: Node): void;
  };
  // Each predicate test is a step of work too (xpathBudget).
  const pathExpr = (xpath as unknown as { PathExpr: { predicateMatches(pred: unknown, c: unknown): boolean } }).PathExpr;
  const predicateMatches = pathExpr.predicateMatches;
  pathExpr.predicateMatches = (pred, c) => {
    tick();
    return predicateMatches(pred, c);
  };
  const init = nodeSet.init;
  nodeSet.init = function (this: NodeSet) {
    init.call(this);
    this[SEEN] = undefined;
  };
  nodeSet.add = function (this: NodeSet, n: Node) {
    tick();
    let seen = this[SEEN];
    if (!seen) seen = this[SEEN] = new Set(this.nodes);
    if (seen.has(n)) return;
    seen.add(n);
    this.tree = null;
    this.nodes.push(n);
    this.size += 1;
  };
}
