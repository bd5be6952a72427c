/**
 * igor history export XPATH and igor history stats: the home's past from a running server (its /history
 * routes, with the same visibility as any read: --credentials or --token say who asks).
 */
import type { Command } from 'commander';
import { httpRequest } from '../http/client.ts';
import type { HistoryStats } from '../history/stats.ts';
import { authHeaders, EXIT, report, serverOptions, type Io } from './common.ts';

type Done = (code: number) => void;

function baseOf(opts: Record<string, unknown>): string {
  return String(opts['url'])
    .replace(/\/+$/, '')
    .replace(/\/data$/, '');
}

async function runExport(xpath: string, opts: Record<string, unknown>, io: Io): Promise<number> {
  const path = xpath
    .replace(/^\/data\/?/, '')
    .split('/')
    .map(encodeURIComponent)
    .join('/');
  const url = new URL(`${baseOf(opts)}/history/${path}`);
  for (const key of ['from', 'to', 'points'] as const) if (opts[key] !== undefined) url.searchParams.set(key, String(opts[key]));
  url.searchParams.set('format', opts['json'] ? 'json' : 'csv');
  return report(await httpRequest(url.toString(), { headers: authHeaders(opts) }), io);
}

const MB = 1024 * 1024;

/** The stats in lines for a person. */
export function describeStats(s: HistoryStats): string {
  const lines = [`state: ${s.state}${s.problem ? ` (${s.problem})` : ''}`];
  if (s.file) {
    lines.push(
      `${s.file}: ${((s.bytes ?? 0) / MB).toFixed(1)} MB, ${s.readings} raw readings (${s.bytesPerReading} bytes each, statistics included), ${s.series?.length ?? 0} series`,
      `recorded up to write ${s.lastRecorded} of ${s.lastWrite}`,
      `keeps: ${s.settings?.include.join(', ')}${s.settings?.exclude.length ? `; not: ${s.settings.exclude.join(', ')}` : ''}; raw readings for ${s.settings?.rawDays} days`,
      `compaction: ${s.compaction?.steps} steps since start, the longest ${s.compaction?.longestStepMs} ms`,
      s.gaps?.length
        ? `missed: ${s.gaps.map((g) => `writes ${g.from}–${g.to} (noticed ${new Date(g.noticed).toISOString()})`).join('; ')}`
        : 'missed: nothing',
    );
    for (const x of s.series ?? [])
      lines.push(`  ${x.path}  ${x.kind}  ${x.readings} readings  latest ${x.value} at ${new Date(x.latest * 1000).toISOString()}`);
  }
  return lines.join('\n') + '\n';
}

async function runStats(opts: Record<string, unknown>, io: Io): Promise<number> {
  const res = await httpRequest(`${baseOf(opts)}/history`, { headers: { ...authHeaders(opts), Accept: 'application/json' } });
  if (res.status !== 200 || opts['json']) return report(res, io);
  io.out(describeStats(JSON.parse(res.body) as HistoryStats));
  return EXIT.ok;
}

export function historyCommand(program: Command, io: Io, done: Done): void {
  const history = serverOptions(
    program.command('history').description("the home's past, as the running server recorded it (see README, History)"),
  );
  history
    .command('export')
    .description('the readings of every series the path names, as CSV (or --json): raw where few, else min/mean/max buckets')
    .argument('<xpath>', 'path under /data, e.g. sensors/thermo or sensors/*/temperature')
    .option('--from <time>', 'from (ISO 8601 or seconds since 1970; default a day before --to)')
    .option('--to <time>', 'to (default now)')
    .option('--points <n>', 'about how many points per series (at most 10000; default 1000)')
    .option('--json', 'answer in JSON')
    .action(async (xpath: string, _opts, cmd: Command) => done(await runExport(xpath, cmd.optsWithGlobals(), io)));
  history
    .command('stats')
    .description("the history file's size, what it keeps and has missed, and each series (as an admin)")
    .option('--json', 'answer in JSON')
    .action(async (_opts, cmd: Command) => done(await runStats(cmd.optsWithGlobals(), io)));
}
