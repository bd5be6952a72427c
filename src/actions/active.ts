/**
 * One action of the tree as it runs: its definition, its trigger patterns, its clock (schedule.ts) and
 * minInterval window, the runs under way, and how the last one ended. Kept across re-reads of the tree while
 * its element stays the same, so that its timers and state go on.
 */
import type { Principal } from '../auth/principal.ts';
import { viewOf, visibilityFor, type Visibility } from '../auth/visibility.ts';
import type { View } from '../tree/xpath.ts';
import type { Watch } from './changeMatch.ts';
import type { ActionDefinition } from './definition.ts';
import { TriggerPattern } from './pattern.ts';
import { MinIntervalGate, type Stoppable } from './schedule.ts';

/** How a run ended. */
export interface RunOutcome {
  ok: boolean;
  message?: string | undefined;
}

/** One firing of an action: the nodes that triggered it (none for a clock or a name), and the chain that caused it. */
export interface Firing {
  nodes: Node[] | undefined;
  chain: ActiveAction[];
}

/** Who a plugin's actions act as, by plugin name. */
type PrincipalOf = (name: string) => Principal;

export class ActiveAction {
  /** How the last run ended (kept in memory: recording every run in the tree would fill the journal). */
  lastOutcome: ({ at: number } & RunOutcome) | undefined;
  /** Runs under way; a loop found meanwhile is reported as their outcome, so their success does not hide it. */
  running = 0;
  loopMessage: string | undefined;
  stopped = false;
  readonly gate: MinIntervalGate<Firing>;
  readonly patterns: TriggerPattern[];
  /** Changes under its own status entry do not trigger it: recording a run is not a reason to run again. */
  readonly ownStatus: string[] | undefined;
  private schedule: Stoppable | undefined;

  constructor(readonly def: ActionDefinition) {
    this.patterns = def.xpaths.map((x) => new TriggerPattern(x));
    this.ownStatus = def.representing ? ['data', 'status', ...def.representing.split('/')] : undefined;
    this.gate = new MinIntervalGate((def.minInterval ?? 0) * 1000);
  }

  /** What its triggers, condition and templates see: all of the tree for the server's own actions. */
  view(pluginPrincipal?: PrincipalOf): View | undefined {
    const visibility = this.visibility(pluginPrincipal);
    return visibility && viewOf(visibility);
  }

  private visibility(pluginPrincipal?: PrincipalOf): Visibility | undefined {
    const plugin = this.def.plugin;
    if (plugin === undefined) return undefined;
    return visibilityFor(pluginPrincipal?.(plugin) ?? { kind: 'plugin', name: plugin }, 'plugin');
  }

  /** Its `<xpath>` triggers, for the change matcher (changeMatch.ts). */
  watches(pluginPrincipal?: PrincipalOf): Watch<ActiveAction>[] {
    return this.patterns.map((pattern) => ({
      owner: this,
      pattern,
      view: () => this.view(pluginPrincipal),
      viewKey: this.def.plugin ?? '',
      // A deleted node no view can place: the plugin's visibility says whether it could see it.
      sees: (chain) => this.visibility(pluginPrincipal)?.admitsChain(chain) ?? true,
      ignores: (chain) => this.ownStatus !== undefined && startsWith(chain, this.ownStatus),
    }));
  }

  get label(): string {
    return this.def.name ? `${this.def.name} (${this.def.ref})` : this.def.ref;
  }

  /** Its interval and cron, running until it stops. */
  scheduled(schedule: Stoppable): void {
    this.schedule = schedule;
  }

  stop(): void {
    this.stopped = true;
    this.schedule?.stop();
    this.gate.stop();
  }
}

function startsWith(chain: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= chain.length && prefix.every((p, i) => chain[i] === p);
}
