/**
 * status/<representing>: how a service, sensor or device is doing (igor-reference §3.5), written by actions
 * after each run and by plugins: alive, lastActivity, lastSuccess or lastFailure (seconds since the epoch),
 * errorMessage; a success also ends an `ignoreErrorUntil` (systemHealth's "ignore this error for a while"), so
 * the next failure shows, as in Igor.
 */
import { BadRequestError } from './errors.ts';
import type { Database } from './store/database.ts';
import { isTagName } from './tree/xmlNames.ts';
import { elementFromJson, type Json } from './tree/jsonxml.ts';
import { splitLastStep } from './tree/paths.ts';
import { combine } from './tree/tree.ts';

export interface Outcome {
  ok: boolean;
  /** Why it failed; ignored on success. */
  message?: string;
  /** When it happened (seconds since the epoch): now unless a reporter says (Igor's updateStatus lets it). */
  lastActivity?: number;
  /** A reporter's own lastSuccess, kept as given (on success it is lastActivity otherwise). */
  lastSuccess?: number;
}

export function statusPath(representing: string): string {
  const steps = representing.split('/').filter(Boolean);
  if (steps.length === 0 || !steps.every(isTagName)) {
    throw new BadRequestError(`"${representing}" cannot name a status entry: use tags separated by /, like sensors/fitbit`);
  }
  return `/data/status/${steps.join('/')}`;
}

/** The fields of a status record, each as the path to put and its value. */
export function statusFields(representing: string, outcome: Outcome): { xpath: string; value: Json }[] {
  const base = statusPath(representing);
  const now = outcome.lastActivity ?? Math.round(Date.now()) / 1000;
  const values: [string, Json][] = outcome.ok
    ? [
        ['alive', true],
        ['lastActivity', now],
        ['lastSuccess', outcome.lastSuccess ?? now],
        ['ignoreErrorUntil', null],
        ['errorMessage', null],
      ]
    : [
        ['alive', false],
        ['lastActivity', now],
        ...(outcome.lastSuccess !== undefined ? [['lastSuccess', outcome.lastSuccess] as [string, Json]] : []),
        ['lastFailure', now],
        ['errorMessage', outcome.message || `${representing} failed without error message`],
      ];
  return values.map(([key, value]) => ({ xpath: `${base}/${key}`, value }));
}

/**
 * Records a status as the server (actions, event sources, the plugin registry, /internal/updateStatus), with
 * any `extra` fields beside the usual ones. Plugins record theirs through their own tree access.
 */
export async function recordStatus(db: Database, representing: string, outcome: Outcome, extra: Record<string, Json> = {}): Promise<void> {
  const base = statusPath(representing);
  for (const key of Object.keys(extra)) if (!isTagName(key)) throw new BadRequestError(`"${key}" cannot be the name of a status field`);
  const fields = [
    ...statusFields(representing, outcome),
    ...Object.entries(extra).map(([key, value]) => ({ xpath: `${base}/${key}`, value })),
  ];
  await db.write((tree) =>
    combine(fields.map(({ xpath, value }) => tree.put(xpath, elementFromJson(tree.doc, splitLastStep(xpath).tag, value)))),
  );
}
