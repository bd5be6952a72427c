/**
 * Which watchers a write concerns, and which of its nodes each one's XPath selects: the matching behind actions'
 * `<xpath>` triggers (manager.ts) and plugins' host.onChange (pluginhost/watch.ts), so that both see a change
 * alike. The nodes a write touches are the ones added, replaced or deleted, everything inside an added or
 * replacing element, and the parent of each change (its content changed). Patterns (pattern.ts) rule out most
 * watchers by name; the XPath of the rest is evaluated with the watcher's view, once per view and XPath a write.
 */
import { ELEMENT_NODE } from '../tree/dom.ts';
import { ancestry } from '../tree/refs.ts';
import type { ChangeEvent, Tree } from '../tree/tree.ts';
import type { View } from '../tree/xpath.ts';
import type { TriggerPattern } from './pattern.ts';

export interface Watch<Owner> {
  /** Whose watch this is: matches are answered by owner (an action may have several patterns). */
  owner: Owner;
  pattern: TriggerPattern;
  /** What exists for the watcher (undefined: everything), asked at each write. */
  view(): View | undefined;
  /** The same for watchers that see alike: their XPaths are evaluated once for all of them. */
  viewKey: string;
  /**
   * Whether a node at `chain` (its names from the root) exists for the watcher: asked of a deleted node, which
   * no view can place any more. Not given: everything exists.
   */
  sees?(chain: readonly string[]): boolean;
  /** Changes at the node whose names from the root are `chain` are none of its business (an action's own status). */
  ignores?(chain: string[]): boolean;
}

export class ChangeMatcher<Owner> {
  private readonly byLastName = new Map<string, Watch<Owner>[]>();
  private readonly anyName: Watch<Owner>[] = [];

  constructor(watches: Iterable<Watch<Owner>>) {
    for (const watch of watches) this.add(watch);
  }

  add(watch: Watch<Owner>): void {
    const names = watch.pattern.lastNames;
    if (!names) this.anyName.push(watch);
    else for (const n of names) this.byLastName.set(n, [...(this.byLastName.get(n) ?? []), watch]);
  }

  get empty(): boolean {
    return this.byLastName.size === 0 && this.anyName.length === 0;
  }

  /** Each owner a write concerns, with the nodes it selected among those the write touched, in order. */
  match(events: readonly ChangeEvent[], tree: Tree): Map<Owner, Node[]> {
    const matched = new Map<Owner, Node[]>();
    if (this.empty) return matched;
    const evaluated = new Map<string, Set<Node>>();
    const parentOf = new Map<Node, Node>(); // where deleted nodes were
    const selects = (watch: Watch<Owner>, node: Node): boolean => {
      const key = `${watch.viewKey}\0${watch.pattern.xpath}`;
      let hits = evaluated.get(key);
      if (!hits) evaluated.set(key, (hits = new Set(tree.select(watch.pattern.xpath, tree.doc, { view: watch.view() }))));
      return hits.has(node);
    };
    const selectedWhenDeleted = (watch: Watch<Owner>, node: Node, chain: string[]): boolean => {
      if (watch.sees && !watch.sees(chain)) return false;
      const view = watch.view();
      return watch.pattern.matchedWhenDeleted(node, parentOf.get(node)!, (x, context) => tree.select(x, context, { view }));
    };
    const consider = (node: Node, chain: string[], detached: boolean) => {
      const named = this.byLastName.get(node.nodeName);
      for (const list of named ? [named, this.anyName] : [this.anyName]) {
        for (const watch of list) {
          if (watch.ignores?.(chain) || !watch.pattern.mayMatch(chain)) continue;
          if (!(detached ? selectedWhenDeleted(watch, node, chain) : selects(watch, node))) continue;
          const nodes = matched.get(watch.owner) ?? [];
          if (!nodes.includes(node)) nodes.push(node);
          matched.set(watch.owner, nodes);
        }
      }
    };
    for (const e of events) {
      if (e.kind === 'delete') {
        if (e.node.nodeType === ELEMENT_NODE) {
          parentOf.set(e.node, e.parent);
          consider(e.node, ancestry(e.node, e.parent), true);
        }
        consider(e.parent, ancestry(e.parent), false);
        continue;
      }
      if (e.node.nodeType !== ELEMENT_NODE) continue;
      if (e.kind === 'add') consider(e.parent, ancestry(e.parent), false);
      for (const el of elementsWithin(e.node as Element)) consider(el, ancestry(el), false);
    }
    return matched;
  }
}

/** The element and all elements below it. */
export function elementsWithin(el: Element): Element[] {
  const out: Element[] = [el];
  for (let i = 0; i < out.length; i++) {
    for (let c = out[i]!.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) out.push(c as Element);
  }
  return out;
}
