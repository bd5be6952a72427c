/**
 * Reading the actions from the tree: `<action>` elements under actions/ and plugindata/NAME/, each parsed
 * (definition.ts) and matched with the one already running for the same element, so that an unchanged action
 * keeps its timers and state; and refusing a write that would leave an invalid action in the tree.
 */
import type { Logger } from '../logger.ts';
import { ELEMENT_NODE } from '../tree/dom.ts';
import type { ChangeEvent, Tree } from '../tree/tree.ts';
import { ActiveAction } from './active.ts';
import { parseAction, type ActionDefinition } from './definition.ts';
import { elementsWithin } from './changeMatch.ts';

const ACTION_PATHS = /^\/data\/(actions|plugindata)(\/|$)/;

/** Whether a batch of changes may have added, changed or removed an action. */
export function touchesActions(events: readonly ChangeEvent[]): boolean {
  return events.some((e) => ACTION_PATHS.test(e.path));
}

/** `<action>` elements at, inside or around a changed node (a changed field changes its action). */
function actionsIn(node: Node): Element[] {
  if (node.nodeType !== ELEMENT_NODE) return [];
  for (let n: Node | null = node; n && n.nodeType === ELEMENT_NODE; n = n.parentNode) {
    if (n.nodeName === 'action') return [n as Element];
  }
  return elementsWithin(node as Element).filter((e) => e.nodeName === 'action');
}

/** Refuses (throws, with the reason) a batch of changes that would leave an invalid action in the tree. */
export function validateActions(events: readonly ChangeEvent[]): void {
  for (const e of events) {
    if (e.kind === 'delete' || !ACTION_PATHS.test(e.path)) continue;
    for (const el of actionsIn(e.node)) parseAction(el);
  }
}

export interface Reloaded {
  /** The actions of the tree now: those kept, then those new. */
  actions: ActiveAction[];
  /** New ones, to be scheduled. */
  started: ActiveAction[];
  /** Ones no longer in the tree, to be stopped. */
  gone: ActiveAction[];
}

/** The actions of the tree, keeping the running ones whose elements are unchanged; an invalid one is logged and left out. */
export function reloadActions(tree: Pick<Tree, 'select'>, running: readonly ActiveAction[], logger: Logger): Reloaded {
  const elements = tree.select('/data/actions//action | /data/plugindata/*//action') as Element[];
  const old = new Map<string, ActiveAction[]>();
  for (const a of running) old.set(a.def.key, [...(old.get(a.def.key) ?? []), a]);
  const kept: ActiveAction[] = [];
  const started: ActiveAction[] = [];
  for (const el of elements) {
    let def: ActionDefinition;
    try {
      def = parseAction(el);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'ignoring an invalid action');
      continue;
    }
    const same = old.get(def.key)?.shift();
    if (same) kept.push(same);
    else started.push(new ActiveAction(def));
  }
  return { actions: [...kept, ...started], started, gone: [...old.values()].flat() };
}
