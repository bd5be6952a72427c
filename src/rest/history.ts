/**
 * The home's past (src/history/): GET /history/XPATH?from=…&to=…&points=N, the points of every series the
 * path names that the reader may read now, as JSON or CSV (points=0: only which series, with their first and
 * latest readings, for a page to lay out its plots); GET /history, how the history is doing (admins);
 * GET /metrics, the latest values in Prometheus' text format (anyone logged in, of what they may read).
 */
import type { Request, Response, Router } from 'express';
import { routes } from './router.ts';
import Negotiator from 'negotiator';
import { deny } from '../auth/policy.ts';
import { principalOf, type Principal } from '../auth/principal.ts';
import { viewOf, visibilityFor, type Visibility } from '../auth/visibility.ts';
import { BadRequestError, MethodNotAllowedError, NotAcceptableError } from '../errors.ts';
import { metricsText, METRICS_CONTENT_TYPE } from '../history/metrics.ts';
import type { Range, SeriesAnswer } from '../history/query.ts';
import { historyStats } from '../history/stats.ts';
import { namesOfNodes, plainNames, seriesUnder } from '../history/select.ts';
import { absolutePath } from '../tree/paths.ts';
import type { HostContext } from './context.ts';
import { evaluation } from './data.ts';
import { canonicalOf } from '../http/canonical.ts';
import { adminOnly } from './guards.ts';
import { queryOf } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'config' | 'db' | 'fairness' | 'history'>;

export const MAX_POINTS = 10_000;
export const MAX_SERIES = 200;
/** Series listed at most by points=0 (no points are read for them). */
export const MAX_LISTED = 5000;
const DAY = 86_400_000;

/** A time parameter: seconds since 1970, or an ISO 8601 date and time; ms. */
function timeParam(query: URLSearchParams, name: string, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const ms = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15)
    throw new BadRequestError(
      `${name}=${text} is not a time; give seconds since 1970 or an ISO 8601 time such as 2026-01-31T12:00Z`,
      'bad_time',
    );
  return Math.floor(ms);
}

export function rangeOf(query: URLSearchParams, now: number): Range {
  const to = timeParam(query, 'to', now);
  const from = timeParam(query, 'from', to - DAY);
  if (from >= to) throw new BadRequestError(`from must be before to (from=${query.get('from')}, to=${query.get('to')})`, 'bad_time');
  const text = query.get('points') ?? '1000';
  const points = Number(text);
  if (!/^\d+$/.test(text) || points > MAX_POINTS)
    throw new BadRequestError(`points=${text}: give a whole number from 0 (the series only) to ${MAX_POINTS}`, 'bad_points');
  return { from, to, points };
}

function formatOf(req: Request, query: URLSearchParams): 'json' | 'csv' {
  const asked = query.get('format');
  if (asked === 'csv' || asked === 'json') return asked;
  if (asked !== null) throw new BadRequestError(`format=${asked}: use json or csv`);
  if (!req.headers.accept) return 'json';
  const best = new Negotiator(req).mediaType(['application/json', 'text/csv']);
  if (!best) throw new NotAcceptableError('the history is answered as application/json or text/csv');
  return best === 'text/csv' ? 'csv' : 'json';
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per point: raw points give `value`; buckets their mean as `value`, with min, max and count. */
export function csvOf(answers: readonly SeriesAnswer[]): string {
  const lines = ['path,time,value,min,max,count'];
  for (const a of answers) {
    for (const p of a.points) {
      const time = new Date((p[0] as number) * 1000).toISOString();
      const row = p.length === 2 ? [a.path, time, p[1], '', '', ''] : [a.path, time, p[2], p[1], p[3], p[4]];
      lines.push(row.map(csvField).join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * Nothing recorded that the reader may read: refused when the rules keep the path from it (told by names alone,
 * never by what is recorded); else an empty history, as a time-series query that matches nothing answers.
 */
function refuseIfHidden(p: Principal, path: string, names: string[] | undefined, visibility: Visibility): void {
  const star = names?.indexOf('*') ?? -1;
  const fixed = names && (star < 0 ? names : names.slice(0, star));
  if (fixed && !visibility.admitsChain(fixed)) deny(p, 'get', path);
}

async function readHistory(ctx: Deps, req: Request, res: Response): Promise<void> {
  const p = principalOf(req);
  const path = absolutePath(canonicalOf(req).xpath ?? '');
  const query = queryOf(req);
  const range = rangeOf(query, Date.now());
  const format = formatOf(req, query);
  const visibility = visibilityFor(p, 'read');
  const reader = await ctx.history.reader();
  const names = plainNames(path);
  const patterns =
    names !== undefined
      ? [names]
      : namesOfNodes(
          await evaluation(ctx, req, p, path, (timeLimitMs) =>
            ctx.db.tree.select(path, ctx.db.tree.doc, { view: viewOf(visibility), timeLimitMs }),
          ),
        );
  const series = seriesUnder(patterns, reader.store.series.values(), visibility);
  if (series.length === 0) refuseIfHidden(p, path, names, visibility);
  if (range.points === 0) {
    if (series.length > MAX_LISTED)
      throw new BadRequestError(`${path} names ${series.length} series; list at most ${MAX_LISTED} at a time`, 'too_many_series');
    const listed = series.map((s) => ({
      path: s.path,
      kind: s.kind,
      first: reader.queries.first(s) / 1000,
      latest: [s.lastT / 1000, s.lastValue],
    }));
    res.json({ series: listed });
    return;
  }
  if (series.length > MAX_SERIES)
    throw new BadRequestError(
      `${path} names ${series.length} series; ask for at most ${MAX_SERIES} at a time (a narrower path)`,
      'too_many_series',
    );
  // One series at a time, each in its turn: other requests are answered in between.
  const answers: SeriesAnswer[] = [];
  for (const s of series) answers.push(await ctx.fairness.run(p, req, () => reader.queries.read(s, range)));
  const body =
    format === 'csv'
      ? csvOf(answers)
      : JSON.stringify({ from: range.from / 1000, to: range.to / 1000, points: range.points, series: answers }) + '\n';
  if (Buffer.byteLength(body) > ctx.config.maxResultBytes)
    throw new BadRequestError(
      `the answer would be over the limit of ${ctx.config.maxResultBytes} bytes; ask for fewer points or series`,
      'result_too_large',
    );
  res.writeHead(200, {
    'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function historyRoutes(ctx: Deps): Router {
  const router = routes();
  router.all(/^\/history(\/.*)?$/, (req, _res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError('/history only answers GET');
    next();
  });
  router.get('/history', adminOnly, async (_req, res) => {
    res.json(await historyStats(ctx.history, ctx.db));
  });
  router.get(/^\/history\/.+/, (req, res) => readHistory(ctx, req, res));
  router.get('/metrics', async (req, res) => {
    const p = principalOf(req);
    if (p.kind === 'anonymous') deny(p, 'get', '/metrics');
    const reader = await ctx.history.reader();
    const body = metricsText(reader.store.series.values(), visibilityFor(p, 'read'), ctx.db.tree.root);
    res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  return router;
}
