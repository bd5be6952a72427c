/**
 * Walks along XPath's axes within a view, one node at a time, so that a step that needs only some of an axis
 * stops where it has them: `preceding-sibling::r[1]` looks at one neighbour, not at every reading before it.
 * Each walk gives the nodes the view admits in the axis's own order (reverse axes nearest first) to `visit`,
 * which answers whether to go on; the walk answers false when it was stopped.
 *
 * A second kind of walk goes the other way, from the axis's far end, for `[last()]` on the sibling, following
 * and preceding axes (the newest reading, `following-sibling::r[last()]`, is found at once from the end).
 */
import type { Axis } from './ast.ts';

const ELEMENT = 1;
const ATTRIBUTE = 2;

/** What exists for the walk: admits(n) is asked of a node only once its parent is known to exist. */
export interface Admission {
  admits(n: Node): boolean;
}

export type Visit = (n: Node) => boolean;

export function parentOf(n: Node): Node | null {
  return n.nodeType === ATTRIBUTE ? (n as Attr).ownerElement : n.parentNode;
}

function isNamespaceDeclaration(a: Node): boolean {
  const name = a.nodeName;
  return name === 'xmlns' || name.startsWith('xmlns:');
}

/** Every node of `axis` from `n`, in the axis's order, until `visit` says stop. */
export function walkAxis(axis: Axis, n: Node, world: Admission, visit: Visit): boolean {
  switch (axis) {
    case 'child':
      for (let c = n.firstChild; c; c = c.nextSibling) if (world.admits(c) && !visit(c)) return false;
      return true;
    case 'descendant':
      return descendants(n, world, visit);
    case 'descendant-or-self':
      return visit(n) && descendants(n, world, visit);
    case 'self':
      return visit(n);
    case 'parent': {
      const p = parentOf(n);
      return !p || visit(p);
    }
    case 'ancestor':
      for (let m = parentOf(n); m; m = parentOf(m)) if (!visit(m)) return false;
      return true;
    case 'ancestor-or-self':
      for (let m: Node | null = n; m; m = parentOf(m)) if (!visit(m)) return false;
      return true;
    case 'following-sibling':
      if (n.nodeType !== ATTRIBUTE) for (let m = n.nextSibling; m; m = m.nextSibling) if (world.admits(m) && !visit(m)) return false;
      return true;
    case 'preceding-sibling':
      if (n.nodeType !== ATTRIBUTE)
        for (let m = n.previousSibling; m; m = m.previousSibling) if (world.admits(m) && !visit(m)) return false;
      return true;
    case 'following':
      return following(n, world, visit);
    case 'preceding':
      return preceding(n, world, visit);
    case 'attribute':
      if (n.nodeType === ELEMENT) {
        const attrs = (n as Element).attributes;
        for (let i = 0; i < attrs.length; i++) {
          const a = attrs[i]!;
          if (!isNamespaceDeclaration(a) && world.admits(a) && !visit(a)) return false;
        }
      }
      return true;
    case 'namespace':
      return true; // namespace nodes are not modelled: the tree's namespaces are Igor's hidden data
  }
}

/** The admitted descendants of n, in document order. */
function descendants(n: Node, world: Admission, visit: Visit): boolean {
  const stack: Node[] = [];
  for (let c = n.lastChild; c; c = c.previousSibling) stack.push(c);
  while (stack.length) {
    const c = stack.pop()!;
    if (!world.admits(c)) continue;
    if (!visit(c)) return false;
    for (let g = c.lastChild; g; g = g.previousSibling) stack.push(g);
  }
  return true;
}

/**
 * The admitted descendants of n in reverse document order: for each child from the last, its own descendants
 * (so reversed) and then the child itself.
 */
