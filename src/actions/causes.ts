/**
 * Which actions led to the code running now: a run carries its chain of causes (in an AsyncLocalStorage), so a
 * change made inside it knows what caused it, an access refused inside it names the action, and an action
 * that would trigger itself again, or a chain grown too long, is stopped with a message saying so.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ActiveAction } from './active.ts';

/** Longest chain of actions (or of a plugin's change handlers) setting one another off that is let through. */
export const MAX_CHAIN = 10;

const causes = new AsyncLocalStorage<{ chain: ActiveAction[] }>();

/** The chain of actions whose run is under way here, outermost first; empty outside any. */
export function currentChain(): ActiveAction[] {
  return causes.getStore()?.chain ?? [];
}

/** The action whose run is under way here, if any (for the access-failure record of a refused call). */
export function currentAction(): string | undefined {
  const chain = currentChain();
  return chain.length ? chain[chain.length - 1]!.label : undefined;
}

/** Runs `work` as part of `chain`: what it changes is caused by the chain's last action. */
export function runCausedBy<R>(chain: ActiveAction[], work: () => R): R {
  return causes.run({ chain }, work);
}

/** Why `action` may not run when `chain` caused it (a loop, or too long a chain), or undefined when it may. */
export function loopProblem(chain: ActiveAction[], action: ActiveAction): string | undefined {
  if (!chain.includes(action) && chain.length < MAX_CHAIN) return undefined;
  const path = [...chain, action].map((x) => x.def.name ?? x.def.ref).join(' → ');
  return chain.includes(action)
    ? `stopped a loop of actions triggering each other: ${path}`
    : `stopped a chain of ${chain.length + 1} actions triggering each other: ${path}`;
}
