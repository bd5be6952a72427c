/**
 * Evaluates XPath 1.0 syntax trees over @xmldom/xmldom nodes, within a view: every axis, the string value
 * of a node and every function walk only the nodes the view admits, so for an expression evaluated in a
 * principal's view the rest of the tree does not exist — in its predicates, functions and axes as much as
 * in what it selects. A view is given per evaluation; without one, the whole tree is there.
 *
 * Node-sets are arrays kept unique and in document order. Document order is the tree's own: a view leaves
 * nodes out but never reorders them, so positions are counted among the admitted nodes only.
 */
import { XPathError } from '../../errors.ts';
import { allWithoutNamespace, childrenNamed, deepOtherVersion, tracksChanges, WIDE } from '../children.ts';
import { FAR_END_AXES, fromFarEnd, parentOf, rootOf, walkAxis, type Admission } from './axes.ts';
import { columnOf, descendantsNamed } from './indexes.ts';
import { continuesText, runText } from '../text.ts';
import { tick } from '../xpathBudget.ts';
import type { Axis, Expr, NodeTest, Step } from './ast.ts';

export type Value = Node[] | string | number | boolean;

/**
 * Which nodes exist for an evaluation. `admits` is asked about an element, attribute, or node directly under
 * the document, only once its parent (or owner element) is known to be admitted; text below an admitted
 * element is always there, and texts that only left-out elements separate are one text node, as in a copy of
 * the tree holding only what the view admits (text.ts continuesText; the evaluator sees to that). It must
 * answer alike for elements of the same name under the same parent (Igor's rules go by names), which lets an
 * indexed lookup among thousands of siblings ask once.
 */
export interface View {
  admits(node: Node): boolean;
}

/** An argument of an extension function, converted on demand as XPath converts values. */
export interface Arg {
  readonly value: Value;
  string(): string;
  number(): number;
  boolean(): boolean;
}

export type ExtensionFunction = (...args: Arg[]) => Value | Arg;

export interface Scope {
  view?: View;
  namespaces: Readonly<Record<string, string>>;
  variables: Readonly<Record<string, Value>>;
  functions: Readonly<Record<string, ExtensionFunction>>;
}

interface Context {
  node: Node;
  position: number;
  size: number;
}

const ELEMENT = 1;
const ATTRIBUTE = 2;
const TEXT = 3;
const CDATA = 4;
const PI = 7;
const COMMENT = 8;
const DOCUMENT = 9;
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

const REVERSE_AXES: ReadonlySet<Axis> = new Set(['ancestor', 'ancestor-or-self', 'preceding', 'preceding-sibling']);

export function isNodeSet(v: Value): v is Node[] {
  return Array.isArray(v);
}

/** One evaluation: its scope, and document-order positions worked out as they are needed. */
class Run implements Admission {
  private readonly positions = new Map<Node, number>();
  private readonly numbered = new Set<Node>();
  /**
   * Absolute paths met in this evaluation, with what they selected: such a path means the same wherever it is
   * asked, so one inside a predicate (`reading[value > /data/environment/threshold]`) is walked once, not once
   * per node tested. Keyed by the root it started from as well, in case a run ever reaches another tree.
   */
  private readonly absolute = new Map<Expr, { root: Node; nodes: Node[] }>();

  constructor(
    readonly expression: string,
    readonly scope: Scope,
  ) {}

  admits(n: Node): boolean {
    const view = this.scope.view;
    if (!view) return true;
    const type = n.nodeType;
    if (type !== TEXT && type !== CDATA) return view.admits(n);
    if (n.parentNode?.nodeType !== ELEMENT) return view.admits(n);
    // A text after another with only left-out nodes between is part of that one (text.ts continuesText).
    return !continuesText(n, this.siblingAdmitted);
  }

  /** Of the siblings of an admitted text (whose parent is admitted): whether one exists in the view. */
  private readonly siblingAdmitted = (s: Node): boolean => s.nodeType !== ELEMENT || this.scope.view!.admits(s);

  fail(reason: string): never {
    throw new XPathError(reason, this.expression);
  }

  // ---- values ----

  stringOfNode(n: Node): string {
    const type = n.nodeType;
    if (type === ELEMENT) {
      // The common leaf: one text child.
      const only = n.firstChild;
      if (only && only === n.lastChild && (only.nodeType === TEXT || only.nodeType === CDATA)) return only.nodeValue ?? '';
      if (!only) return '';
    }
    if (type === ELEMENT || type === DOCUMENT) {
      let s = '';
      const stack: Node[] = [];
      for (let c = n.lastChild; c; c = c.previousSibling) stack.push(c);
      while (stack.length) {
        const c = stack.pop()!;
        const t = c.nodeType;
        if (t === TEXT || t === CDATA) s += c.nodeValue ?? '';
        else if (t === ELEMENT && this.admits(c)) for (let g = c.lastChild; g; g = g.previousSibling) stack.push(g);
      }
      return s;
    }
    if (this.scope.view && (type === TEXT || type === CDATA)) return runText(n, this.siblingAdmitted);
    return n.nodeValue ?? '';
  }

