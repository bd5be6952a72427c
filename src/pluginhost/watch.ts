/**
 * A plugin's host.onChange: its handlers, called after the writes that touch what their XPath selects. Matching is
 * actions' own (actions/changeMatch.ts), with the plugin's visibility: a handler is never told of an element the
 * plugin may not read, and is handed each element as host.data would show it. The watches belong to the plugin's
 * host: dispose() ends them all, so a stopped plugin hears nothing more whether or not it remembered to stop them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { MAX_CHAIN } from '../actions/causes.ts';
import { ChangeMatcher, type Watch } from '../actions/changeMatch.ts';
import { TriggerPattern } from '../actions/pattern.ts';
import type { Principal } from '../auth/principal.ts';
import { viewOf, visibilityFor } from '../auth/visibility.ts';
import { BadRequestError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { NodeChange, Subscription } from '../plugin-api.ts';
import type { Database } from '../store/database.ts';
import { ELEMENT_NODE } from '../tree/dom.ts';
import { ancestry, refOf } from '../tree/refs.ts';
import { jsonOf } from '../tree/jsonxml.ts';
import { absolutePath } from '../tree/paths.ts';
import type { ChangeEvent } from '../tree/tree.ts';
import { compile } from '../tree/xpath.ts';
import type { BackgroundWork } from '../work.ts';

/** The handlers whose run led to the code running now: a write made there does not call them again. */
const causes = new AsyncLocalStorage<readonly Watcher[]>();

type Handler = (changes: NodeChange[]) => void | Promise<void>;

class Watcher {
  stopped = false;
  private pending: NodeChange[] = [];
  private pendingChain: readonly Watcher[] = [];
  private draining = false;

  constructor(
    readonly xpath: string,
    private readonly handler: Handler,
    private readonly background: BackgroundWork,
    private readonly log: Logger,
  ) {}

  /** Hands changes over: at once, or to the next call when one is under way (the newest value of each element). */
  deliver(changes: NodeChange[], chain: readonly Watcher[]): void {
    const refs = new Set(changes.map((c) => c.ref));
    this.pending = [...this.pending.filter((c) => !refs.has(c.ref)), ...changes];
    this.pendingChain = [...new Set([...this.pendingChain, ...chain])];
    if (this.draining) return;
    this.draining = true;
    this.background.run(`onChange ${this.xpath}`, () => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length && !this.stopped) {
        const changes = this.pending;
        const chain = [...this.pendingChain, this];
        this.pending = [];
        this.pendingChain = [];
        try {
          await causes.run(chain, () => this.handler(changes));
        } catch (err) {
          this.log.error({ err, xpath: this.xpath }, `the onChange handler for ${this.xpath} failed`);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

export interface PluginWatches {
  onChange(xpath: string, handler: Handler): Subscription;
  /** Ends every watch: the plugin stops. */
  dispose(): void;
}

export function pluginWatches(db: Database, self: Principal, background: BackgroundWork, log: Logger): PluginWatches {
  const reading = visibilityFor(self, 'plugin');
  const watchers = new Set<Watcher>();
  let matcher: ChangeMatcher<Watcher> | undefined;
  const watchOf = (w: Watcher): Watch<Watcher> => ({
    owner: w,
    pattern: new TriggerPattern(w.xpath),
    view: () => viewOf(reading),
    viewKey: '',
    sees: (chain) => reading.admitsChain(chain),
  });
  const changed = (events: ChangeEvent[]) => {
    matcher ??= new ChangeMatcher([...watchers].map(watchOf));
    const matched = matcher.match(events, db.tree);
    if (matched.size === 0) return;
    const chain = causes.getStore() ?? [];
    const deleted = new Map(events.filter((e) => e.kind === 'delete').map((e) => [e.node, e]));
    for (const [watcher, nodes] of matched) {
      if (watcher.stopped || chain.includes(watcher)) continue;
      if (chain.length >= MAX_CHAIN) {
        log.warn({ xpath: watcher.xpath }, `stopped a chain of ${chain.length + 1} onChange handlers setting one another off`);
        continue;
      }
      // An element added and deleted again within one write is gone without a trace: nothing to tell.
      const elements = nodes.filter((n) => n.nodeType === ELEMENT_NODE && (n.parentNode || deleted.has(n))) as Element[];
      if (elements.length)
        watcher.deliver(
          elements.map((el) => describe(el, deleted.get(el))),
          chain,
        );
    }
  };
  const describe = (el: Element, deletion: ChangeEvent | undefined): NodeChange => {
    if (!deletion) return { ref: refOf(el), value: jsonOf(el, reading.show), deleted: false };
    const chain = ancestry(el, deletion.parent);
    return { ref: deletion.path, value: jsonOf(el, reading.detached(el, chain).show), deleted: true };
  };
  const remove = (w: Watcher) => {
    w.stopped = true;
    watchers.delete(w);
    matcher = undefined;
    if (watchers.size === 0) db.off('change', changed);
  };
  return {
    onChange(xpath, handler) {
      const path = absolutePath(xpath);
      try {
        compile(path);
      } catch (err) {
        throw new BadRequestError(`onChange(${JSON.stringify(xpath)}): ${(err as Error).message}`);
      }
      const watcher = new Watcher(path, handler, background, log);
      if (watchers.size === 0) db.on('change', changed);
      watchers.add(watcher);
      matcher = undefined;
      return { stop: () => remove(watcher) };
    },
    dispose() {
      for (const w of [...watchers]) remove(w);
    },
  };
}
