/** What runs and how it went, in words: the lines of /internal/dump and the rows of the actions page. */
import type { ActiveAction } from './active.ts';

export interface ActionRun {
  ref: string;
  name?: string;
  plugin?: string;
  /** Seconds since 1970 when the last run since start ended, and whether it went well. */
  lastRun?: number;
  ok?: boolean;
  message?: string;
  running: number;
}

/** One action as Igor's /internal/dump says it: its call, what runs it, when it last ran, what is running now. */
export function dumpLine(a: ActiveAction): string {
  const { def } = a;
  const when = [
    def.interval !== undefined ? `every ${def.interval} s` : '',
    def.cron !== undefined ? `cron ${def.cron}` : '',
    ...def.xpaths.map((x) => `on ${x}`),
  ].filter(Boolean);
  const last = Number.isFinite(a.gate.lastRun) ? `, last run ${new Date(a.gate.lastRun).toISOString()}` : '';
  return `action ${a.label}${def.plugin ? ` [plugin ${def.plugin}]` : ''}: ${def.method} ${def.url}${when.length ? `; ${when.join(', ')}` : ''}${last}${a.running ? `, ${a.running} running` : ''}`;
}

/** One action for the actions page: where it is, whose it is and how its last run went. */
export function runOf({ def, lastOutcome, running }: ActiveAction): ActionRun {
  return {
    ref: def.ref,
    ...(def.name ? { name: def.name } : {}),
    ...(def.plugin ? { plugin: def.plugin } : {}),
    ...(lastOutcome ? { lastRun: lastOutcome.at / 1000, ok: lastOutcome.ok } : {}),
    ...(lastOutcome?.message ? { message: lastOutcome.message } : {}),
    running,
  };
}
