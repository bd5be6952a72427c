/**
 * Refused requests, recorded like Igor's accessFailure under services/igor/accessFailures for an admin to see:
 * each distinct (who, what, where) once an hour at most, and only the newest 100 kept, so a flood of refused
 * requests cannot flood the tree.
 */
import type { Logger } from '../logger.ts';
import type { Database } from '../store/database.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { combine } from '../tree/tree.ts';
import { describe, type Principal } from './principal.ts';

const KEEP = 100;
const QUIET_MS = 3600 * 1000;
const PATH = '/data/services/igor/accessFailures/accessFailure';

export class AccessFailures {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /**
   * In Igor's shape, so Igor's tooling and pages read it: `operation` lowercase (get, put, post, delete, or
   * login), `path` what was refused, `requestPath` the URL asked, `action` the action whose call was refused
   * (when one was), and `who` besides.
   */
  record(who: Principal, operation: string, path: string, context: { requestPath?: string; action?: string } = {}): void {
    const key = `${describe(who)}\0${operation}\0${path}\0${context.action ?? ''}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now) return;
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(key, now + QUIET_MS);
    this.logger.warn({ who: describe(who), operation, path, ...context }, 'access refused');
    const entry = {
      operation: operation.toLowerCase(),
      path,
      ...(context.requestPath ? { requestPath: context.requestPath } : {}),
      ...(context.action ? { action: context.action } : {}),
      who: describe(who),
      timestamp: Math.floor(now / 1000),
    };
    this.db
      .write((t) => {
        const added = t.post(PATH, elementFromJson(t.doc, 'accessFailure', entry));
        const count = t.select(PATH).length;
        return count > KEEP ? combine([added, t.delete(`${PATH}[position() <= ${count - KEEP}]`)]) : added;
      })
      .catch((err: unknown) => this.logger.error({ err }, 'could not record an access failure'));
  }
}
