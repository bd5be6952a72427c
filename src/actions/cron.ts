/**
 * When an action's `<cron>` fires, in the server's local time. node-cron reads the expression (`parse`: its own
 * rules for names, ranges, steps, `?`, nicknames, and the L, W and # tokens); finding the next matching second
 * is done here, with Date's local-time fields. node-cron's own walk formats each candidate with
 * `Intl.DateTimeFormat`, and the first such formatter loads ICU's locale and time-zone name data: 8.6 MB of
 * resident memory, an eighth of an idle server, for the one nightly `_cleanup` of the shipped template.
 * `test/actions/cron.test.ts` holds this walk to node-cron's over generated expressions and instants in a zone
 * with daylight saving time. The one difference: a wall-clock time that happens twice when clocks go back runs
 * at its first occurrence here, at its second in node-cron.
 */
import nodeCron from 'node-cron';
import { SYSTEM_CLOCK, type Clock } from '../clock.ts';

type Field = (number | string)[];
export interface CronFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: Field;
  month: number[];
  dayOfWeek: Field;
}

export function parseCron(expression: string): CronFields {
  return nodeCron.parse(expression) as CronFields;
}

/**
 * What is wrong with a cron expression, in words to follow it, or undefined: node-cron's rules, and then a time
 * it matches at all ("0 0 LW * sun", the last weekday of a month on a Sunday, is valid to node-cron but never
 * comes; scheduling it would throw where the action cannot be refused any more).
 */
export function cronProblem(expression: string, now = new Date()): string | undefined {
  const check = nodeCron.validateDetailed(expression);
  if (!check.valid) return `is not a cron expression (${check.errors?.map((e) => e.message).join('; ') ?? 'invalid'})`;
  try {
    nextRun(parseCron(expression), now);
  } catch {
    return 'never comes: no time in the next hundred years matches it';
  }
  return undefined;
}

/** Days are counted on the UTC calendar, as node-cron counts them: a date's weekday does not depend on a zone. */
const lastDayOf = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
const weekdayOf = (year: number, month: number, day: number) => new Date(Date.UTC(year, month - 1, day)).getUTCDay();

/** The weekday nearest to `target` within its month (the W token). */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOf(year, month);
  const weekday = weekdayOf(year, month, target);
  if (weekday === 6) return target === 1 ? 3 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(field: Field, year: number, month: number, day: number): boolean {
  const last = lastDayOf(year, month);
  return field.some((value) => {
    if (typeof value === 'number') return value === day;
    if (value === 'L') return day === last;
    const weekday = /^(\d{1,2}|L)W$/.exec(value);
    if (weekday) {
      const target = weekday[1] === 'L' ? last : Number(weekday[1]);
      return target >= 1 && target <= last && nearestWeekday(year, month, target) === day;
    }
    const beforeLast = /^L-(\d{1,2})$/.exec(value);
    return beforeLast !== null && last - Number(beforeLast[1]) === day;
  });
}

function matchesDayOfWeek(field: Field, year: number, month: number, day: number): boolean {
  const weekday = weekdayOf(year, month, day);
  return field.some((value) => {
    if (typeof value === 'number') return value === weekday;
    const nth = /^([0-7])#([1-5])$/.exec(value);
    if (nth) return Number(nth[1]) % 7 === weekday && Math.floor((day - 1) / 7) + 1 === Number(nth[2]);
    const lastOf = /^([0-7])L$/i.exec(value);
    return lastOf !== null && Number(lastOf[1]) % 7 === weekday && day + 7 > lastDayOf(year, month);
  });
}

function matches(f: CronFields, at: Date): boolean {
  const [year, month, day] = [at.getFullYear(), at.getMonth() + 1, at.getDate()];
  return (
    f.second.includes(at.getSeconds()) &&
    f.minute.includes(at.getMinutes()) &&
    f.hour.includes(at.getHours()) &&
    f.month.includes(month) &&
    matchesDayOfMonth(f.dayOfMonth, year, month, day) &&
    matchesDayOfWeek(f.dayOfWeek, year, month, day)
  );
}

const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b);
/** node-cron's bound: the next 29 February on a Monday can be 28 years away. */
const MAX_DAYS = 366 * 100;

/** The first whole second after `after` whose local time matches `f`. */
export function nextRun(f: CronFields, after: Date): Date {
  const base = Math.floor(after.getTime() / 1000) * 1000;
  const [hours, minutes, seconds] = [ascending(f.hour), ascending(f.minute), ascending(f.second)];
  const start = new Date(base);
  for (let i = 0; i < MAX_DAYS; i++) {
    const date = new Date(start.getFullYear(), start.getMonth(), start.getDate() + i);
    const [year, month, day] = [date.getFullYear(), date.getMonth() + 1, date.getDate()];
    if (!f.month.includes(month) || !matchesDayOfMonth(f.dayOfMonth, year, month, day)) continue;
    if (!matchesDayOfWeek(f.dayOfWeek, year, month, day)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        for (const second of seconds) {
          // A time skipped when clocks go forward reads back as another time, which the fields may not match.
          const at = new Date(year, month - 1, day, hour, minute, second);
          if (at.getTime() > base && matches(f, at)) return at;
        }
      }
    }
  }
  throw new Error('no time matches this cron expression in the next hundred years');
}

/** Longest wait between looks at the clock: a clock set by NTP after boot (a Raspberry Pi has no RTC) is noticed. */
const LOOK_MS = 60_000;

/** Runs `run` at each time `expression` matches, until stopped; by the system's clock or the one given (a test's). */
export function scheduleCron(expression: string, run: () => void, clock: Clock = SYSTEM_CLOCK): { stop(): void } {
  const fields = parseCron(expression);
  let due = nextRun(fields, new Date(clock.now()));
  let cancel: () => void;
  const arm = () => (cancel = clock.after(Math.min(due.getTime() - clock.now(), LOOK_MS), wake));
  const wake = () => {
    const now = clock.now();
    const reached = now >= due.getTime();
    // The next time counts from the one reached, so a timer that fires a little late does not run it twice.
    if (reached) due = nextRun(fields, new Date(Math.max(now, due.getTime())));
    arm();
    if (reached) run();
  };
  arm();
  return { stop: () => cancel() };
}