function descendantsReversed(n: Node, world: Admission, visit: Visit): boolean {
  // A node on the stack is either to be opened (its subtree still to walk) or, once opened, to be visited.
  const stack: Node[] = [];
  const opened: boolean[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) stack.push(c), opened.push(false);
  while (stack.length) {
    const c = stack.pop()!;
    if (opened.pop()) {
      if (!visit(c)) return false;
      continue;
    }
    if (!world.admits(c)) continue;
    stack.push(c), opened.push(true);
    for (let g = c.firstChild; g; g = g.nextSibling) stack.push(g), opened.push(false);
  }
  return true;
}

/** Everything after n in document order but its own descendants: for an attribute, its element's content too. */
function following(n: Node, world: Admission, visit: Visit): boolean {
  let m: Node | null = n;
  if (n.nodeType === ATTRIBUTE) {
    m = (n as Attr).ownerElement;
    if (m && !descendants(m, world, visit)) return false;
  }
  for (; m; m = parentOf(m)) {
    for (let s = m.nextSibling; s; s = s.nextSibling) {
      if (!world.admits(s)) continue;
      if (!visit(s) || !descendants(s, world, visit)) return false;
    }
  }
  return true;
}

/** Everything before n in document order but its ancestors, nearest first. */
function preceding(n: Node, world: Admission, visit: Visit): boolean {
  for (let m: Node | null = n.nodeType === ATTRIBUTE ? (n as Attr).ownerElement : n; m; m = parentOf(m)) {
    for (let s = m.previousSibling; s; s = s.previousSibling) {
      if (!world.admits(s)) continue;
      if (!descendantsReversed(s, world, visit) || !visit(s)) return false;
    }
  }
  return true;
}

/** The axes whose far end a walk can start from (fromFarEnd). */
export const FAR_END_AXES: ReadonlySet<Axis> = new Set(['following-sibling', 'preceding-sibling', 'following', 'preceding']);

/**
 * The nodes of `axis` from `n` (one of FAR_END_AXES) in the reverse of the axis's order, until `visit` says
 * stop: the first one visited that a test accepts is the step's `[last()]`.
 */
export function fromFarEnd(axis: Axis, n: Node, world: Admission, visit: Visit): boolean {
  const element = n.nodeType === ATTRIBUTE ? (n as Attr).ownerElement : n;
  // The root (the document) has nothing before or after it, and no siblings.
  if (!element?.parentNode) return true;
  switch (axis) {
    case 'following-sibling':
      if (n.nodeType === ATTRIBUTE) return true;
      for (let m = n.parentNode?.lastChild ?? null; m && m !== n; m = m.previousSibling) if (world.admits(m) && !visit(m)) return false;
      return true;
    case 'preceding-sibling':
      if (n.nodeType === ATTRIBUTE) return true;
      for (let m = n.parentNode?.firstChild ?? null; m && m !== n; m = m.nextSibling) if (world.admits(m) && !visit(m)) return false;
      return true;
    case 'following': {
      // Backwards from the document's end, until n's own content (or, for an attribute, its element) is reached.
      const last = n.nodeType === ATTRIBUTE ? element : lastInside(element, world);
      let go = true;
      descendantsReversed(rootOf(element), world, (m) => m !== last && (go = visit(m)));
      return go;
    }
    case 'preceding': {
      // Forwards from the document's start, leaving out n's ancestors, until n is reached.
      const ancestors = new Set<Node>();
      for (let a: Node | null = element.parentNode; a; a = a.parentNode) ancestors.add(a);
      let go = true;
      descendants(rootOf(element), world, (m) => m !== element && (ancestors.has(m) || (go = visit(m))));
      return go;
    }
    default:
      throw new Error(`no far end for the ${axis} axis`);
  }
}

/** The last node in document order within n's subtree (n itself when it has no admitted content). */
function lastInside(n: Node, world: Admission): Node {
  let m = n;
  for (;;) {
    let c = m.lastChild;
    while (c && !world.admits(c)) c = c.previousSibling;
    if (!c) return m;
    m = c;
  }
}

export function rootOf(n: Node): Node {
  let m = n;
  for (let p = parentOf(m); p; p = parentOf(p)) m = p;
  return m;
}
