/**
 * The in-memory state tree: one XML document, root `<data>`, read and changed by XPath.
 *
 * Every change is made synchronously in one go, so a reader never sees half of it, and is described by a
 * Mutation: the journal operations that replay it, the change events it causes, and how to undo it (used
 * when it cannot be made durable). Persisting and announcing mutations is the store's job (src/store).
 *
 * Every change to the document's nodes, undoes included, is made through children.ts's functions, which keep
 * the per-parent caches the readers use (children by name, counts of changes below each node) right; calling
 * the DOM's own methods here would leave them stale (test/tree/change-tracking.test.ts).
 */
import { BadRequestError } from '../errors.ts';
import { appendChild, insertBefore, removeAttributeNode, removeChild, replaceChild, setAttributeNode, trackChanges } from './children.ts';
import { ATTRIBUTE_NODE, DOCUMENT_NODE, ELEMENT_NODE, isHidden, SHOW_ALL } from './dom.ts';
import { normalize, parseXml } from './parseXml.ts';
import { refOf } from './refs.ts';
import { serialize } from './serialize.ts';
import { isXmlName } from './xmlNames.ts';
import { splitLastStep } from './paths.ts';
import { parseSimplePath, walkSimplePath } from './simplePath.ts';
import { evaluate, selectNodes, type EvaluateOptions, type View, type XPathValue } from './xpath.ts';

/** One step of a journal record; paths are references as refOf gives them, valid at replay time. */
export type JournalOp =
  | { op: 'replace'; path: string; xml: string }
  | { op: 'append'; parent: string; xml: string }
  | { op: 'delete'; path: string };

export interface ChangeEvent {
  kind: 'add' | 'replace' | 'delete';
  /** Reference of the changed node (for deletes: where it was). */
  path: string;
  /** The new node (add, replace) or the removed one (delete). */
  node: Node;
  /** The parent it is (or was) under. */
  parent: Element;
  /** For a replace: the element it replaced. */
  old?: Element;
}

export interface Mutation {
  /** Reference of the element written (PUT/POST), '' for deletes. */
  ref: string;
  ops: JournalOp[];
  events: ChangeEvent[];
  /** Reverts the change; only valid while no later mutation depends on it. */
  undo(): void;
}

const NOTHING: Omit<Mutation, 'ref'> = { ops: [], events: [], undo: () => {} };

/** Who writes: what its path may select, and what of a replaced element it could not see (and so keeps). */
export interface WriteOptions {
  /** The writer's view: its path and predicates select among these nodes only. Everything when not given. */
  view?: View;
  /** Nodes of a replaced element the writer could not see, carried into the new one. Default: hidden data. */
  unseen?: (node: Node) => boolean;
  /** A time limit for evaluating the path, shorter than the server's. */
  timeLimitMs?: number;
}

/** The deepest nesting the tree takes by default (/data is 1): --max-depth. */
export const DEFAULT_MAX_DEPTH = 256;

export class Tree {
  /** The deepest an element may be (/data is 1); whatever enters the tree is checked against it. */
  maxDepth = DEFAULT_MAX_DEPTH;

  constructor(readonly doc: Document) {
    if (doc.documentElement?.nodeName !== 'data') throw new BadRequestError('the database root element must be <data>');
    trackChanges(doc);
    // The tree is its root element: what a file holds beside it (declarations, whitespace) is not data.
    for (let n = doc.firstChild; n; ) {
      const next = n.nextSibling;
      if (n !== doc.documentElement) removeChild(doc, n);
      n = next;
    }
  }

  get root(): Element {
    return this.doc.documentElement!;
  }

  evaluate(expression: string, context: Node = this.doc, options?: EvaluateOptions): XPathValue {
    return evaluate(expression, context, options);
  }

  select(expression: string, context: Node = this.doc, options?: EvaluateOptions): Node[] {
    return selectNodes(expression, context, options);
  }

  /** Makes `el` (from any document) into a node of this tree. */
  adopt(el: Element): Element {
    // Deeper than the tree may hold is refused before it is copied in (checkEntering says so again, with where).
    if (el.ownerDocument !== this.doc) refuseTooDeep(el, this.maxDepth);
    const own = el.ownerDocument === this.doc ? el : (this.doc.importNode(el, true) as Element);
    // As the loader will read it back (whitespace between elements dropped, adjacent texts joined), so that
    // the tree after a restart is the tree now, whether the element came as XML, JSON or from code. (Through the
    // DOM itself: `own` is not in the tree yet, a copy or an element made for it, so no cache knows it.)
    normalize(own);
    // Declarations the root already makes are noise once the element is in the tree.
    for (let i = own.attributes.length - 1; i >= 0; i--) {
      const a = own.attributes[i]!;
      if (a.prefix === 'xmlns' && this.root.getAttribute(a.name) === a.value) removeAttributeNode(own, a);
    }
    return own;
  }

