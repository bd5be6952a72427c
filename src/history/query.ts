/**
 * Reading a series for a plot: about `points` points between `from` and `to` (ms). Raw readings when there are
 * no more than that; otherwise min/mean/max buckets of equal width, made from the coarsest level that still
 * gives that many: hourly statistics when a bucket is an hour or more, 5-minute ones when it is 5 minutes or
 * more, else the raw readings themselves (or the 5-minute statistics, where raw readings are no longer kept).
 * Text values have no statistics: the last of each bucket, from the raw readings.
 */
import type { Compactor } from './compaction.ts';
import { decoded, VALUE, valueAs, type HistoryStore, type Kind, type Series } from './store.ts';
import type { Value } from './values.ts';

export type Level = 'raw' | '5m' | '1h';

export interface SeriesAnswer {
  path: string;
  kind: Kind;
  /** Where the points come from: raw readings, or statistics per 5 minutes or per hour. */
  level: Level;
  /** Raw points are [time, value]; buckets [time, min, mean, max, count]. Times in seconds since 1970. */
  columns: string[];
  points: (number | Value)[][];
}

export interface Range {
  from: number;
  to: number;
  points: number;
}

const RAW_COLUMNS = ['time', 'value'];
const BUCKET_COLUMNS = ['time', 'min', 'mean', 'max', 'count'];
const SIZE: Record<Exclude<Level, 'raw'>, number> = { '5m': 300_000, '1h': 3_600_000 };

export class HistoryQueries {
  private readonly sql;

  constructor(
    store: HistoryStore,
    private readonly compactor: Compactor,
  ) {
    const db = store.db;
    const buckets = (table: string) =>
      db
        .prepare(
          `SELECT min(t) AS t, min(${decoded('min')}) AS lo, sum(${decoded('mean')} * n) / sum(n) AS mean, max(${decoded('max')}) AS hi, sum(n) AS n FROM ${table}
           WHERE series = ? AND t >= ? AND t < ? GROUP BY CAST((t - ?) / ? AS INTEGER) ORDER BY 1`,
        )
        .raw();
    this.sql = {
      countRaw: db.prepare('SELECT count(*) FROM (SELECT 1 FROM readings WHERE series = ? AND t >= ? AND t < ? LIMIT ?)').pluck(),
      raw: db.prepare(`SELECT t, ${VALUE} FROM readings WHERE series = ? AND t >= ? AND t < ? ORDER BY t`).raw(),
      rawBuckets: db
        .prepare(
          `SELECT min(t), min(${VALUE}), avg(${VALUE}), max(${VALUE}), count(*) FROM readings
           WHERE series = ? AND t >= ? AND t < ? GROUP BY CAST((t - ?) / ? AS INTEGER) ORDER BY 1`,
        )
        .raw(),
      countTexts: db.prepare('SELECT count(*) FROM (SELECT 1 FROM texts WHERE series = ? AND t >= ? AND t < ? LIMIT ?)').pluck(),
      texts: db.prepare('SELECT t, value FROM texts WHERE series = ? AND t >= ? AND t < ? ORDER BY t').raw(),
      lastTexts: db
        .prepare('SELECT max(t), value FROM texts WHERE series = ? AND t >= ? AND t < ? GROUP BY CAST((t - ?) / ? AS INTEGER) ORDER BY 1')
        .raw(),
      first: db
        .prepare(
          `SELECT min(coalesce((SELECT min(t) FROM readings WHERE series = @s), 1e18),
           coalesce((SELECT min(t) FROM stats_5m WHERE series = @s), 1e18), coalesce((SELECT min(t) FROM texts WHERE series = @s), 1e18))`,
        )
        .pluck(),
      '5m': buckets('stats_5m'),
      '1h': buckets('stats_1h'),
    };
  }

  /** The time (ms) of the series' first reading still kept, raw or in statistics. */
  first(series: Series): number {
    return Math.min(series.lastT, this.sql.first.get({ s: series.id }) as number);
  }

  /** The points of `series` in `range`. */
  read(series: Series, range: Range): SeriesAnswer {
    const { from, to, points } = range;
    const width = Math.max(1, Math.floor((to - from) / points));
    const answer = (level: Level, rows: unknown[][], raw: boolean): SeriesAnswer => ({
      path: series.path,
      kind: series.kind,
      level,
      columns: raw ? RAW_COLUMNS : BUCKET_COLUMNS,
      points: rows.map(([t, ...rest]) => [(t as number) / 1000, ...(raw ? [valueAs(series.kind, rest[0])] : (rest as number[]))]),
    });
    if (series.kind === 'text') {
      const few = (this.sql.countTexts.get(series.id, from, to, points + 1) as number) <= points;
      const rows = few ? this.sql.texts.all(series.id, from, to) : this.sql.lastTexts.all(series.id, from, to, from, width);
      return answer('raw', rows as unknown[][], true);
    }
    const rawKept = from >= series.sealedBefore;
    if (rawKept && (this.sql.countRaw.get(series.id, from, to, points + 1) as number) <= points) {
      return answer('raw', this.sql.raw.all(series.id, from, to) as unknown[][], true);
    }
    const level: Level = width >= SIZE['1h'] ? '1h' : width >= SIZE['5m'] || !rawKept ? '5m' : 'raw';
    if (level === 'raw') return answer('raw', this.sql.rawBuckets.all(series.id, from, to, from, width) as unknown[][], false);
    this.compactor.compactRange(series, from, to);
    const start = Math.floor(from / SIZE[level]) * SIZE[level];
    return answer(level, this.sql[level].all(series.id, start, to, from, width) as unknown[][], false);
  }
}
