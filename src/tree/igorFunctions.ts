/**
 * Igor's XPath extension functions (all named igor_*), as the original defines them (igor-reference §1.5).
 * Times are local time, as in Igor; an argument that is a number is seconds since the epoch.
 */
import { BadRequestError } from '../errors.ts';
import type { Arg, ExtensionFunction } from './xpath/evaluate.ts';

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

function needs(name: string, args: Arg[], count: number): void {
  if (args.length < count) throw new BadRequestError(`${name}() needs ${count} argument${count === 1 ? '' : 's'}`);
}

function comparisons(kind: 'dateTime' | 'date' | 'time'): Record<string, ExtensionFunction> {
  const key = (s: string, name: string): string | number => {
    const d = toDate(s, name);
    return kind === 'dateTime' ? d.getTime() : kind === 'date' ? datePart(d) : timePart(d);
  };
  const make =
    (name: string, cmp: (a: string | number, b: string | number) => boolean): ExtensionFunction =>
    (...args) => {
      needs(name, args, 2);
      return cmp(key(args[0]!.string(), name), key(args[1]!.string(), name));
    };
  return {
    [`igor_${kind}_equal`]: make(`igor_${kind}_equal`, (a, b) => a === b),
    [`igor_${kind}_less_than`]: make(`igor_${kind}_less_than`, (a, b) => a < b),
    [`igor_${kind}_greater_than`]: make(`igor_${kind}_greater_than`, (a, b) => a > b),
  };
}

function part(name: string, get: (d: Date) => number): Record<string, ExtensionFunction> {
  return {
    [name]: (...args) => {
      needs(name, args, 1);
      return get(toDate(args[0]!.string(), name));
    },
  };
}

export const igorFunctions: Record<string, ExtensionFunction> = {
  igor_upper: (...args) => {
    needs('igor_upper', args, 1);
    return args[0]!.string().toUpperCase();
  },
  igor_error: (a, b) => {
    throw new BadRequestError(`igor_error: ${a?.string() ?? ''} ${b?.string() ?? ''}`.trim());
  },
  igor_timestamp: (iso) => Math.floor(toDate(iso ? iso.string() : '', 'igor_timestamp').getTime() / 1000),
  igor_dateTime: (t) => isoLocal(toDate(t ? t.string() : '', 'igor_dateTime')),
  ...part('igor_year_from_dateTime', (d) => d.getFullYear()),
  ...part('igor_month_from_dateTime', (d) => d.getMonth() + 1),
  ...part('igor_day_from_dateTime', (d) => d.getDate()),
  ...part('igor_hours_from_dateTime', (d) => d.getHours()),
  ...part('igor_minutes_from_dateTime', (d) => d.getMinutes()),
  ...part('igor_seconds_from_dateTime', (d) => d.getSeconds()),
  ...comparisons('dateTime'),
  ...comparisons('date'),
  ...comparisons('time'),
  igor_ifthenelse: (...args) => {
    needs('igor_ifthenelse', args, 3);
    return args[0]!.boolean() ? args[1]! : args[2]!;
  },
  igor_ifelse: (...args) => {
    needs('igor_ifelse', args, 2);
    return args[0]!.boolean() ? args[0]! : args[1]!;
  },
};
