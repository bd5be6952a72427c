/**
 * What the household asks the history to keep, from /data/history in the tree (only an admin may write there,
 * as anywhere the rules grant no one else):
 *
 *   <history>
 *     <include>sensors</include> <include>devices</include> <include>environment</include>
 *     <exclude>environment/messages</exclude>
 *     <rawDays>30</rawDays>
 *   </history>
 *
 * Paths are element names below /data, `*` standing for any one name. Without any <include>, the three above
 * are recorded; an empty <include/> records nothing. What the visibility rule never shows is never recorded,
 * whatever the settings say: secrets, hidden (namespaced) data, and anything under identities/.
 */
import { isSecretName } from '../auth/visibility.ts';
import { isHidden } from '../tree/dom.ts';
import type { Tree } from '../tree/tree.ts';

export const DEFAULT_INCLUDE = ['sensors', 'devices', 'environment'];
export const DEFAULT_RAW_DAYS = 30;
/** Subtrees never recorded, whatever history/include says. */
const NEVER = new Set(['identities']);

export interface HistorySettings {
  include: string[][];
  exclude: string[][];
  /** How long raw readings are kept; statistics are kept for ever. */
  rawDays: number;
}

function patternOf(text: string): string[] | undefined {
  const names = text
    .trim()
    .replace(/^\/data(\/|$)/, '')
    .replace(/^\//, '')
    .split('/')
    .filter(Boolean);
  return names.length ? names : undefined;
}

/** The settings as /data/history now says. */
export function settingsOf(tree: Tree): HistorySettings {
  const el = tree.select('/data/history')[0] as Element | undefined;
  const texts = (name: string) =>
    el ? [...el.childNodes].filter((c) => c.nodeName === name).map((c) => c.textContent ?? '') : ([] as string[]);
  const includes = texts('include');
  const days = Number(texts('rawDays')[0]);
  return {
    include: (includes.length ? includes : DEFAULT_INCLUDE).map(patternOf).filter((p) => p !== undefined),
    exclude: texts('exclude')
      .map(patternOf)
      .filter((p) => p !== undefined),
    rawDays: Number.isFinite(days) && days >= 1 ? Math.min(days, 36500) : DEFAULT_RAW_DAYS,
  };
}

function matchesPrefix(pattern: readonly string[], names: readonly string[]): boolean {
  if (pattern.length > names.length) return false;
  for (let i = 0; i < pattern.length; i++) if (pattern[i] !== '*' && pattern[i] !== names[i]) return false;
  return true;
}

/** `names` is on the way to `pattern` (a container above what it names). */
function leadsTo(names: readonly string[], pattern: readonly string[]): boolean {
  return names.length < pattern.length && matchesPrefix(pattern.slice(0, names.length), names);
}

/** A name the visibility rule never shows to a reader: a secret, or hidden data (isHidden goes by the name alone). */
export function neverShown(name: string): boolean {
  return isSecretName(name) || isHidden({ nodeName: name } as Node);
}

/**
 * Whether what lies at `names` (below /data) may be recorded, or hold something that may: false when a
 * subtree can be passed over whole.
 */
export function mayHoldRecorded(settings: HistorySettings, names: readonly string[]): boolean {
  if (names.length && NEVER.has(names[0]!)) return false;
  if (names.some(neverShown)) return false;
  if (settings.exclude.some((p) => matchesPrefix(p, names))) return false;
  return settings.include.some((p) => matchesPrefix(p, names) || leadsTo(names, p));
}

/** Whether the value at `names` (below /data) is recorded. */
export function isRecorded(settings: HistorySettings, names: readonly string[]): boolean {
  return mayHoldRecorded(settings, names) && settings.include.some((p) => matchesPrefix(p, names));
}
