/**
 * How the history is doing, for an admin (GET /history, `igor history stats`): its file and size, what it
 * keeps, how far it has recorded the journal and what it missed, and the longest compaction step. The raw
 * readings are counted a series at a time, each in a turn of its own, so a big file does not hold the server.
 */
import { statSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Database } from '../store/database.ts';
import type { History } from './recorder.ts';
import type { Gap, Kind } from './store.ts';

export interface SeriesStats {
  path: string;
  kind: Kind;
  /** Raw readings kept. */
  readings: number;
  /** Time of the latest reading (seconds since 1970) and its value. */
  latest: number;
  value: number | boolean | string;
}

export interface HistoryStats {
  state: string;
  problem?: string;
  file?: string;
  /** The file and its write-ahead log, in bytes. */
  bytes?: number;
  readings?: number;
  bytesPerReading?: number;
  /** The number of the last write recorded, and of the last write made. */
  lastRecorded?: number;
  lastWrite: number;
  gaps?: Gap[];
  settings?: { include: string[]; exclude: string[]; rawDays: number };
  compaction?: { steps: number; longestStepMs: number };
  series?: SeriesStats[];
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export async function historyStats(history: History, db: Database): Promise<HistoryStats> {
  const status = history.status;
  let reader: Awaited<ReturnType<History['reader']>>;
  try {
    reader = await history.reader();
  } catch {
    return { state: status.state, ...(status.problem ? { problem: status.problem } : {}), lastWrite: db.lastWrite };
  }
  const { store, compactor, settings } = reader;
  const count = store.db
    .prepare('SELECT (SELECT count(*) FROM readings WHERE series = ?) + (SELECT count(*) FROM texts WHERE series = ?)')
    .pluck();
  const series: SeriesStats[] = [];
  for (const s of [...store.series.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (!store.db.open) break;
    series.push({ path: s.path, kind: s.kind, readings: count.get(s.id, s.id) as number, latest: s.lastT / 1000, value: s.lastValue });
    await nextTurn();
  }
  const bytes = sizeOf(store.file) + sizeOf(`${store.file}-wal`);
  const readings = series.reduce((sum, s) => sum + s.readings, 0);
  return {
    state: history.status.state,
    file: store.file,
    bytes,
    readings,
    bytesPerReading: readings ? Math.round((bytes / readings) * 10) / 10 : 0,
    lastRecorded: store.lastRecorded,
    lastWrite: db.lastWrite,
    gaps: store.gaps(),
    settings: {
      include: settings.include.map((p) => p.join('/')),
      exclude: settings.exclude.map((p) => p.join('/')),
      rawDays: settings.rawDays,
    },
    compaction: { steps: compactor.steps, longestStepMs: Math.round(compactor.longestStepMs * 10) / 10 },
    series,
  };
}