  /** PUT: replace the one element `path` selects, or create it (and missing parents) if there is none. */
  put(path: string, element: Element, options: WriteOptions = {}): Mutation {
    const matches = this.elementsFor(path, 'PUT', options);
    if (matches.length > 1) throw new BadRequestError(`${path} selects ${matches.length} elements; PUT needs one`, 'selects_many');
    const el = this.adopt(element);
    return this.admitted(
      matches.length === 0 ? this.create(path, el, options) : this.replace(matches[0]!, el, options.unseen ?? isHidden),
      el,
    );
  }

  /** POST: append a new element after the ones `path` selects (all must share a parent), or create it. */
  post(path: string, element: Element, options: WriteOptions = {}): Mutation {
    const el = this.adopt(element);
    // The common case, `list/item` under one list: append without selecting every existing item (a long
    // series would make each POST cost its length). Same result: all matches are children of that parent.
    const { parent: parentPath, step, tag } = splitLastStep(path);
    if (step === tag && parentPath !== '') {
      const parents = this.select(parentPath, this.doc, options);
      if (parents.length === 1 && parents[0]!.nodeType === ELEMENT_NODE && parents[0] !== this.root) {
        return this.admitted(this.append(parents[0] as Element, el), el);
      }
    }
    const matches = this.elementsFor(path, 'POST', options);
    if (matches.length === 0) return this.admitted(this.create(path, el, options), el);
    if (matches.includes(this.root)) throw new BadRequestError(`${path}: the tree has one root, /data; POST to an element under it`);
    const parent = matches[0]!.parentNode as Element;
    if (matches.some((m) => m.parentNode !== parent)) {
      throw new BadRequestError(`${path} selects elements under different parents; POST needs them under one`);
    }
    if (parent === this.root) {
      throw new BadRequestError(`${path}: top-level elements are unique; POST to a child of ${refOf(matches[0]!)} instead`);
    }
    return this.admitted(this.append(parent, el), el);
  }

  /**
   * The one gate for what enters the tree, however it came (XML with character references, JSON, text, forms,
   * plugins, actions): every name is one XML reads back, every text and attribute value holds only characters
   * XML can hold, and nothing is deeper than maxDepth. A change that fails is undone and refused, so the tree
   * can always be saved and loaded again.
   */
  private admitted(m: Mutation, el: Element): Mutation {
    try {
      checkEntering(el, depthOf(el), this.maxDepth);
    } catch (err) {
      m.undo();
      throw err;
    }
    return m;
  }

  /** DELETE: remove every element or attribute `path` selects. */
  delete(path: string, options: WriteOptions = {}): Mutation {
    const nodes = this.select(path, this.doc, options);
    for (const n of nodes) {
      if (n === this.root || n.nodeType === DOCUMENT_NODE) throw new BadRequestError('the root element /data cannot be deleted');
      if (n.nodeType !== ELEMENT_NODE && n.nodeType !== ATTRIBUTE_NODE) {
        throw new BadRequestError(`${path} selects text; only elements and attributes can be deleted`);
      }
    }
    const ops: JournalOp[] = [];
    const events: ChangeEvent[] = [];
    const undos: (() => void)[] = [];
    // Last first: removing a later node never changes the reference of an earlier one.
    for (const n of [...nodes].reverse()) {
      const ref = refOf(n);
      if (n.nodeType === ATTRIBUTE_NODE) {
        const attr = n as Attr;
        const owner = attr.ownerElement!;
        removeAttributeNode(owner, attr);
        undos.push(() => setAttributeNode(owner, attr));
        events.push({ kind: 'delete', path: ref, node: attr, parent: owner });
      } else {
        const parent = n.parentNode as Element;
        const next = n.nextSibling;
        removeChild(parent, n);
        undos.push(() => insertBefore(parent, n, next));
        events.push({ kind: 'delete', path: ref, node: n, parent });
      }
      ops.push({ op: 'delete', path: ref });
    }
    return {
      ref: '',
      ops,
      events,
      undo: () => {
        for (const u of undos.reverse()) u();
      },
    };
  }

