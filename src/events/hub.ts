/**
 * The stream of changes for live updates: every durable change of the tree becomes numbered events (one per
 * changed node: its path, the operation, and a copy of the node as it was then), kept in a bounded backlog
 * so that a client that lost its connection can resume where it was (Last-Event-ID). While nobody has
 * listened for a while, nothing is copied or kept: live updates cost nothing to a server that does not use them.
 */
import type { Database } from '../store/database.ts';
import type { ChangeEvent } from '../tree/tree.ts';
import { ancestry } from '../tree/refs.ts';

export interface TreeEvent {
  /** `BOOT:N`: N counts up; BOOT changes when the server restarts, so old ids are recognised as such. */
  id: string;
  seq: number;
  operation: 'add' | 'replace' | 'delete';
  path: string;
  /** Element names from the root to the node, e.g. ['data', 'sensors', 'x']. */
  chain: string[];
  /** A detached copy of the new node (none for deletes). */
  node?: Node;
}

export type Listener = (event: TreeEvent) => void;

/** How long after the last client left changes are still kept for one that comes back. */
const RESUME_MS = 5 * 60 * 1000;

export class EventHub {
  readonly boot = Date.now().toString(36);
  private seq = 0;
  private readonly backlog: TreeEvent[] = [];
  private readonly listeners = new Map<Listener, () => void>();
  /** When the last client left; events are kept for a resume until RESUME_MS after that. */
  private lastClientLeft = -Infinity;
  private readonly onChange = (events: ChangeEvent[]) => this.publish(events);

  constructor(
    private readonly db: Database,
    private readonly backlogSize = 1000,
  ) {
    db.on('change', this.onChange);
  }

  /** Stops publishing and tells every subscriber (an open stream ends, so the server can stop at once). */
  close(): void {
    this.db.off('change', this.onChange);
    for (const closed of this.listeners.values()) closed();
    this.listeners.clear();
  }

  get clients(): number {
    return this.listeners.size;
  }

  subscribe(listener: Listener, closed: () => void = () => {}): () => void {
    this.listeners.set(listener, closed);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.lastClientLeft = Date.now();
    };
  }

  /**
   * The events after `lastId`, or undefined when they cannot all be given (another boot, or older than the
   * backlog): the client must then read the tree afresh.
   */
  since(lastId: string): TreeEvent[] | undefined {
    const [boot, n] = lastId.split(':');
    const seq = Number(n);
    if (boot !== this.boot || !Number.isInteger(seq) || seq > this.seq) return undefined;
    const oldest = this.backlog[0]?.seq ?? this.seq + 1;
    if (seq < oldest - 1) return undefined;
    return this.backlog.filter((e) => e.seq > seq);
  }

  private publish(changes: ChangeEvent[]): void {
    if (this.listeners.size === 0 && Date.now() - this.lastClientLeft > RESUME_MS) {
      this.seq += changes.length; // numbered all the same: a late resume sees what it missed and resets
      this.backlog.length = 0;
      return;
    }
    for (const change of changes) {
      const seq = ++this.seq;
      const event: TreeEvent = {
        id: `${this.boot}:${seq}`,
        seq,
        operation: change.kind,
        path: change.path,
        chain: change.kind === 'delete' ? [...ancestry(change.parent), change.node.nodeName] : ancestry(change.node),
        ...(change.kind === 'delete' ? {} : { node: change.node.cloneNode(true) }),
      };
      this.backlog.push(event);
      if (this.backlog.length > this.backlogSize) this.backlog.shift();
      for (const listener of this.listeners.keys()) listener(event);
    }
  }
}