  toString(v: Value): string {
    if (isNodeSet(v)) return v.length ? this.stringOfNode(v[0]!) : '';
    if (typeof v === 'number') return numberToString(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    return v;
  }

  toNumber(v: Value): number {
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return stringToNumber(this.toString(v));
  }

  arg(value: Value): Arg {
    return {
      value,
      string: () => this.toString(value),
      number: () => this.toNumber(value),
      boolean: () => toBoolean(value),
    };
  }

  // ---- document order ----

  /** Position of `n` among its parent's children; attributes come before all children. */
  private position(n: Node): number {
    if (n.nodeType === ATTRIBUTE) {
      const attrs = (n as Attr).ownerElement!.attributes;
      for (let i = 0; i < attrs.length; i++) if (attrs[i] === n) return i - attrs.length;
      return -1;
    }
    const parent = n.parentNode;
    if (!parent) return 0;
    if (!this.numbered.has(parent)) {
      this.numbered.add(parent);
      let i = 0;
      for (let c = parent.firstChild; c; c = c.nextSibling) this.positions.set(c, i++);
    }
    return this.positions.get(n) ?? 0;
  }

  private keyOf(n: Node): number[] {
    const key: number[] = [];
    for (let m: Node | null = n; m; m = parentOf(m)) key.push(this.position(m));
    return key.reverse();
  }

  /** The nodes, unique, in document order. */
  inDocumentOrder(nodes: Node[]): Node[] {
    if (nodes.length < 2) return nodes;
    const unique = [...new Set(nodes)];
    const keys = new Map<Node, number[]>();
    for (const n of unique) keys.set(n, this.keyOf(n));
    return unique.sort((a, b) => compareKeys(keys.get(a)!, keys.get(b)!));
  }

  // ---- expressions ----

  evaluate(e: Expr, c: Context): Value {
    switch (e.t) {
      case 'or':
        return toBoolean(this.evaluate(e.l, c)) || toBoolean(this.evaluate(e.r, c));
      case 'and':
        return toBoolean(this.evaluate(e.l, c)) && toBoolean(this.evaluate(e.r, c));
      case 'compare':
        return this.compare(e.op, this.evaluate(e.l, c), this.evaluate(e.r, c));
      case 'arith': {
        const l = this.toNumber(this.evaluate(e.l, c));
        const r = this.toNumber(this.evaluate(e.r, c));
        switch (e.op) {
          case '+':
            return l + r;
          case '-':
            return l - r;
          case '*':
            return l * r;
          case 'div':
            return l / r;
          case 'mod':
            return l % r;
        }
        break;
      }
      case 'neg':
        return -this.toNumber(this.evaluate(e.e, c));
      case 'union': {
        const l = this.evaluate(e.l, c);
        const r = this.evaluate(e.r, c);
        if (!isNodeSet(l) || !isNodeSet(r)) this.fail('both sides of "|" must be node-sets');
        return this.inDocumentOrder([...l, ...r]);
      }
      case 'path': {
        if (e.start !== 'root') return this.path(e.start, e.steps, c);
        const root = rootOf(c.node);
        const known = this.absolute.get(e);
        if (known?.root === root) return known.nodes;
        const nodes = this.path(e.start, e.steps, c);
        this.absolute.set(e, { root, nodes });
        return nodes;
      }
      case 'filter': {
        const v = this.evaluate(e.e, c);
        if (!isNodeSet(v)) this.fail('a predicate can only filter a node-set');
        return this.filterAll(v, e.preds);
      }
      case 'literal':
        return e.v;
      case 'number':
        return e.v;
      case 'var': {
        const v = this.scope.variables[e.name];
        if (v === undefined || !Object.hasOwn(this.scope.variables, e.name)) this.fail(`undeclared variable $${e.name}`);
        return v;
      }
      case 'call':
        return this.call(e.name, e.args, c);
    }
    return this.fail('unknown expression');
  }

  private compare(op: '=' | '!=' | '<' | '<=' | '>' | '>=', l: Value, r: Value): boolean {
    const equality = op === '=' || op === '!=';
    if (isNodeSet(l) && isNodeSet(r)) {
      if (l.length === 0 || r.length === 0) return false;
      const rights = r.map((n) => this.stringOfNode(n));
      if (equality) {
        const set = new Set(rights);
        for (const n of l) {
          const s = this.stringOfNode(n);
          if (op === '=' ? set.has(s) : set.size > 1 || !set.has(s)) return true;
        }
        return false;
      }
      const rightNumbers = rights.map(stringToNumber);
      for (const n of l) {
        const a = stringToNumber(this.stringOfNode(n));
        for (const b of rightNumbers) if (compareNumbers(op, a, b)) return true;
      }
      return false;
    }
    if (isNodeSet(l) || isNodeSet(r)) {
      // One node-set: true when some node's value compares true (the other side's order kept).
      const flip = !isNodeSet(l);
      const nodes = (flip ? r : l) as Node[];
      const other = flip ? l : r;
      if (typeof other === 'boolean') return this.compareScalars(op, flip ? other : nodes.length > 0, flip ? nodes.length > 0 : other);
      for (const n of nodes) {
        tick();
        const s = this.stringOfNode(n);
        const mine: Value = typeof other === 'number' ? stringToNumber(s) : s;
        if (this.compareScalars(op, flip ? other : mine, flip ? mine : other)) return true;
      }
      return false;
    }
    return this.compareScalars(op, l, r);
  }

  private compareScalars(op: '=' | '!=' | '<' | '<=' | '>' | '>=', l: Value, r: Value): boolean {
    if (op === '=' || op === '!=') {
      let equal: boolean;
      if (typeof l === 'boolean' || typeof r === 'boolean') equal = toBoolean(l) === toBoolean(r);
      else if (typeof l === 'number' || typeof r === 'number') equal = this.toNumber(l) === this.toNumber(r);
      else equal = this.toString(l) === this.toString(r);
      return op === '=' ? equal : !equal;
    }
    return compareNumbers(op, this.toNumber(l), this.toNumber(r));
  }

  // ---- paths ----

  private path(start: 'root' | 'context' | Expr, steps: Step[], c: Context): Node[] {
    let nodes: Node[];
    if (start === 'root') nodes = [rootOf(c.node)];
    else if (start === 'context') nodes = [c.node];
    else {
      const v = this.evaluate(start, c);
      if (!isNodeSet(v)) this.fail('only a node-set can be the start of a path');
      nodes = v;
    }
    // Flat: no node of the set is inside another, so the children of each, one after the other, are in order.
    let flat = nodes.length <= 1;
    for (let i = 0; i < steps.length; i++) {
      let step = steps[i]!;
      const next = steps[i + 1];
      // `//name[…]` is descendant::name[…] when no predicate asks for a position: one walk, already in order.
      if (isDescendantOrSelfNode(step) && next && next.axis === 'child' && next.preds.every((p) => !positional(p))) {
        step = { axis: 'descendant', test: next.test, preds: next.preds };
        i++;
      }
      nodes = this.step(step, nodes, flat);
      flat = nodes.length <= 1 || (flat && (step.axis === 'child' || step.axis === 'attribute' || step.axis === 'self'));
      if (nodes.length === 0) break;
    }
    return nodes;
  }

  private step(step: Step, contexts: Node[], flat: boolean): Node[] {
    // An unknown prefix is an error even where nothing would be tested against it.
    if (step.test.k === 'name' && step.test.prefix !== undefined) this.namespace(step.test.prefix);
    if (step.test.k === 'nsany') this.namespace(step.test.prefix);
    const out: Node[] = [];
    const reverse = REVERSE_AXES.has(step.axis);
    const limit = positionsNeeded(step.preds[0]);
    for (const context of contexts) {
      const list = this.positionalShortcut(step, context) ?? this.filterAll(this.axis(step.axis, context, step.test, limit), step.preds);
      if (contexts.length === 1 && !reverse) return list;
      if (reverse) for (let i = list.length - 1; i >= 0; i--) out.push(list[i]!);
      else for (const n of list) out.push(n);
    }
    // The self axis keeps a subset of the contexts, which are in document order already.
    if (contexts.length <= 1 || step.axis === 'self' || (flat && (step.axis === 'child' || step.axis === 'attribute'))) return out;
    return this.inDocumentOrder(out);
  }

  /**
   * `name[N]` and `name[last()]` on the child axis, and `[last()]` on the sibling, following and preceding axes:
   * the one node, found without testing every other (then the step's other predicates); undefined when the
   * step is not of that form. (`[N]` on the other axes stops after N nodes: positionsNeeded.)
   */
  private positionalShortcut(step: Step, context: Node): Node[] | undefined {
    if (step.preds.length === 0) return undefined;
    const first = step.preds[0]!;
    const last = first.t === 'call' && first.name === 'last' && first.args.length === 0;
    let found: Node | undefined;
    if (step.axis !== 'child') {
      if (!last || !FAR_END_AXES.has(step.axis)) return undefined;
      fromFarEnd(step.axis, context, this, (m) => {
        tick();
        if (this.matches(step.test, m, ELEMENT)) found = m;
        return found === undefined;
      });
    } else if (last || first.t === 'number') found = this.nthChild(step.test, context, last ? 'last' : (first as { v: number }).v);
    else return undefined;
    return this.filterAll(found ? [found] : [], step.preds.slice(1));
  }

  /** The child `test` selects at a position (1-based) or the last, without testing the others. */
  private nthChild(test: NodeTest, context: Node, wanted: number | 'last'): Node | undefined {
    const named = this.namedChildren(context, test);
    if (named) {
      const at = wanted === 'last' ? named.length : wanted;
      return Number.isInteger(at) && at >= 1 ? named[at - 1] : undefined;
    }
    if (wanted === 'last') {
      for (let c = context.lastChild; c; c = c.previousSibling) {
        tick();
        if (this.matches(test, c, ELEMENT) && this.admits(c)) return c;
      }
      return undefined;
    }
    let seen = 0;
    if (!Number.isInteger(wanted) || wanted < 1) return undefined;
    for (let c = context.firstChild; c; c = c.nextSibling) {
      tick();
      if (this.matches(test, c, ELEMENT) && this.admits(c) && ++seen === wanted) return c;
    }
    return undefined;
  }

  private filterAll(nodes: Node[], preds: Expr[]): Node[] {
    for (const p of preds) nodes = this.filter(nodes, p);
    return nodes;
  }

  private filter(nodes: Node[], p: Expr): Node[] {
    if (nodes.length === 0) return nodes;
    if (p.t === 'number') return Number.isInteger(p.v) && p.v >= 1 && p.v <= nodes.length ? [nodes[p.v - 1]!] : [];
    if (p.t === 'call' && p.name === 'last' && p.args.length === 0) return [nodes[nodes.length - 1]!];
    const out: Node[] = [];
    const range = positionCompared(p);
    if (range) {
      // `position() > last() - 7` and the like: the bound is the same for every node, so it is worked out once.
      const bound = this.toNumber(this.evaluate(range.bound, { node: nodes[0]!, position: 1, size: nodes.length }));
      tick();
      let from = 1;
      let to = nodes.length;
      // Relations select one run of positions; NaN compares false, so it leaves from..to empty.
      if (range.op === '>') from = Math.floor(bound) + 1;
      else if (range.op === '>=') from = Math.ceil(bound);
      else if (range.op === '<') to = Math.ceil(bound) - 1;
      else if (range.op === '<=') to = Math.floor(bound);
      else {
        for (let i = 0; i < nodes.length; i++) if (compareNumbers(range.op, i + 1, bound)) out.push(nodes[i]!);
        return out;
      }
      for (let i = Math.max(from, 1); i <= Math.min(to, nodes.length); i++) out.push(nodes[i - 1]!);
      return out;
    }
    const shape = compared(p);
    if (shape) {
      const version = indexed.get(nodes);
      if (version !== undefined) {
        // A list the indexes know: its values side by side, kept for the next query.
        const column = columnOf(nodes as Element[], shape.child, this.scope.view, version, stringToNumber, shape.numeric);
        for (let i = 0; i < nodes.length; i++) {
          tick();
          const s = column.strings[i];
          if (
            s === null
              ? shape.test(this, nodes[i]!)
              : shape.numeric
                ? compareNumbers(shape.op, column.numbers![i]!, shape.number)
                : shape.op === '='
                  ? s === shape.string
                  : s !== shape.string
          )
            out.push(nodes[i]!);
        }
        return out;
      }
      for (const node of nodes) {
        tick();
        if (shape.test(this, node)) out.push(node);
      }
      return out;
    }
    const size = nodes.length;
    for (let i = 0; i < size; i++) {
      tick();
      const node = nodes[i]!;
      const v = this.evaluate(p, { node, position: i + 1, size });
      if (typeof v === 'number' ? v === i + 1 : toBoolean(v)) out.push(node);
    }
    return out;
  }

  matches(test: NodeTest, n: Node, principal: number): boolean {
    switch (test.k) {
      case 'name': {
        if (n.nodeType !== principal) return false;
        const local = (n as Element).localName ?? n.nodeName;
        if (local !== test.local) return false;
        const ns = (n as Element).namespaceURI || undefined;
        return test.prefix === undefined ? ns === undefined : ns === this.namespace(test.prefix);
      }
      case 'any':
        return n.nodeType === principal;
      case 'nsany':
        return n.nodeType === principal && (n as Element).namespaceURI === this.namespace(test.prefix);
      case 'node':
        return true;
      case 'text':
        return n.nodeType === TEXT || n.nodeType === CDATA;
      case 'comment':
        return n.nodeType === COMMENT;
      case 'pi':
        return n.nodeType === PI && (test.target === undefined || n.nodeName === test.target);
    }
  }

  private namespace(prefix: string): string {
    if (prefix === 'xml') return XML_NS;
    const uri = this.scope.namespaces[prefix];
    if (uri === undefined || !Object.hasOwn(this.scope.namespaces, prefix)) this.fail(`unknown namespace prefix "${prefix}"`);
    return uri;
  }

  /**
   * The nodes on `axis` from `n` that pass `test`, in the axis's order (reverse axes nearest first): the first
   * `limit` of them, found without walking further.
   */
  axis(axis: Axis, n: Node, test: NodeTest, limit = Infinity): Node[] {
    if (limit <= 0) return [];
    if (axis === 'child') {
      const named = this.namedChildren(n, test);
      if (named) return named.length > limit ? named.slice(0, limit) : named;
    }
    const out: Node[] = [];
    if (axis === 'descendant') {
      if (test.k === 'name' && test.prefix === undefined && (n.nodeType === ELEMENT || n.nodeType === DOCUMENT)) {
        const list = descendantsNamed(n, test.local, this.scope.view) as Element[] as Node[];
        if (list.length > limit) return list.slice(0, limit);
        if (tracksChanges(n)) indexed.set(list, 0);
        return list;
      }
      if (test.k === 'name' || test.k === 'any' || test.k === 'node' || test.k === 'text') {
        this.descendantsMatching(n, test, out, limit);
        return out;
      }
    }
    const principal = axis === 'attribute' ? ATTRIBUTE : ELEMENT;
    walkAxis(axis, n, this, (m) => {
      tick();
      if (this.matches(test, m, principal)) out.push(m);
      return out.length < limit;
    });
    return out;
  }

  /**
   * The element children of a wide parent that a plain name test selects, from the per-parent index
   * (children.ts), without testing each; undefined when the index does not apply.
   */
  namedChildren(n: Node, test: NodeTest): Node[] | undefined {
    if (test.k !== 'name' || test.prefix !== undefined || n.childNodes.length < WIDE) return undefined;
    const named = childrenNamed(n, test.local);
    // A view admits same-named siblings alike (View's contract); an element in a default namespace is not
    // selected by an unprefixed name, and the index goes by name only, so those take the plain path.
    if (named.length === 0 || !this.admits(named[0]!)) return [];
    if (!allWithoutNamespace(named)) return undefined;
    tick();
    // Outside the tree's document the list is made for this call (children.ts keeps none there). In the tree
    // it is the index's: never changed here (the evaluator makes new arrays), copied before it is returned,
    // and its column of values is kept while nothing but appends changed below n.
    if (tracksChanges(n)) indexed.set(named, deepOtherVersion(n));
    return named;
  }

  /** Descendants passing a name, any-element, node() or text() test, in document order, in one threaded walk. */
  private descendantsMatching(root: Node, test: NodeTest, out: Node[], limit: number): void {
    const view = this.scope.view;
    const name = test.k === 'name' ? test.local : undefined;
    const ns = test.k === 'name' && test.prefix !== undefined ? this.namespace(test.prefix) : undefined;
    let c: Node | null = root.firstChild;
    while (c && out.length < limit) {
      tick();
      const type = c.nodeType;
      let descend = false;
      if (type === ELEMENT) {
        if (!view || view.admits(c)) {
          descend = c.firstChild !== null;
          if (test.k === 'any' || test.k === 'node') out.push(c);
          else if (
            name !== undefined &&
            ((c as Element).localName ?? c.nodeName) === name &&
            ((c as Element).namespaceURI || undefined) === ns
          )
            out.push(c);
        }
      } else if (test.k === 'node' || (test.k === 'text' && (type === TEXT || type === CDATA))) {
        if (type === TEXT || type === CDATA ? this.admits(c) : !view || view.admits(c)) out.push(c);
      }
      if (descend) {
        c = c.firstChild;
        continue;
      }
      while (c && c !== root && !c.nextSibling) c = c.parentNode;
      c = c && c !== root ? c.nextSibling : null;
    }
  }

  // ---- functions ----

  private call(name: string, args: Expr[], c: Context): Value {
    const core = CORE[name];
    if (core && Object.hasOwn(CORE, name)) {
      const [min, max] = core.arity;
      if (args.length < min || args.length > max) {
        const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        this.fail(`${name}() takes ${wanted} argument${wanted === '1' ? '' : 's'}, not ${args.length}`);
      }
      return core.run(
        this,
        c,
        args.map((a) => this.evaluate(a, c)),
      );
    }
    const extension = this.scope.functions[name];
    if (!extension || !Object.hasOwn(this.scope.functions, name)) this.fail(`unknown function ${name}()`);
    const result = extension(...args.map((a) => this.arg(this.evaluate(a, c))));
    return typeof result === 'object' && !Array.isArray(result) ? result.value : result;
  }

  nodeSetArg(v: Value, fn: string): Node[] {
    if (!isNodeSet(v)) this.fail(`${fn}() needs a node-set`);
    return v;
  }
}

interface CoreFunction {
  arity: [number, number];
  run(run: Run, c: Context, args: Value[]): Value;
}

function stringArg(run: Run, c: Context, args: Value[]): string {
  return args.length ? run.toString(args[0]!) : run.stringOfNode(c.node);
}

function firstNode(run: Run, c: Context, args: Value[], fn: string): Node | undefined {
  if (!args.length) return c.node;
  return run.nodeSetArg(args[0]!, fn)[0];
}

const CORE: Record<string, CoreFunction> = {
  last: { arity: [0, 0], run: (_r, c) => c.size },
  position: { arity: [0, 0], run: (_r, c) => c.position },
  count: { arity: [1, 1], run: (r, _c, [ns]) => r.nodeSetArg(ns!, 'count').length },
  id: {
    arity: [1, 1],
    // An element's ID is its xml:id (the xml:id Recommendation), the one kind of ID a document without a DTD
    // has — and the tree takes none (XPath 1.0 §4.1 reads IDs from the DTD). An attribute merely named `id`
    // is no ID. Each ID names one element: the first that carries it, as libxml2 registers them.
    run: (r, c, [v]) => {
      const ids = new Set((isNodeSet(v!) ? v.map((n) => r.stringOfNode(n)).join(' ') : r.toString(v!)).split(/[ \t\r\n]+/).filter(Boolean));
      const found: Node[] = [];
      for (const el of r.axis('descendant', rootOf(c.node), { k: 'any' })) {
        if (ids.size === 0) break;
        const id = (el as Element).getAttributeNodeNS(XML_NS, 'id');
        if (id && ids.has(id.value) && r.admits(id)) {
          found.push(el);
          ids.delete(id.value);
        }
      }
      return found;
    },
  },
  'local-name': {
    arity: [0, 1],
    run: (r, c, args) => {
      const n = firstNode(r, c, args, 'local-name');
      if (!n || (n.nodeType !== ELEMENT && n.nodeType !== ATTRIBUTE && n.nodeType !== PI)) return '';
      return (n as Element).localName ?? n.nodeName;
    },
  },
  'namespace-uri': {
    arity: [0, 1],
    run: (r, c, args) => {
      const n = firstNode(r, c, args, 'namespace-uri');
      return n && (n.nodeType === ELEMENT || n.nodeType === ATTRIBUTE) ? ((n as Element).namespaceURI ?? '') : '';
    },
  },
  name: {
    arity: [0, 1],
    run: (r, c, args) => {
      const n = firstNode(r, c, args, 'name');
      return n && (n.nodeType === ELEMENT || n.nodeType === ATTRIBUTE || n.nodeType === PI) ? n.nodeName : '';
    },
  },
  string: { arity: [0, 1], run: (r, c, args) => stringArg(r, c, args) },
  concat: { arity: [2, Infinity], run: (r, _c, args) => args.map((a) => r.toString(a)).join('') },
  'starts-with': { arity: [2, 2], run: (r, _c, [a, b]) => r.toString(a!).startsWith(r.toString(b!)) },
  contains: { arity: [2, 2], run: (r, _c, [a, b]) => r.toString(a!).includes(r.toString(b!)) },
  'substring-before': {
    arity: [2, 2],
    run: (r, _c, [a, b]) => {
      const s = r.toString(a!);
      const at = s.indexOf(r.toString(b!));
      return at < 0 ? '' : s.slice(0, at);
    },
  },
  'substring-after': {
    arity: [2, 2],
    run: (r, _c, [a, b]) => {
      const s = r.toString(a!);
      const t = r.toString(b!);
      const at = s.indexOf(t);
      return at < 0 ? '' : s.slice(at + t.length);
    },
  },
  substring: {
    arity: [2, 3],
    run: (r, _c, [s, from, length]) => {
      // Positions count characters (code points), from 1, after rounding, as the specification's examples do.
      const chars = [...r.toString(s!)];
      const start = xpathRound(r.toNumber(from!));
      const end = length === undefined ? Infinity : start + xpathRound(r.toNumber(length));
      let out = '';
      for (let i = 0; i < chars.length; i++) {
        const p = i + 1;
        if (p >= start && p < end) out += chars[i];
      }
      return out;
    },
  },
  'string-length': { arity: [0, 1], run: (r, c, args) => [...stringArg(r, c, args)].length },
  'normalize-space': {
    arity: [0, 1],
    run: (r, c, args) =>
      stringArg(r, c, args)
        .replace(/[ \t\r\n]+/g, ' ')
        .replace(/^ | $/g, ''),
  },
  translate: {
    arity: [3, 3],
    run: (r, _c, [s, from, to]) => {
      const f = [...r.toString(from!)];
      const t = [...r.toString(to!)];
      const map = new Map<string, string>();
      f.forEach((ch, i) => {
        if (!map.has(ch)) map.set(ch, t[i] ?? '');
      });
      return [...r.toString(s!)].map((ch) => map.get(ch) ?? ch).join('');
    },
  },
  boolean: { arity: [1, 1], run: (_r, _c, [v]) => toBoolean(v!) },
  not: { arity: [1, 1], run: (_r, _c, [v]) => !toBoolean(v!) },
  true: { arity: [0, 0], run: () => true },
  false: { arity: [0, 0], run: () => false },
  lang: {
    arity: [1, 1],
    run: (r, c, [v]) => {
      const wanted = r.toString(v!).toLowerCase();
      for (let m: Node | null = c.node; m; m = parentOf(m)) {
        if (m.nodeType !== ELEMENT) continue;
        const a = (m as Element).getAttributeNodeNS(XML_NS, 'lang');
        if (a && r.admits(a)) {
          const lang = a.value.toLowerCase();
          return lang === wanted || lang.startsWith(wanted + '-');
        }
      }
      return false;
    },
  },
  number: { arity: [0, 1], run: (r, c, args) => (args.length ? r.toNumber(args[0]!) : stringToNumber(r.stringOfNode(c.node))) },
  sum: {
    arity: [1, 1],
    run: (r, _c, [ns]) => {
      let total = 0;
      for (const n of r.nodeSetArg(ns!, 'sum')) total += stringToNumber(r.stringOfNode(n));
      return total;
    },
  },
  floor: { arity: [1, 1], run: (r, _c, [v]) => Math.floor(r.toNumber(v!)) },
  ceiling: { arity: [1, 1], run: (r, _c, [v]) => Math.ceil(r.toNumber(v!)) },
  round: { arity: [1, 1], run: (r, _c, [v]) => xpathRound(r.toNumber(v!)) },
};

/** XPath's round(): to the nearest integer, halves towards positive infinity. */
function xpathRound(n: number): number {
  return Math.round(n);
}

function compareNumbers(op: '=' | '!=' | '<' | '<=' | '>' | '>=', a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '=':
      return a === b;
    case '!=':
      return a !== b;
  }
}

