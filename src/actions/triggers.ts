/**
 * Which triggers a batch of tree changes concerns, and at which nodes: for every node a change adds, replaces
 * or deletes (and every element within it, and the parent whose children changed), the triggers whose pattern
 * can name it (pattern.ts: by the last step's name, then by the node's ancestry) are asked, and only then is
 * the XPath evaluated — once per pattern, view and batch — to apply its predicates; a deleted node is judged
 * from where it was. Not tied to actions: an owner is anything a pattern belongs to.
 */
import { ELEMENT_NODE } from '../tree/dom.ts';
import type { ChangeEvent, Tree } from '../tree/tree.ts';
import type { View } from '../tree/xpath.ts';
import { ancestry, type TriggerPattern } from './pattern.ts';

export interface Trigger<T> {
  owner: T;
  pattern: TriggerPattern;
  /** What the pattern is evaluated in: a plugin's view, or all of the tree (undefined). Asked when needed. */
  view(): View | undefined;
  /** Triggers of one scope see the same view, so their patterns' results are shared within a batch. */
  scope: string;
  /** Names from the root down to a subtree whose changes do not concern this trigger (its owner's own status). */
  ignoreUnder?: string[] | undefined;
}

/** The tree as matching reads it. */
export type MatchedTree = Pick<Tree, 'select' | 'doc'>;

function startsWith(chain: string[], prefix: string[]): boolean {
  return prefix.length <= chain.length && prefix.every((p, i) => chain[i] === p);
}

/** The element and all elements below it. */
export function elementsWithin(el: Element): Element[] {
  const out: Element[] = [el];
  for (let i = 0; i < out.length; i++) {
    for (let c = out[i]!.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) out.push(c as Element);
  }
  return out;
}

export class TriggerMatcher<T> {
  private readonly byLastName = new Map<string, Trigger<T>[]>();
  private readonly anyName: Trigger<T>[] = [];

  constructor(triggers: Iterable<Trigger<T>>) {
    for (const trigger of triggers) {
      const names = trigger.pattern.lastNames;
      if (!names) this.anyName.push(trigger);
      else for (const n of names) this.byLastName.set(n, [...(this.byLastName.get(n) ?? []), trigger]);
    }
  }

  /** No trigger at all: no batch can concern it. */
  get empty(): boolean {
    return this.byLastName.size === 0 && this.anyName.length === 0;
  }

  /** The owners a batch of changes concerns, each with the nodes that matched, in the order they were met. */
  match(events: readonly ChangeEvent[], tree: MatchedTree): Map<T, Node[]> {
    const batch = new BatchMatch<T>(this.byLastName, this.anyName, tree);
    if (this.empty) return batch.matched;
    for (const e of events) {
      if (e.kind === 'delete') {
        if (e.node.nodeType === ELEMENT_NODE) batch.consider(e.node, ancestry(e.node, e.parent), e.parent);
        batch.consider(e.parent, ancestry(e.parent));
        continue;
      }
      if (e.node.nodeType !== ELEMENT_NODE) continue;
      if (e.kind === 'add') batch.consider(e.parent, ancestry(e.parent));
      for (const el of elementsWithin(e.node as Element)) batch.consider(el, ancestry(el));
    }
    return batch.matched;
  }
}

/** One batch's matching: what matched so far, and each pattern's evaluation, kept for the rest of the batch. */
class BatchMatch<T> {
  readonly matched = new Map<T, Node[]>();
  private readonly evaluated = new Map<string, Set<Node>>();

  constructor(
    private readonly byLastName: ReadonlyMap<string, Trigger<T>[]>,
    private readonly anyName: readonly Trigger<T>[],
    private readonly tree: MatchedTree,
  ) {}

  /** Checks a node (names from the root in `chain`) against the triggers that can name it; `deletedFrom` for a deleted one. */
  consider(node: Node, chain: string[], deletedFrom?: Node): void {
    const named = this.byLastName.get(node.nodeName);
    for (const list of named ? [named, this.anyName] : [this.anyName]) {
      for (const trigger of list) {
        if (trigger.ignoreUnder && startsWith(chain, trigger.ignoreUnder)) continue;
        if (!trigger.pattern.mayMatch(chain)) continue;
        if (deletedFrom ? !this.matchedWhenDeleted(trigger, node, deletedFrom) : !this.selected(trigger).has(node)) continue;
        const nodes = this.matched.get(trigger.owner) ?? [];
        if (!nodes.includes(node)) nodes.push(node);
        this.matched.set(trigger.owner, nodes);
      }
    }
  }

  private selected(trigger: Trigger<T>): Set<Node> {
    const key = `${trigger.scope}\0${trigger.pattern.xpath}`;
    let hits = this.evaluated.get(key);
    if (!hits) this.evaluated.set(key, (hits = new Set(this.tree.select(trigger.pattern.xpath, this.tree.doc, { view: trigger.view() }))));
    return hits;
  }

  private matchedWhenDeleted(trigger: Trigger<T>, node: Node, parent: Node): boolean {
    const view = trigger.view();
    return trigger.pattern.matchedWhenDeleted(node, parent, (x, context) => this.tree.select(x, context, { view }));
  }
}
