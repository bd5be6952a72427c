/**
 * Sharing the one thread fairly. An XPath evaluation runs to its end once started (the engine is
 * synchronous), so a handful of slow queries arriving together would otherwise run back to back while every
 * other request waited behind them. Expensive evaluations (anything but a plain path) are therefore run one
 * at a time, each after a turn of the event loop, so that requests that arrived meanwhile — a health check, a
 * sensor's write — are answered between any two of them; and each client may have only a few waiting, so one
 * client cannot fill the queue. Plain paths, by far the most common reads, never wait here.
 */
import type { IncomingMessage } from 'node:http';
import { clientAddress } from '../auth/logins.ts';
import { isAdmin, type Principal } from '../auth/principal.ts';
import { TooManyRequestsError } from '../errors.ts';

/** Expensive evaluations one client may have running or waiting; an admin is not limited. */
export const PER_CLIENT = 2;

interface Job {
  client: string;
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Who a client is, for sharing: a user (with any credentials) by name, anyone else by address. */
export function clientKey(p: Principal, req: IncomingMessage): string {
  return p.kind === 'user' ? `user:${p.name}` : p.kind === 'anonymous' ? `address:${clientAddress(req)}` : p.kind;
}

export class FairScheduler {
  private readonly queue: Job[] = [];
  private readonly perClient = new Map<string, number>();
  private busy = false;

  /** Runs `work` when its turn comes; refuses with 429 a client that has PER_CLIENT waiting already. */
  run<T>(p: Principal, req: IncomingMessage, work: () => T): Promise<T> {
    const client = clientKey(p, req);
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= PER_CLIENT && !isAdmin(p)) {
      return Promise.reject(
        new TooManyRequestsError(`you have ${mine} expensive queries under way already; wait for their answers first`, 1),
      );
    }
    this.perClient.set(client, mine + 1);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ client, work, resolve: resolve as (value: unknown) => void, reject });
      this.next();
    });
  }

  get waiting(): number {
    return this.queue.length;
  }

  private next(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    // A turn of the event loop first: whatever arrived meanwhile goes before the next expensive evaluation.
    setImmediate(() => {
      const job = this.queue.shift()!;
      try {
        job.resolve(job.work());
      } catch (err) {
        job.reject(err);
      } finally {
        const left = (this.perClient.get(job.client) ?? 1) - 1;
        if (left > 0) this.perClient.set(job.client, left);
        else this.perClient.delete(job.client);
        this.busy = false;
        this.next();
      }
    });
  }
}