  /** Replays one journal operation (at start-up); answers how to undo it. */
  apply(op: JournalOp): () => void {
    if (op.op === 'delete') {
      const node = this.resolveRef(op.path);
      if (node.nodeType === ATTRIBUTE_NODE) {
        const owner = (node as Attr).ownerElement!;
        removeAttributeNode(owner, node as Attr);
        return () => setAttributeNode(owner, node as Attr);
      }
      const parent = node.parentNode!;
      const next = node.nextSibling;
      removeChild(parent, node);
      return () => insertBefore(parent, node, next);
    }
    const el = this.adopt(parseXml(op.xml, 'journal record').documentElement!);
    if (op.op === 'append') {
      const parent = this.resolveRef(op.parent);
      appendChild(parent, el);
      return () => removeChild(parent, el);
    }
    const old = this.resolveRef(op.path);
    const parent = old.parentNode!;
    replaceChild(parent, el, old);
    return () => replaceChild(parent, old, el);
  }

  /** Replays the operations of one record, all or none: if one cannot be applied, those before it are undone. */
  applyAll(ops: readonly JournalOp[]): void {
    const undos: (() => void)[] = [];
    try {
      for (const op of ops) undos.push(this.apply(op));
    } catch (err) {
      for (const undo of undos.reverse()) undo();
      throw err;
    }
  }

  private resolveRef(ref: string): Node {
    const at = ref.lastIndexOf('/@');
    const elementRef = at >= 0 ? ref.slice(0, at) : ref;
    const steps = parseSimplePath(elementRef, true);
    const found = steps && walkSimplePath(this.doc, steps, undefined, 'reference');
    if (!found || found.length !== 1) throw new Error(`journal refers to ${ref}, which is not in the tree`);
    if (at < 0) return found[0]!;
    const attr = (found[0] as Element).getAttributeNode(ref.slice(at + 2));
    if (!attr) throw new Error(`journal refers to ${ref}, which is not in the tree`);
    return attr;
  }

  private elementsFor(path: string, method: string, options: WriteOptions): Element[] {
    const nodes = this.select(path, this.doc, options);
    for (const n of nodes) {
      if (n.nodeType !== ELEMENT_NODE)
        throw new BadRequestError(`${path} selects something other than an element; ${method} needs elements`);
    }
    return nodes as Element[];
  }

  /** Attaches `el` at `path`, creating missing ancestors (tags from the path's steps, predicates dropped). */
  private create(path: string, el: Element, options: WriteOptions): Mutation {
    const { parent: parentPath } = splitLastStep(path);
    if (parentPath === '') throw new BadRequestError(`${path}: the tree has one root, /data; create elements under it`);
    const parents = this.select(parentPath, this.doc, options);
    if (parents.length > 1)
      throw new BadRequestError(`${parentPath} selects ${parents.length} elements; cannot tell where to create ${path}`);
    if (parents.length === 1) {
      if (parents[0]!.nodeType !== ELEMENT_NODE) throw new BadRequestError(`${parentPath} is not an element; cannot create ${path} in it`);
      return this.append(parents[0] as Element, el);
    }
    const { tag } = splitLastStep(parentPath);
    const wrapper = this.doc.createElement(tag);
    appendChild(wrapper, el);
    const outer = this.create(parentPath, wrapper, options);
    return { ...outer, ref: refOf(el) };
  }

  private append(parent: Element, el: Element): Mutation {
    const parentRef = refOf(parent);
    appendChild(parent, el);
    const ref = refOf(el);
    return {
      ref,
      ops: [{ op: 'append', parent: parentRef, xml: serialize(el, { show: SHOW_ALL }) }],
      events: [{ kind: 'add', path: ref, node: el, parent }],
      undo: () => removeChild(parent, el),
    };
  }

  private replace(old: Element, el: Element, unseen: (node: Node) => boolean): Mutation {
    if (old === this.root) throw new BadRequestError('the root element /data cannot be replaced');
    carryUnseenData(old, el, unseen);
    const ref = refOf(old);
    if (serialize(old, { show: SHOW_ALL }) === serialize(el, { show: SHOW_ALL })) return { ref, ...NOTHING };
    const parent = old.parentNode as Element;
    replaceChild(parent, el, old);
    return {
      ref,
      ops: [{ op: 'replace', path: ref, xml: serialize(el, { show: SHOW_ALL }) }],
      events: [{ kind: 'replace', path: ref, node: el, parent, old }],
      undo: () => replaceChild(parent, old, el),
    };
  }
}

