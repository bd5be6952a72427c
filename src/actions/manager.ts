/**
 * The actions of the tree, kept running: `<action>` elements under actions/ and plugindata/NAME/ are read at
 * start and again whenever one is added, changed or deleted (a deleted action stops at once). Each runs on
 * its triggers — interval, cron, matching changes, its name — within its minInterval, and records how each
 * run went under status/<representing>. The manager composes the pieces that do each job: loader.ts reads the
 * tree, schedule.ts keeps the clocks, changeMatch.ts matches changes, causes.ts stops loops, prepare.ts fills in a
 * run's call, runner.ts queues it, caller.ts makes it, record.ts records it, report.ts says what runs.
 */
import { redactUrls } from '../http/redact.ts';
import type { Logger } from '../logger.ts';
import type { Database } from '../store/database.ts';
import type { ChangeEvent } from '../tree/tree.ts';
import type { WorkTracker } from '../work.ts';
import type { ActiveAction, Firing } from './active.ts';
import { ActionCaller, type CallerHost } from './caller.ts';
import { currentChain, loopProblem, runCausedBy } from './causes.ts';
import { reloadActions, touchesActions, validateActions } from './loader.ts';
import { prepareCall, type PreparedCall } from './prepare.ts';
import { recordRun } from './record.ts';
import { dumpLine, runOf, type ActionRun } from './report.ts';
import { ActionRunner, laneOf } from './runner.ts';
import { scheduleAction } from './schedule.ts';
import { ChangeMatcher } from './changeMatch.ts';

export { currentAction } from './causes.ts';
export type { ActionRun } from './report.ts';

/** What runs the actions: what makes their calls (caller.ts), and the database, log and work they use. */
export interface ActionHost extends CallerHost {
  db: Database;
  logger: Logger;
  work: WorkTracker;
}

export class ActionManager {
  private actions: ActiveAction[] = [];
  private matcher = new ChangeMatcher<ActiveAction>([]);
  private syncScheduled = false;
  private readonly runner = new ActionRunner();
  private readonly caller: ActionCaller;
  private readonly onChange = (events: ChangeEvent[]) => this.changed(events);

  constructor(private readonly host: ActionHost) {
    this.caller = new ActionCaller(host);
  }

  start(): void {
    this.host.work.register(this.runner);
    this.host.db.addValidator(validateActions);
    this.host.db.on('change', this.onChange);
    this.sync();
    this.runByName('_start');
  }

  stop(): void {
    this.host.db.off('change', this.onChange);
    for (const a of this.actions) a.stop();
    this.actions = [];
  }

  /** What runs and what waits, as lines of text (Igor's /internal/dump). */
  dump(): string[] {
    const lines = Object.entries(this.runner.load()).map(
      ([lane, { waiting, running }]) => `queue ${lane}: ${running} running, ${waiting} waiting`,
    );
    return [...lines, ...this.actions.map(dumpLine)];
  }

  /** Each action as it runs now, for the actions page: where it is, whose it is and how its last run went. */
  runs(): ActionRun[] {
    return this.actions.map(runOf);
  }

  /** GET /action/NAME and /action/PLUGIN/NAME: runs the actions of that name; answers how many. */
  runByName(name: string, plugin?: string): number {
    const chosen = this.actions.filter(
      (a) => a.def.name === name && (plugin !== undefined ? a.def.plugin === plugin : a.def.plugin === undefined || name.startsWith('_')),
    );
    const chain = currentChain();
    for (const a of chosen) this.fire(a, { nodes: undefined, chain });
    return chosen.length;
  }

  /** Brings the running actions in line with the tree: unchanged ones keep their timers and state. */
  private sync(): void {
    this.syncScheduled = false;
    const previous = this.actions;
    const { actions, started, gone } = reloadActions(this.host.db.tree, previous, this.host.logger);
    for (const a of gone) a.stop();
    this.actions = actions;
    this.matcher = new ChangeMatcher(actions.flatMap((a) => a.watches(this.host.pluginPrincipal)));
    for (const a of started) a.scheduled(scheduleAction(a.def, () => this.fire(a, { nodes: undefined, chain: [] })));
    if (started.length || previous.length) this.host.logger.debug({ actions: actions.length, started: started.length }, 'actions updated');
  }

  private changed(events: ChangeEvent[]): void {
    if (!this.syncScheduled && touchesActions(events)) {
      this.syncScheduled = true;
      queueMicrotask(() => this.sync());
    }
    const matched = this.matcher.match(events, this.host.db.tree);
    if (matched.size === 0) return;
    const chain = currentChain();
    for (const [action, nodes] of matched) this.fire(action, { nodes, chain });
  }

  /** A trigger: runs the action now, or at the end of its minInterval window; a loop is stopped and recorded. */
  private fire(a: ActiveAction, firing: Firing): void {
    if (a.stopped) return;
    const loop = loopProblem(firing.chain, a);
    if (loop) {
      this.host.logger.warn({ action: a.label }, loop);
      if (a.running > 0) a.loopMessage = loop;
      else void recordRun(this.host.db, this.host.logger, a, { ok: false, message: loop });
      return;
    }
    // Deferred, not dropped: the latest trigger runs when the window closes (and is checked again then).
    if (!a.gate.admit(firing, (latest) => this.fire(a, latest))) return;
    const { nodes } = firing;
    const contexts = nodes && nodes.length ? (a.def.multiple ? nodes : [nodes[0]!]) : [this.host.db.tree.root];
    for (const context of contexts) this.enqueue(a, context, [...firing.chain, a]);
  }

  private enqueue(a: ActiveAction, context: Node, chain: ActiveAction[]): void {
    const { def } = a;
    let prepared: PreparedCall | undefined;
    try {
      prepared = prepareCall(def, this.host.db.tree, context, a.view(this.host.pluginPrincipal));
    } catch (err) {
      void recordRun(this.host.db, this.host.logger, a, { ok: false, message: (err as Error).message });
      return;
    }
    if (!prepared) return; // its condition does not hold
    const { url, data } = prepared;
    this.runner.enqueue({
      lane: laneOf(url),
      signature: JSON.stringify([def.method, url, data, def.mimetype]),
      aggregate: def.aggregate,
      run: () => runCausedBy(chain, () => this.execute(a, url, data)),
    });
  }

  private async execute(a: ActiveAction, url: string, data: string | undefined): Promise<void> {
    if (a.stopped) return;
    a.running++;
    let outcome = await this.caller.call(a.def, url, data).finally(() => a.running--);
    if (a.loopMessage !== undefined) {
      outcome = { ok: false, message: a.loopMessage };
      a.loopMessage = undefined;
    }
    if (!outcome.ok) this.host.logger.warn({ action: a.label, url: redactUrls(url), error: outcome.message }, 'action failed');
    a.lastOutcome = { at: Date.now(), ...outcome };
    await recordRun(this.host.db, this.host.logger, a, outcome);
  }
}
