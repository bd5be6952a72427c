/**
 * How an action's run went, recorded under status/<representing>; a failure of an action that represents
 * nothing goes under status/igor/actions, so that it is seen somewhere. A record that cannot be written is
 * logged: it must not fail the run or the queue.
 */
import type { Logger } from '../logger.ts';
import { recordStatus } from '../status.ts';
import type { Database } from '../store/database.ts';
import type { ActiveAction, RunOutcome } from './active.ts';

export async function recordRun(db: Database, logger: Logger, a: ActiveAction, outcome: RunOutcome): Promise<void> {
  const representing = a.def.representing ?? (outcome.ok ? undefined : 'igor/actions');
  if (!representing) return;
  try {
    await recordStatus(db, representing, outcome);
  } catch (err) {
    logger.error({ err, action: a.label }, 'could not record the status of an action');
  }
}