function compareKeys(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function isDescendantOrSelfNode(s: Step): boolean {
  return s.axis === 'descendant-or-self' && s.test.k === 'node' && s.preds.length === 0;
}

/** The predicate's meaning depends on the context position or size: its value may be a number, or it asks position() or last(). */
function positional(p: Expr): boolean {
  return mayBeNumber(p) || asksPosition(p);
}

const NUMBER_FUNCTIONS = new Set(['last', 'position', 'count', 'string-length', 'number', 'sum', 'floor', 'ceiling', 'round']);

function mayBeNumber(e: Expr): boolean {
  switch (e.t) {
    case 'number':
    case 'arith':
    case 'neg':
    case 'var':
      return true;
    case 'call':
      return NUMBER_FUNCTIONS.has(e.name) || !(e.name in CORE); // an extension function may answer anything
    default:
      return false;
  }
}

/** position() or last() of this context (not inside a path's own steps, which have their own). */
function asksPosition(e: Expr): boolean {
  switch (e.t) {
    case 'call':
      return e.name === 'position' || e.name === 'last' || e.args.some(asksPosition);
    case 'path':
      return typeof e.start === 'object' && asksPosition(e.start);
    case 'filter':
      return asksPosition(e.e);
    case 'or':
    case 'and':
    case 'compare':
    case 'arith':
    case 'union':
      return asksPosition(e.l) || asksPosition(e.r);
    case 'neg':
      return asksPosition(e.e);
    default:
      return false;
  }
}

export function toBoolean(v: Value): boolean {
  if (isNodeSet(v)) return v.length > 0;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  return v;
}

/** XPath's number(string): optional whitespace, an optional minus, digits with an optional fraction; else NaN. */
export function stringToNumber(s: string): number {
  // By hand rather than a regular expression: it is asked for every node a numeric predicate tests.
  let i = 0;
  let end = s.length;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  while (end > i && isSpace(s.charCodeAt(end - 1))) end--;
  const start = i;
  if (s.charCodeAt(i) === 0x2d) i++;
  let digits = 0;
  while (i < end && isDigit(s.charCodeAt(i))) i++, digits++;
  if (i < end && s.charCodeAt(i) === 0x2e) {
    i++;
    while (i < end && isDigit(s.charCodeAt(i))) i++, digits++;
  }
  if (digits === 0 || i !== end) return NaN;
  return Number(start === 0 && end === s.length ? s : s.slice(start, end));
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Lists shared with the indexes (never changed here), with what says their elements are unchanged. */
const indexed = new WeakMap<Node[], number>();

/** What a predicate compares when it is `NAME op literal` or `. op literal` (either way round), else undefined. */
function comparedPart(e: Expr): { self: true } | { child: string } | undefined {
  if (e.t !== 'path' || e.start !== 'context' || e.steps.length !== 1) return undefined;
  const step = e.steps[0]!;
  if (step.preds.length) return undefined;
  if (step.axis === 'self' && step.test.k === 'node') return { self: true };
  if (step.axis === 'child' && step.test.k === 'name' && step.test.prefix === undefined) return { child: step.test.local };
  return undefined;
}

const FLIPPED = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' } as const;

interface Compared {
  /** The child compared, or undefined for the node itself. */
  child: string | undefined;
  op: keyof typeof FLIPPED;
  numeric: boolean;
  number: number;
  string: string;
  /** The predicate on one node, without building node-sets. */
  test: (run: Run, node: Node) => boolean;
}

const comparedShapes = new WeakMap<Expr, Compared | null>();

/** A number computed from numbers and last() only: the same for every node of a predicate's list. */
function sizeOnly(e: Expr): boolean {
  switch (e.t) {
    case 'number':
      return true;
    case 'call':
      return e.name === 'last' && e.args.length === 0;
    case 'arith':
      return sizeOnly(e.l) && sizeOnly(e.r);
    case 'neg':
      return sizeOnly(e.e);
    default:
      return false;
  }
}

function isPosition(e: Expr): boolean {
  return e.t === 'call' && e.name === 'position' && e.args.length === 0;
}

/** `position() op E` (either way round) with E from numbers and last() only, else undefined. */
function positionCompared(p: Expr): { op: keyof typeof FLIPPED; bound: Expr } | undefined {
  if (p.t !== 'compare') return undefined;
  if (isPosition(p.l) && sizeOnly(p.r)) return { op: p.op, bound: p.r };
  if (isPosition(p.r) && sizeOnly(p.l)) return { op: FLIPPED[p.op], bound: p.l };
  return undefined;
}

/** A number that numbers alone make (`2`, `-1`, `1 div 0`), or undefined. */
function constantNumber(e: Expr): number | undefined {
  if (e.t === 'number') return e.v;
  if (e.t === 'neg') {
    const v = constantNumber(e.e);
    return v === undefined ? undefined : -v;
  }
  if (e.t !== 'arith') return undefined;
  const l = constantNumber(e.l);
  const r = constantNumber(e.r);
  if (l === undefined || r === undefined) return undefined;
  return e.op === '+' ? l + r : e.op === '-' ? l - r : e.op === '*' ? l * r : e.op === 'div' ? l / r : l % r;
}

/**
 * How many nodes of its axis a step's first predicate can select among: `[3]`, `[position() < 3]` and
 * `[position() = 3]` need the first three only, so the axis is walked no further (the predicate gives the
 * same on those as on the whole axis, for it does not ask last()). Infinity when the predicate may need all.
 */
function positionsNeeded(p: Expr | undefined): number {
  if (!p) return Infinity;
  if (p.t === 'number') return Number.isInteger(p.v) && p.v >= 1 ? p.v : 0;
  const compared = positionCompared(p);
  const bound = compared && constantNumber(compared.bound);
  const op = compared?.op;
  if (bound === undefined || (op !== '<' && op !== '<=' && op !== '=')) return Infinity;
  if (Number.isNaN(bound)) return 0; // NaN compares false
  if (op === '<') return Math.max(0, Math.ceil(bound) - 1);
  if (op === '<=') return Math.max(0, Math.floor(bound));
  return Number.isInteger(bound) && bound >= 1 ? bound : 0;
}

/**
 * The predicates sensor data is filtered by most — a child's or the node's own value compared with a number
 * or a string — understood once, so that they are tested without building node-sets, with XPath's rules for
 * comparing a node-set with a scalar (true when some node's value compares true). Undefined for anything else.
 */
function compared(p: Expr): Compared | undefined {
  const known = comparedShapes.get(p);
  if (known !== undefined) return known ?? undefined;
  let made: Compared | null = null;
  if (p.t === 'compare') {
    let part = comparedPart(p.l);
    let other = p.r;
    let op: keyof typeof FLIPPED = p.op;
    if (!part) {
      part = comparedPart(p.r);
      other = p.l;
      op = FLIPPED[p.op];
    }
    if (part && (other.t === 'number' || other.t === 'literal')) {
      const numeric = other.t === 'number' || (op !== '=' && op !== '!=');
      const number = other.t === 'number' ? other.v : stringToNumber(other.v);
      const string = other.t === 'literal' ? other.v : '';
      const matches = numeric
        ? (s: string) => compareNumbers(op, stringToNumber(s), number)
        : op === '='
          ? (s: string) => s === string
          : (s: string) => s !== string;
      const child = 'child' in part ? part.child : undefined;
      const test =
        child === undefined
          ? (run: Run, node: Node) => matches(run.stringOfNode(node))
          : (run: Run, node: Node) => {
              for (let c = node.firstChild; c; c = c.nextSibling) {
                if (c.nodeType !== ELEMENT || c.nodeName !== child || (c as Element).namespaceURI || !run.admits(c)) continue;
                if (matches(run.stringOfNode(c))) return true;
              }
              return false;
            };
      made = { child, op, numeric, number, string, test };
    }
  }
  comparedShapes.set(p, made);
  return made ?? undefined;
}

/** XPath 1.0 string() of a number: no exponent, only the digits needed (`2`, `0.000001`, `1000000000000000000000`). */
export function numberToString(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return '0';
  const s = String(n);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const digits = mantissa.replace('.', '');
  const point = (mantissa.indexOf('.') < 0 ? mantissa.length : mantissa.indexOf('.')) + exponent;
  const body =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${body}` : body;
}

export function evaluateExpression(expression: string, e: Expr, context: Node, scope: Scope): Value {
  const value = new Run(expression, scope).evaluate(e, { node: context, position: 1, size: 1 });
  // A list shared with the indexes is copied: the caller may change what it gets.
  return isNodeSet(value) && indexed.has(value) ? value.slice() : value;
}

/** Converts a value as string() would, within the scope's view. */
export function stringValue(value: Value, scope: Scope): string {
  return new Run('', scope).toString(value);
}
