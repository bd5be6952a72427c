/**
 * GET /events?xpath=PATH[&xpath=PATH…]: the changes under those paths as Server-Sent Events, as far as the
 * client may read them — `id`, `event: change`, `data: {"path","operation","value"}` (value: the node's new
 * content in Igor's JSON, without hidden data or secrets; none for deletes). Heartbeat comments keep proxies
 * from closing an idle stream; `Last-Event-ID` resumes from the backlog, or gets `event: reset` when it cannot.
 */
import { routes } from './router.ts';
import { type Router, type Request, type Response } from 'express';
import { isAdmin, principalOf, type Principal } from '../auth/principal.ts';
import { visibilityFor, type Visibility } from '../auth/visibility.ts';
import { BadRequestError, UnavailableError } from '../errors.ts';
import type { TreeEvent } from '../events/hub.ts';
import { textOf } from '../tree/text.ts';
import { jsonOf, type Json } from '../tree/jsonxml.ts';
import { absolutePath } from '../tree/paths.ts';
import { parseSimplePath } from '../tree/simplePath.ts';
import type { HostContext } from './context.ts';
import { queryOf } from './negotiate.ts';

/** What these routes use of the host. */
type Deps = Pick<HostContext, 'config' | 'events'>;

/** The element names of a watched path; '*' matches any one name. */
function filterOf(xpath: string): string[] {
  const steps = parseSimplePath(absolutePath(xpath));
  if (!steps || steps[0]?.name !== 'data' || steps.some((s) => s.position !== undefined)) {
    throw new BadRequestError(`xpath=${xpath}: live updates follow plain paths such as /data/sensors/fitbit (no predicates)`);
  }
  return steps.map((s) => s.name);
}

/** The event is under the watched path, or above it (replacing an ancestor changes what is watched). */
function matches(filter: string[], chain: string[]): boolean {
  const n = Math.min(filter.length, chain.length);
  for (let i = 0; i < n; i++) if (filter[i] !== '*' && filter[i] !== chain[i]) return false;
  return true;
}

/** The event's value as the principal may see it: the copy is placed where the node was. */
function valueOf(visibility: Visibility, event: TreeEvent): Json | undefined {
  const node = event.node;
  if (!node) return undefined;
  const { show } = visibility.detached(node, event.chain);
  return node.nodeType === 1 ? jsonOf(node as Element, show) : textOf(node, show);
}

/** Bytes of events waiting for one slow client before it is skipped. */
const MAX_BUFFERED = 256 * 1024;

/**
 * Live-update slots are shared: all anonymous clients together, and any one user, may hold at most a quarter
 * of them, and the last tenth is kept for admins, so that nobody can take every slot from the others.
 */
class Slots {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(private readonly max: number) {}

  /** Takes a slot for `p`, or throws 503 saying why; the answer gives it back. */
  take(p: Principal): () => void {
    const key = p.kind === 'user' ? `user:${p.name}` : p.kind;
    const share = Math.max(1, Math.ceil(this.max / 4));
    const open = isAdmin(p) ? this.max : this.max - Math.floor(this.max / 10);
    const mine = this.held.get(key) ?? 0;
    if (this.total >= open) throw new UnavailableError(`there are already ${this.total} live-update clients; try again later`);
    if (!isAdmin(p) && mine >= share) {
      throw new UnavailableError(
        `${p.kind === 'anonymous' ? 'anonymous clients have' : 'you have'} ${mine} live-update streams open already, the most allowed; close one or log in`,
      );
    }
    this.held.set(key, mine + 1);
    this.total++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.total--;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
    };
  }
}

export function eventRoutes(ctx: Deps): Router {
  const router = routes();
  const slots = new Slots(ctx.config.maxSseClients);
  router.get('/events', (req: Request, res: Response) => {
    const p = principalOf(req);
    const visibility = visibilityFor(p, 'read');
    const asked = queryOf(req).getAll('xpath');
    const filters = (asked.length ? asked : ['/data']).map(filterOf);
    const giveBack = slots.take(p);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // nginx: pass events on as they come
    });
    res.write('retry: 2000\n\n');

    // A client that does not keep up is not buffered for without end: past MAX_BUFFERED it is skipped, and
    // once its connection drains it gets `event: reset` (read the tree again) instead of what it missed.
    let lagging = false;
    res.on('drain', () => {
      if (!lagging) return;
      lagging = false;
      res.write(
        `event: reset\ndata: ${JSON.stringify({ reason: 'you fell behind; some changes were left out; read the tree again' })}\n\n`,
      );
    });
    const send = (event: TreeEvent) => {
      if (lagging) return;
      if (res.writableLength > MAX_BUFFERED) {
        lagging = true;
        return;
      }
      if (!filters.some((f) => matches(f, event.chain))) return;
      if (!visibility.admitsChain(event.chain)) return;
      const value = valueOf(visibility, event);
      const data = JSON.stringify({ path: event.path, operation: event.operation, ...(value !== undefined ? { value } : {}) });
      res.write(`id: ${event.id}\nevent: change\ndata: ${data}\n\n`);
    };
    const last = req.headers['last-event-id'] ?? req.query['lastEventId'];
    if (typeof last === 'string' && last) {
      const missed = ctx.events.since(last);
      if (missed) missed.forEach(send);
      else
        res.write(
          `event: reset\ndata: ${JSON.stringify({ reason: 'some changes since your last event are no longer kept; read the tree again' })}\n\n`,
        );
    }
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), ctx.config.sseHeartbeatMs);
    const stop = () => {
      clearInterval(heartbeat);
      unsubscribe();
      giveBack();
      res.end();
    };
    const unsubscribe = ctx.events.subscribe(send, stop);
    req.on('close', stop);
  });
  return router;
}
