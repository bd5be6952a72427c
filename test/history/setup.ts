/** What the history tests share: a database with a recorder, written to as the server writes, and its readings. */
import { join } from 'node:path';
import { History, type HistoryOptions } from '../../src/history/recorder.ts';
import { VALUE } from '../../src/history/store.ts';
import type { Value } from '../../src/history/values.ts';
import { quietLogger } from '../../src/logger.ts';
import { PACKAGE_DIR } from '../../src/server.ts';
import { Database } from '../../src/store/database.ts';
import { elementFromJson, type Json } from '../../src/tree/jsonxml.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { onCleanup } from '../helpers.ts';

export const TEMPLATE = join(PACKAGE_DIR, 'template', 'database.xml');

export { sqliteSkip } from './sqlite.ts';

export interface Recorded {
  db: Database;
  history: History;
  /** PUT of XML (or of a JSON value, made into the element named by the path's last step). */
  put(path: string, value: string | Json): Promise<void>;
  post(path: string, value: Json): Promise<void>;
  del(path: string): Promise<void>;
  /** Every raw reading: [series, time in ms, value], by series and time. */
  readings(): Promise<[string, number, Value][]>;
  close(): Promise<void>;
  /** Stops as kill -9 would: what the recorder had queued is lost, the journal keeps what was acknowledged. */
  crash(): void;
}

function elementOf(db: Database, path: string, value: string | Json): Element {
  if (typeof value === 'string' && value.startsWith('<')) return parseXml(value).documentElement!;
  return elementFromJson(db.tree.doc, path.split('/').pop()!.replace(/\[.*$/, ''), value);
}

/**
 * Opens (or creates) the database in `dir` with a recorder that compacts only when asked; `start: false` leaves
 * it to be started (by a read).
 */
export async function recorded(dir: string, options: Omit<HistoryOptions, 'db' | 'logger'> & { start?: boolean } = {}): Promise<Recorded> {
  const db = await Database.open({ dir, template: TEMPLATE, logger: quietLogger() });
  const history = new History(db, quietLogger(), { compactEveryMs: 0, ...options });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await db.flush();
    await history.close();
    await db.close();
  };
  onCleanup(close);
  if (options.start !== false) await history.start();
  return {
    db,
    history,
    put: async (path, value) => {
      await db.write((t) => t.put(path, elementOf(db, path, value)));
    },
    post: async (path, value) => {
      await db.write((t) => t.post(path, elementOf(db, path, value)));
    },
    del: async (path) => {
      await db.write((t) => t.delete(path));
    },
    readings: async () => {
      const { store } = await history.reader();
      const rows = store.db
        .prepare(
          `SELECT s.path, r.t, ${VALUE.replace(/value/g, 'r.value')}, s.kind FROM readings r JOIN series s ON s.id = r.series
           UNION ALL SELECT s.path, x.t, x.value, s.kind FROM texts x JOIN series s ON s.id = x.series ORDER BY 1, 2`,
        )
        .raw()
        .all() as [string, number, number | string, number][];
      return rows.map(([path, t, v, kind]) => [path, t, kind === 1 && typeof v === 'number' ? v === 1 : v]);
    },
    close,
    crash: () => {
      closed = true;
      history.abandon();
      db.abandon();
    },
  };
}
