/**
 * Refused requests, recorded like Igor's accessFailure under services/igor/accessFailures for an admin to see:
 * each distinct (who, what, where) once an hour at most, at most a few a minute from any one client whatever it
 * asks, paths cut short, and only the newest 100 kept, so a flood of refused requests can flood neither the tree
 * nor the journal nor the log.
 */
import type { Logger } from '../logger.ts';
import type { Database } from '../store/database.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { combine } from '../tree/tree.ts';
import { describe, type Principal } from './principal.ts';

const KEEP = 100;
const QUIET_MS = 3600 * 1000;
/** Records (and log lines) one client may cause per minute; the rest are counted and said once the minute is over. */
const PER_CLIENT_PER_MINUTE = 10;
const MINUTE_MS = 60_000;
/** Longest path kept in a record: enough to tell what was asked. */
const MAX_PATH = 200;

function cut(path: string): string {
  return path.length <= MAX_PATH ? path : `${path.slice(0, MAX_PATH)}…`;
}
const PATH = '/data/services/igor/accessFailures/accessFailure';

export class AccessFailures {
  private readonly recent = new Map<string, number>();
  /** Per client: when its minute began, how many it was recorded, and how many went unrecorded. */
  private readonly clients = new Map<string, { since: number; recorded: number; dropped: number }>();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /**
   * In Igor's shape, so Igor's tooling and pages read it: `operation` lowercase (get, put, post, delete, or
   * login), `path` what was refused, `requestPath` the URL asked, `action` the action whose call was refused
   * (when one was), and `who` besides.
   */
  record(
    who: Principal,
    operation: string,
    fullPath: string,
    context: { requestPath?: string; action?: string; client?: string } = {},
  ): void {
    const path = cut(fullPath);
    const key = `${describe(who)}\0${operation}\0${path}\0${context.action ?? ''}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now) return;
    if (!this.withinClientBudget(who.kind === 'anonymous' ? (context.client ?? 'anonymous') : describe(who), now)) return;
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(key, now + QUIET_MS);
    this.logger.warn(
      { who: describe(who), operation, path, ...context, requestPath: context.requestPath && cut(context.requestPath) },
      'access refused',
    );
    const entry = {
      operation: operation.toLowerCase(),
      path,
      ...(context.requestPath ? { requestPath: cut(context.requestPath) } : {}),
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

  /** Whether one more record from `client` fits in its minute; says how many it dropped once a new minute begins. */
  private withinClientBudget(client: string, now: number): boolean {
    let c = this.clients.get(client);
    if (!c || now - c.since >= MINUTE_MS) {
      if (c?.dropped) this.logger.warn({ client, dropped: c.dropped }, 'more refusals from this client went unrecorded');
      if (this.clients.size > 10_000) this.clients.clear();
      this.clients.set(client, (c = { since: now, recorded: 0, dropped: 0 }));
    }
    if (c.recorded >= PER_CLIENT_PER_MINUTE) {
      c.dropped++;
      return false;
    }
    c.recorded++;
    return true;
  }
}
