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
 * The same function reads a change as it is made (its nodes) and, when catching up after a crash, as its
 * journal record holds it (its XML): both give, per series (and per time, for entries), the last value the
 * record left, so the history of a write is the same whichever way it came.
 */
import { ELEMENT_NODE, parseXml } from '../tree/dom.ts';
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

/** An entry's own time, and the fields that say it. */
function entryTime(children: readonly Element[]): { at: number; keys: Set<string> } | undefined {
  const field = (name: string) => children.find((c) => c.nodeName === name && isLeaf(c))?.textContent ?? undefined;
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
  const entry = entryTime(children);
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

/** The readings a change leaves, read from its nodes as it is made. */
export function readingsOfEvents(events: readonly ChangeEvent[], settings: HistorySettings): Reading[] {
  const out = new Map<string, Reading>();
  for (const e of events) {
    if (e.kind === 'delete' || e.node.nodeType !== ELEMENT_NODE) continue;
    const names = namesOfRef(e.path);
    if (names) collect(e.node as Element, names, settings, out);
  }
  return [...out.values()];
}

/** The readings a journal record's operations leave (parsed only where something may be recorded). */
export function readingsOfOps(ops: readonly JournalOp[], settings: HistorySettings): Reading[] {
  const out = new Map<string, Reading>();
  for (const op of ops) {
    if (op.op === 'delete') continue;
    const tag = /^<([^\s/>]+)/.exec(op.xml)?.[1];
    const names = op.op === 'replace' ? namesOfRef(op.path) : tag && namesOfRef(op.parent)?.concat(tag);
    if (!names || !mayHoldRecorded(settings, names)) continue;
    collect(parseXml(op.xml, 'journal record').documentElement!, names, settings, out);
  }
  return [...out.values()];
}