/**
 * A client replacing an element sees and sends only what it is shown: not the hidden part (own:plugin
 * ownership, au:capability children) nor secrets (passwords, tokens). Those (`unseen`) stay with the element
 * instead of being lost (as hidden data is in Igor), at every level: the same-named child in the same
 * position is matched up. Removing them takes an explicit DELETE. Linear in the size of the old element.
 */
function carryUnseenData(from: Element, to: Element, unseen: (node: Node) => boolean): void {
  for (let i = 0; i < from.attributes.length; i++) {
    const a = from.attributes[i]!;
    if (unseen(a) && !to.hasAttribute(a.name)) setAttributeNode(to, a.cloneNode(true) as Attr);
  }
  const targets = new Map<string, Element[]>();
  let toHasHidden = false;
  for (let c = to.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== ELEMENT_NODE) continue;
    if (isHidden(c)) toHasHidden = true;
    const list = targets.get(c.nodeName);
    if (list) list.push(c as Element);
    else targets.set(c.nodeName, [c as Element]);
  }
  const seen = new Map<string, number>();
  for (let c = from.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== ELEMENT_NODE) continue;
    const name = c.nodeName;
    if (isHidden(c)) {
      if (unseen(c) && !toHasHidden) appendChild(to, c.cloneNode(true));
    } else if (unseen(c)) {
      if (!targets.has(name)) appendChild(to, c.cloneNode(true));
    } else {
      const k = seen.get(name) ?? 0;
      seen.set(name, k + 1);
      const match = targets.get(name)?.[k];
      if (match && (c.firstChild || (c as Element).attributes.length)) carryUnseenData(c as Element, match, unseen);
    }
  }
}

/** Refuses an element whose own depth alone is over what the tree holds (iteratively: it may be very deep). */
function refuseTooDeep(el: Element, maxDepth: number): void {
  const stack: [Element, number][] = [[el, 1]];
  while (stack.length) {
    const [n, d] = stack.pop()!;
    if (d > maxDepth)
      throw new BadRequestError(
        `the element ${el.nodeName} nests elements more than ${maxDepth} levels deep; the most is ${maxDepth} (--max-depth)`,
        'too_deep',
      );
    for (let c = n.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) stack.push([c as Element, d + 1]);
  }
}

function depthOf(el: Node): number {
  let depth = 0;
  for (let n: Node | null = el; n && n.nodeType === ELEMENT_NODE; n = n.parentNode) depth++;
  return depth;
}

const ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function refuseCharacter(el: Element, value: string, what: string): void {
  const bad = ILLEGAL.exec(value);
  if (!bad) return;
  const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  const at = [...value.slice(0, bad.index)].length + 1;
  throw new BadRequestError(`${refOf(el)}: ${what} holds U+${code} at character ${at}, a character XML cannot hold`, 'bad_character');
}

/** Checks an element entering the tree at `depth` (see Tree.admitted); iterative, so any input is checked. */
function checkEntering(root: Element, depth: number, maxDepth: number): void {
  const stack: [Element, number][] = [[root, depth]];
  while (stack.length) {
    const [el, d] = stack.pop()!;
    if (d > maxDepth) {
      throw new BadRequestError(
        `${refOf(root)}: this would nest elements ${d} levels deep (counting /data as 1); the most is ${maxDepth} (--max-depth)`,
        'too_deep',
      );
    }
    if (!isXmlName(el.nodeName))
      throw new BadRequestError(`${refOf(root)}: "${el.nodeName}" cannot be an element's name in XML`, 'bad_name');
    for (let i = 0; i < el.attributes.length; i++) {
      const { name, value } = el.attributes[i]!;
      if (!isXmlName(name)) throw new BadRequestError(`${refOf(el)}: "${name}" cannot be an attribute's name in XML`, 'bad_name');
      refuseCharacter(el, value, `the attribute ${name}`);
    }
    for (let c = el.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === ELEMENT_NODE) stack.push([c as Element, d + 1]);
      else refuseCharacter(el, c.nodeValue ?? '', 'the text');
    }
  }
}

/** Several mutations made together as one: journaled as one record, undone together, last first. */
export function combine(mutations: Mutation[]): Mutation {
  return {
    ref: mutations[mutations.length - 1]?.ref ?? '',
    ops: mutations.flatMap((m) => m.ops),
    events: mutations.flatMap((m) => m.events),
    undo: () => {
      for (const m of [...mutations].reverse()) m.undo();
    },
  };
}
