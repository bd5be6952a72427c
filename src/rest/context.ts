/** What the REST layer needs from the running host. */
import type { ActionManager } from '../actions/manager.ts';
import type { AuthSettings } from '../auth/authenticate.ts';
import type { AccessFailures } from '../auth/failures.ts';
import type { Config } from '../config.ts';
import type { EventHub } from '../events/hub.ts';
import type { History } from '../history/recorder.ts';
import type { Logger } from '../logger.ts';
import type { PluginRegistry } from '../pluginhost/registry.ts';
import type { Database } from '../store/database.ts';
import type { WorkTracker } from '../work.ts';
import type { FairScheduler } from './fairness.ts';

export interface HostContext {
  db: Database;
  actions: ActionManager;
  plugins: PluginRegistry;
  events: EventHub;
  /** The home's past: readings recorded from the journal (src/history/). */
  history: History;
  auth: AuthSettings;
  failures: AccessFailures;
  config: Config;
  logger: Logger;
  work: WorkTracker;
  /** Expensive evaluations, one at a time and a few per client. */
  fairness: FairScheduler;
  version: string;
  /** Where the package's own files (static/, template/) are. */
  packageDir: string;
  /** Stops the server (after the answer is sent); `restart` starts it again in the same process. */
  requestStop(restart?: boolean): void;
}
