/**
 * What a write records: the values it leaves in the tree under the recorded paths. A value is the text of an
 * element without child elements that reads as a number, a boolean or a short string; its series is the path
 * of element names below /data (`sensors/thermo/temperature`; positions such as [2] are dropped).
 *
 * An entry of a series that plugins store (host.storeSeries) carries its own time, as the pages read it
 * (igor-page.js, igor.series): the first of `dateTime`, `date`, `time`, `timestamp`, `startTime` it has that
 * reads as a time (a number is seconds since 1970; `date` with a `time` of day counts both). Its other fields
 * (but identifiers: `id`, `…Id`) are readings at that time: `sensors/fitbit/jack/body-weight/value`.
 *
 * A write of one operation (a PUT, a sensor's reading) is read from its node as it is made: the node is exactly
 * what its journal record holds, and no XML is parsed on the request path. Anything else is read from its
 * journal operations' XML, later, as catching up after a crash reads it: a later operation of the same write
 * may have changed the nodes of an earlier one (a plugin's series appends entries and deletes old ones in one
 * write), and the history is what the record says. Either way a record gives, per series (and per time, for
 * entries), the last value its operations wrote.
 */
import { ELEMENT_NODE } from '../tree/dom.ts';
import { parseXml } from '../tree/parseXml.ts';
import type { ChangeEvent, JournalOp } from '../tree/tree.ts';
import { isRecorded, mayHoldRecorded, type HistorySettings } from './settings.ts';

export type Value = number | boolean | string;

export interface Reading {
  /** Element names below /data, joined by '/'. */
  path: string;
  /** Its own time (ms since 1970), for an entry that carries one; else the time of the write. */
  at?: number;
  value: Value;
}

export const TIME_KEYS = ['dateTime', 'date', 'time', 'timestamp', 'startTime'];
/** The longest text recorded as a value. */
export const SHORT_TEXT = 100;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const IDENTIFIER = /^id$|Id$/;

/** The value a text stands for, if it is one to record. */
export function valueOf(text: string): Value | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (NUMBER.test(t)) {
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  if (t === 'true' || t === 'false') return t === 'true';
  return t.length <= SHORT_TEXT && !t.includes('\n') ? t : undefined;
}

/** Seconds since 1970 when a number, else a date as Date.parse reads it; ms, or undefined. */
function timeOf(text: string): number | undefined {
  const t = text.trim();
  const ms = NUMBER.test(t) ? Number(t) * 1000 : Date.parse(t);
  return Number.isFinite(ms) && ms >= 0 && ms < 2 ** 47 ? Math.round(ms) : undefined;
}

function childElements(el: Element): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) out.push(c as Element);
  return out;
}

function isLeaf(el: Element): boolean {
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) return false;
  return true;
}

/**
 * An entry's own time and the fields that say it, `field(name)` giving the text of one of its plain fields
 * (also for plugins' series in JSON: pluginhost/series.ts).
 */
export function entryTimeOf(field: (name: string) => string | undefined): { at: number; keys: Set<string> } | undefined {
  for (const key of TIME_KEYS) {
    const text = field(key);
    if (text === undefined) continue;
    const clock = key === 'date' ? field('time') : undefined;
    if (clock !== undefined && /^\d\d:\d\d/.test(clock.trim())) {
      const at = timeOf(`${text.trim()}T${clock.trim()}`);
      if (at !== undefined) return { at, keys: new Set(['date', 'time']) };
    }
    const at = timeOf(text);
    if (at !== undefined) return { at, keys: new Set([key]) };
  }
  return undefined;
}

/** Adds what `el` (whose names below /data are `names`) holds to `out`, by series (and time): the last one wins. */
function collect(el: Element, names: string[], settings: HistorySettings, out: Map<string, Reading>): void {
  if (!mayHoldRecorded(settings, names)) return;
  const children = childElements(el);
  if (children.length === 0) {
    const value = valueOf(el.textContent ?? '');
    if (value !== undefined && isRecorded(settings, names)) out.set(names.join('/'), { path: names.join('/'), value });
    return;
  }
  const entry = entryTimeOf((name) => children.find((c) => c.nodeName === name && isLeaf(c))?.textContent ?? undefined);
  for (const c of children) {
    const here = [...names, c.nodeName];
    if (!entry) collect(c, here, settings, out);
    else if (!entry.keys.has(c.nodeName) && !IDENTIFIER.test(c.nodeName) && isLeaf(c)) {
      const value = valueOf(c.textContent ?? '');
      if (value === undefined || !isRecorded(settings, here)) continue;
      const path = here.join('/');
      out.set(`${path}@${entry.at}`, { path, at: entry.at, value });
    }
  }
}

/** `/data/a/b[2]/c` → ['a', 'b', 'c']; undefined for anything but an element below /data. */
export function namesOfRef(ref: string): string[] | undefined {
  const steps = ref.split('/');
  if (steps[0] !== '' || steps[1] !== 'data' || ref.includes('/@') || ref.endsWith('/text()')) return undefined;
  return steps.slice(2).map((s) => {
    const bracket = s.indexOf('[');
    return bracket < 0 ? s : s.slice(0, bracket);
  });
}

/** The readings of a change of one operation, read from its node as it is made. */
export function readingsOfEvent(e: ChangeEvent, settings: HistorySettings): Reading[] {
  const out = new Map<string, Reading>();
  const names = e.kind === 'delete' || e.node.nodeType !== ELEMENT_NODE ? undefined : namesOfRef(e.path);
  if (names) collect(e.node as Element, names, settings, out);
  return [...out.values()];
}

function tryParse(xml: string): Element | undefined {
  try {
    return parseXml(xml, 'journal record').documentElement ?? undefined;
  } catch {
    return undefined;
  }
}

/** The names below /data an operation writes at, if it writes an element there. */
function namesOfOp(op: JournalOp): string[] | undefined {
  if (op.op === 'delete') return undefined;
  if (op.op === 'replace') return namesOfRef(op.path);
  const tag = /^<([^\s/>]+)/.exec(op.xml)?.[1];
  return tag ? namesOfRef(op.parent)?.concat(tag) : undefined;
}

/** Some element of the XML has text other than whitespace (any text follows a '>'). */
const HAS_TEXT = />\s*[^<\s]/;

/**
 * The operations of a record that may write a value to record, told by their paths and whether their XML has
 * any text, without parsing (an empty container a plugin adds is no value).
 */
export function recordableOps(ops: readonly JournalOp[], settings: HistorySettings): JournalOp[] {
  return ops.filter((op) => {
    const names = namesOfOp(op);
    return names !== undefined && op.op !== 'delete' && HAS_TEXT.test(op.xml) && mayHoldRecorded(settings, names);
  });
}

/** The readings a journal record's operations leave (parsed only where something may be recorded). */
export function readingsOfOps(ops: readonly JournalOp[], settings: HistorySettings): Reading[] {
  const out = new Map<string, Reading>();
  for (const op of recordableOps(ops, settings)) {
    // The journal's own XML always parses (the database replays it to open); anything else holds no value.
    const el = op.op === 'delete' ? undefined : tryParse(op.xml);
    if (el) collect(el, namesOfOp(op)!, settings, out);
  }
  return [...out.values()];
}
