/**
 * Igor's XPath extension functions (all named igor_*), as the original defines them (igor-reference §1.5).
 * Times are local time, as in Igor; an argument that is a number is seconds since the epoch.
 */
import type { XObject } from 'xpath';
import { BadRequestError } from '../errors.ts';

type XFunction = (context: unknown, ...args: XObject[]) => unknown;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** ISO date-time in local time, seconds precision, no zone: `2017-04-14T14:25:09` (Igor's isotime). */
export function isoLocal(date: Date): string {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

function toDate(value: string, fnName: string): Date {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === '0') return new Date();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return new Date(Number(trimmed) * 1000);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) throw new BadRequestError(`${fnName}: cannot read "${value}" as a date/time`);
  return new Date(ms);
}

const datePart = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const timePart = (d: Date) => d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds();

function comparisons(kind: 'dateTime' | 'date' | 'time'): Record<string, XFunction> {
  const key = (s: string, name: string): string | number => {
    const d = toDate(s, name);
    return kind === 'dateTime' ? d.getTime() : kind === 'date' ? datePart(d) : timePart(d);
  };
  const make = (name: string, cmp: (a: string | number, b: string | number) => boolean): XFunction =>
    (_c, a, b) => cmp(key(a!.stringValue(), name), key(b!.stringValue(), name));
  return {
    [`igor_${kind}_equal`]: make(`igor_${kind}_equal`, (a, b) => a === b),
    [`igor_${kind}_less_than`]: make(`igor_${kind}_less_than`, (a, b) => a < b),
    [`igor_${kind}_greater_than`]: make(`igor_${kind}_greater_than`, (a, b) => a > b),
  };
}

function part(name: string, get: (d: Date) => number): Record<string, XFunction> {
  return { [name]: (_c, dt) => get(toDate(dt!.stringValue(), name)) };
}

export const igorFunctions: Record<string, XFunction> = {
  igor_upper: (_c, s) => s!.stringValue().toUpperCase(),
  igor_error: (_c, a, b) => {
    throw new BadRequestError(`igor_error: ${a?.stringValue() ?? ''} ${b?.stringValue() ?? ''}`.trim());
  },
  igor_timestamp: (_c, iso) => Math.floor(toDate(iso ? iso.stringValue() : '', 'igor_timestamp').getTime() / 1000),
  igor_dateTime: (_c, t) => isoLocal(toDate(t ? t.stringValue() : '', 'igor_dateTime')),
  ...part('igor_year_from_dateTime', (d) => d.getFullYear()),
  ...part('igor_month_from_dateTime', (d) => d.getMonth() + 1),
  ...part('igor_day_from_dateTime', (d) => d.getDate()),
  ...part('igor_hours_from_dateTime', (d) => d.getHours()),
  ...part('igor_minutes_from_dateTime', (d) => d.getMinutes()),
  ...part('igor_seconds_from_dateTime', (d) => d.getSeconds()),
  ...comparisons('dateTime'),
  ...comparisons('date'),
  ...comparisons('time'),
  igor_ifthenelse: (_c, cond, a, b) => (cond!.booleanValue() ? a : b),
  igor_ifelse: (_c, a, b) => (a!.booleanValue() ? a : b),
};
