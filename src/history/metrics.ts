/**
 * GET /metrics in Prometheus' text format (version 0.0.4), so Prometheus, VictoriaMetrics or a Grafana agent
 * can scrape the home and keep years of it elsewhere: every recorded numeric (or boolean, as 0 and 1) value
 * the reader may read and that is still in the tree, as the gauge `igor_value` labelled by its path, and when
 * it was recorded as `igor_value_time_seconds`. No sample carries a timestamp: a value that has not changed for
 * hours is still the value now, and Prometheus refuses samples older than its head block.
 */
import type { Visibility } from '../auth/visibility.ts';
import { chainOf, inTree } from './select.ts';
import type { Series } from './store.ts';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value as the format has it: backslash, double quote and line feed escaped. */
function label(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

export function metricsText(all: Iterable<Series>, visibility: Visibility, root: Element): string {
  const shown = [...all]
    .filter((s) => s.kind !== 'text' && visibility.admitsChain(chainOf(s)) && inTree(root, s.path.split('/')))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const values = shown.map((s) => `igor_value{path="${label(s.path)}"} ${Number(s.lastValue)}`);
  const times = shown.map((s) => `igor_value_time_seconds{path="${label(s.path)}"} ${s.lastT / 1000}`);
  return [
    '# HELP igor_value The latest recorded value at each path of the tree (booleans as 0 and 1).',
    '# TYPE igor_value gauge',
    ...values,
    '# HELP igor_value_time_seconds When the latest value at each path was recorded, in seconds since 1970.',
    '# TYPE igor_value_time_seconds gauge',
    ...times,
    '',
  ].join('\n');
}
