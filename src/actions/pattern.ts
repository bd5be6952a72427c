/**
 * Deciding quickly which actions a change can concern. Igor evaluated every action's XPath over the whole
 * document on every write; here each `<xpath>` is taken apart once into location-path branches, and a changed
 * node is only checked against the actions whose last step names it (or could: `*`), and then only if the
 * node's ancestry fits the path's steps. Only then is the XPath evaluated, to apply its predicates.
 */
import { splitTopLevel } from '../tree/paths.ts';
import { ancestry } from '../tree/refs.ts';
import { NAME_TEST } from '../tree/xmlNames.ts';

interface PatternStep {
  /** Element name or '*'. */
  name: string;
  /** Reached by `//` (any number of levels in between) rather than `/`. */
  descendant: boolean;
  /** The step's predicates as written, `[…][…]`, or ''. */
  predicates: string;
}

interface Branch {
  steps: PatternStep[];
  /** The path up to the last step (to find a deleted node's possible parents). */
  prefix: string;
}

/** An absolute path of child (`/`) and descendant (`//`) name steps, or undefined for anything else. */
function parseBranch(branch: string): Branch | undefined {
  const path = branch.trim();
  if (!path.startsWith('/')) return undefined;
  const pieces = splitTopLevel(path, '/');
  if (!pieces) return undefined;
  const steps: PatternStep[] = [];
  let descendant = false;
  for (const piece of pieces.slice(1)) {
    if (piece === '') {
      if (descendant) return undefined; // `///`
      descendant = true;
      continue;
    }
    const bracket = piece.indexOf('[');
    const name = bracket < 0 ? piece : piece.slice(0, bracket);
    if (!NAME_TEST.test(name)) return undefined; // axes, @attributes, text(), . and ..: not a pattern we can pre-match
    if (bracket >= 0 && !piece.endsWith(']')) return undefined;
    steps.push({ name, descendant, predicates: bracket >= 0 ? piece.slice(bracket) : '' });
    descendant = false;
  }
  if (descendant || steps.length === 0) return undefined;
  const last = steps[steps.length - 1]!;
  const prefix = path.slice(0, path.length - last.name.length - last.predicates.length - (last.descendant ? 2 : 1));
  return { steps, prefix };
}

/** Whether the names from the root down to a node (`chain`) fit the steps. No closures: this runs per write. */
function fits(steps: PatternStep[], chain: string[], si: number, ci: number): boolean {
  if (si === steps.length) return ci === chain.length;
  const step = steps[si]!;
  const last = step.descendant ? chain.length - 1 : ci;
  for (let c = ci; c <= last && c < chain.length; c++) {
    if ((step.name === '*' || step.name === chain[c]) && fits(steps, chain, si + 1, c + 1)) return true;
  }
  return false;
}

export class TriggerPattern {
  private readonly branches: Branch[] | undefined;

  constructor(readonly xpath: string) {
    const parts = splitTopLevel(xpath, '|')?.map(parseBranch);
    this.branches = parts && parts.every((b) => b !== undefined) ? parts : undefined;
  }

  /** Names a matching node can have; undefined when any element could match. */
  get lastNames(): Set<string> | undefined {
    if (!this.branches) return undefined;
    const names = new Set<string>();
    for (const { steps } of this.branches) {
      const last = steps[steps.length - 1]!.name;
      if (last === '*') return undefined;
      names.add(last);
    }
    return names;
  }

  /** False when the node certainly does not match; true when it may (evaluate to be sure). */
  mayMatch(chain: string[]): boolean {
    return !this.branches || this.branches.some((b) => fits(b.steps, chain, 0, 0));
  }

  /**
   * Whether a node that was just deleted matched, judged from where it was: it can no longer be found by
   * evaluating the path, so its own predicates are evaluated on it, and the rest of the path must select
   * its former parent (or, after `//`, an ancestor of it).
   */
  matchedWhenDeleted(node: Node, parent: Node, select: (expression: string, context?: Node) => Node[]): boolean {
    if (!this.branches) return false;
    const chain = ancestry(node, parent);
    return this.branches.some(({ steps, prefix }) => {
      if (!fits(steps, chain, 0, 0)) return false;
      const last = steps[steps.length - 1]!;
      if (last.predicates && select(`self::node()${last.predicates}`, node).length === 0) return false;
      if (steps.slice(0, -1).every((s) => !s.predicates)) return true;
      const candidates = new Set(select(prefix));
      if (!last.descendant) return candidates.has(parent);
      for (let n: Node | null = parent; n; n = n.parentNode) if (candidates.has(n)) return true;
      return false;
    });
  }
}
