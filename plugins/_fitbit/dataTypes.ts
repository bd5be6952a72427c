/**
 * What the plugin reads from the Google Health API and how each kind lands in the tree. Every kind names the
 * Google data type, the read-only scope it needs, how it is asked for (daily roll-ups, daily points, samples
 * or sessions), and turns Google's points into entries of the layout the legacy Fitbit API gave
 * (`weight` by logId, `activities-steps` by dateTime, …), so actions, pages and plots do not care which
 * provider filled it. Units follow the person's metric or imperial setting and are declared with the data.
 */
import type { Json, JsonObject } from 'igor-ts/plugin-api';
import { arr, civilDate, localTime, num, obj, str } from './googleHealthApi.ts';

export type Units = 'metric' | 'imperial';
export type Scope = 'activity_and_fitness' | 'health_metrics_and_measurements' | 'sleep';

export interface Converted {
  /** Entries per element of sensors/fitbit/USER. */
  series: Record<string, JsonObject[]>;
  /** The newest point's time (RFC 3339) or date (YYYY-MM-DD): where the next fetch starts. */
  latest?: string;
}

export interface Kind {
  /** Its name in the `data` setting. */
  name: string;
  /** The Google data type (kebab-case, as in URLs). */
  dataType: string;
  scope: Scope;
  /** rollup: dailyRollUp; daily: list by date; samples: list by sample time; sessions: list by end time. */
  how: 'rollup' | 'daily' | 'samples' | 'sessions';
  /** The longest dailyRollUp range Google accepts for it, in days. */
  maxDays?: number;
  convert(points: JsonObject[], units: Units): Converted;
  units(units: Units): Record<string, Record<string, string>>;
}

const G_PER_LB = 453.59237;
const MM_PER_MI = 1_609_344;

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;
const weightIn = (grams: number, u: Units) => (u === 'imperial' ? round(grams / G_PER_LB, 1) : round(grams / 1000, 2));
const distanceIn = (mm: number, u: Units) => round(u === 'imperial' ? mm / MM_PER_MI : mm / 1_000_000, 3);
const weightUnit = (u: Units) => (u === 'imperial' ? 'lb' : 'kg');
const distanceUnit = (u: Units) => (u === 'imperial' ? 'mi' : 'km');

/** The JSON key of a data type's value object: heart-rate → heartRate. */
export function jsonKey(dataType: string): string {
  return dataType.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The filter name of a data type: heart-rate → heart_rate. */
export function filterName(dataType: string): string {
  return dataType.replace(/-/g, '_');
}

const latestOf = (values: (string | undefined)[]) =>
  values
    .filter((v): v is string => !!v)
    .sort()
    .at(-1);

/** A daily roll-up kind: one entry per day in each element, keyed by dateTime. */
function rollup(
  name: string,
  dataType: string,
  scope: Scope,
  elements: Record<string, { unit: (u: Units) => string; value: (v: JsonObject, u: Units) => number }>,
  maxDays = 90,
): Kind {
  return {
    name,
    dataType,
    scope,
    how: 'rollup',
    maxDays,
    convert(points, u) {
      const series: Record<string, JsonObject[]> = {};
      const dates: string[] = [];
      for (const p of points) {
        const dateTime = civilDate(obj(p['civilStartTime'])['date']);
        if (!dateTime) continue;
        dates.push(dateTime);
        const value = obj(p[jsonKey(dataType)]);
        for (const [element, e] of Object.entries(elements)) (series[element] ??= []).push({ dateTime, value: e.value(value, u) });
      }
      return { series, latest: latestOf(dates) };
    },
    units: (u) => Object.fromEntries(Object.entries(elements).map(([element, e]) => [element, { value: e.unit(u) }])),
  };
}

function activeMinutes(level: string) {
  return {
    unit: () => 'min',
    value: (v: JsonObject) =>
      num(obj(arr(v['activeMinutesRollupByActivityLevel']).find((l) => obj(l)['activityLevel'] === level))['activeMinutesSum']),
  };
}

/** Daily points (one per civil date), keyed by dateTime. */
function daily(name: string, dataType: string, element: string, fields: Record<string, [string, string]>): Kind {
  return {
    name,
    dataType,
    scope: 'health_metrics_and_measurements',
    how: 'daily',
    convert(points) {
      const entries = points.flatMap((p) => {
        const v = obj(p[jsonKey(dataType)]);
        const dateTime = civilDate(v['date']);
        if (!dateTime) return [];
        const entry: JsonObject = { dateTime };
        for (const [field, [googleField]] of Object.entries(fields)) entry[field] = round(num(v[googleField]), 1);
        return [entry];
      });
      return { series: { [element]: entries }, latest: latestOf(entries.map((e) => e['dateTime'] as string)) };
    },
    units: () => ({ [element]: Object.fromEntries(Object.entries(fields).map(([field, [, unit]]) => [field, unit])) }),
  };
}

/** Where a point came from, as a person would name it. */
function sourceOf(p: JsonObject): string {
  const source = obj(p['dataSource']);
  return str(obj(source['device'])['displayName']) ?? str(source['platform']) ?? 'Google Health';
}

/** The id a point keeps across fetches: the last part of its name, else its time. */
function logIdOf(p: JsonObject, time: string | undefined): string | undefined {
  const name = str(p['name']);
  return name ? name.slice(name.lastIndexOf('/') + 1) : time;
}

/** Samples (weight, body fat): date and local time, keyed by logId. */
function samples(
  name: string,
  dataType: string,
  element: string,
  value: (v: JsonObject, u: Units) => number,
  unit: (u: Units) => string,
): Kind {
  return {
    name,
    dataType,
    scope: 'health_metrics_and_measurements',
    how: 'samples',
    convert(points, u) {
      const at: string[] = [];
      const entries = points.flatMap((p) => {
        const v = obj(p[jsonKey(dataType)]);
        const sample = obj(v['sampleTime']);
        const local = localTime(sample['physicalTime'], sample['utcOffset'], sample['civilTime']);
        const logId = logIdOf(p, str(sample['physicalTime']));
        if (!local || !logId) return [];
        at.push(str(sample['physicalTime']) ?? '');
        return [{ logId, date: local.date, time: local.time, [element]: value(v, u), source: sourceOf(p) }];
      });
      return { series: { [element]: entries }, latest: latestOf(at) };
    },
    units: (u) => ({ [element]: { [element]: unit(u) } }),
  };
}

const STAGE_NAMES: Record<string, string> = {
  AWAKE: 'wake',
  LIGHT: 'light',
  DEEP: 'deep',
  REM: 'rem',
  ASLEEP: 'asleep',
  RESTLESS: 'restless',
};

const sleep: Kind = {
  name: 'sleep',
  dataType: 'sleep',
  scope: 'sleep',
  how: 'sessions',
  convert(points) {
    const ends: string[] = [];
    const entries = points.flatMap((p): JsonObject[] => {
      const s = obj(p['sleep']);
      const interval = obj(s['interval']);
      const start = localTime(interval['startTime'], interval['startUtcOffset'], interval['civilStartTime']);
      const end = localTime(interval['endTime'], interval['endUtcOffset'], interval['civilEndTime']);
      const logId = logIdOf(p, str(interval['startTime']));
      if (!start || !end || !logId) return [];
      ends.push(str(interval['endTime']) ?? '');
      const summary = obj(s['summary']);
      const entry: JsonObject = {
        logId,
        dateOfSleep: end.date, // the day one wakes up, as Fitbit counted it
        startTime: `${start.date}T${start.time}`,
        endTime: `${end.date}T${end.time}`,
        type: (str(s['type']) ?? 'CLASSIC').toLowerCase(),
        timeInBed: num(summary['minutesInSleepPeriod']),
        minutesAsleep: num(summary['minutesAsleep']),
        minutesAwake: num(summary['minutesAwake']),
        minutesToFallAsleep: num(summary['minutesToFallAsleep']),
      };
      for (const st of arr(summary['stagesSummary'])) {
        const stage = STAGE_NAMES[str(obj(st)['type']) ?? ''];
        if (stage) entry[`minutes${stage[0]!.toUpperCase()}${stage.slice(1)}`] = num(obj(st)['minutes']);
      }
      const stages = arr(s['stages']).map((st): Json => {
        const o = obj(st);
        const from = localTime(o['startTime'], o['startUtcOffset']);
        return {
          type: STAGE_NAMES[str(o['type']) ?? ''] ?? (str(o['type']) ?? '').toLowerCase(),
          startTime: from ? `${from.date}T${from.time}` : '',
          minutes: Math.round((Date.parse(str(o['endTime']) ?? '') - Date.parse(str(o['startTime']) ?? '')) / 60_000) || 0,
        };
      });
      if (stages.length) entry['stage'] = stages;
      return [entry];
    });
    return { series: { sleep: entries }, latest: latestOf(ends) };
  },
  units: () => ({
    sleep: {
      timeInBed: 'min',
      minutesAsleep: 'min',
      minutesAwake: 'min',
      minutesToFallAsleep: 'min',
      minutesDeep: 'min',
      minutesLight: 'min',
      minutesRem: 'min',
      minutesWake: 'min',
    },
  }),
};

export const KINDS: Kind[] = [
  rollup('steps', 'steps', 'activity_and_fitness', { 'activities-steps': { unit: () => 'steps', value: (v) => num(v['countSum']) } }),
  rollup('distance', 'distance', 'activity_and_fitness', {
    'activities-distance': { unit: distanceUnit, value: (v, u) => distanceIn(num(v['millimetersSum']), u) },
  }),
  rollup('floors', 'floors', 'activity_and_fitness', { 'activities-floors': { unit: () => 'floors', value: (v) => num(v['countSum']) } }),
  rollup(
    'calories',
    'total-calories',
    'activity_and_fitness',
    { 'activities-calories': { unit: () => 'kcal', value: (v) => Math.round(num(v['kcalSum'])) } },
    14,
  ),
  rollup(
    'activeMinutes',
    'active-minutes',
    'activity_and_fitness',
    {
      'activities-minutesLightlyActive': activeMinutes('LIGHT'),
      'activities-minutesFairlyActive': activeMinutes('MODERATE'),
      'activities-minutesVeryActive': activeMinutes('VIGOROUS'),
    },
    14,
  ),
  samples('weight', 'weight', 'weight', (v, u) => weightIn(num(v['weightGrams']), u), weightUnit),
  samples(
    'bodyFat',
    'body-fat',
    'fat',
    (v) => round(num(v['percentage']), 1),
    () => '%',
  ),
  sleep,
  daily('restingHeartRate', 'daily-resting-heart-rate', 'activities-heart', { restingHeartRate: ['beatsPerMinute', 'bpm'] }),
  {
    ...rollup(
      'heartRate',
      'heart-rate',
      'health_metrics_and_measurements',
      { 'heart-rate': { unit: () => 'bpm', value: (v) => round(num(v['beatsPerMinuteAvg']), 1) } },
      14,
    ),
    // Average, lowest and highest of the day in one entry.
    convert(points) {
      const entries = points.flatMap((p) => {
        const dateTime = civilDate(obj(p['civilStartTime'])['date']);
        const v = obj(p['heartRate']);
        return dateTime
          ? [
              {
                dateTime,
                average: round(num(v['beatsPerMinuteAvg']), 1),
                min: num(v['beatsPerMinuteMin']),
                max: num(v['beatsPerMinuteMax']),
              },
            ]
          : [];
      });
      return { series: { 'heart-rate': entries }, latest: latestOf(entries.map((e) => e.dateTime)) };
    },
    units: () => ({ 'heart-rate': { average: 'bpm', min: 'bpm', max: 'bpm' } }),
  },
  daily('spo2', 'daily-oxygen-saturation', 'spo2', {
    average: ['averagePercentage', '%'],
    lower: ['lowerBoundPercentage', '%'],
    upper: ['upperBoundPercentage', '%'],
  }),
];

export const KIND_NAMES = KINDS.map((k) => k.name);

/** How the setup page names each kind. */
export const KIND_LABELS: Record<string, string> = {
  steps: 'Steps',
  distance: 'Distance',
  floors: 'Floors',
  calories: 'Calories burned',
  activeMinutes: 'Active minutes',
  weight: 'Weight',
  bodyFat: 'Body fat',
  sleep: 'Sleep, with its stages',
  restingHeartRate: 'Resting heart rate',
  heartRate: 'Heart rate (daily average, lowest, highest)',
  spo2: 'Blood oxygen (SpO2)',
};

/** The kinds a `data` setting (names separated by commas; empty: all) enables. */
export function enabledKinds(data: string): Kind[] {
  const wanted = data
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  return wanted.length ? KINDS.filter((k) => wanted.includes(k.name)) : KINDS;
}

/** The read-only scopes that data needs, and no more. */
export function scopesFor(data: string): string[] {
  return [...new Set(enabledKinds(data).map((k) => k.scope))].map(scopeUrl);
}

export function scopeUrl(scope: Scope): string {
  return `https://www.googleapis.com/auth/googlehealth.${scope}.readonly`;
}

/** Whether a granted scope list covers `scope` (the spring-2026 names without .readonly count too). */
export function granted(scopes: string[] | undefined, scope: Scope): boolean {
  if (!scopes) return true; // the provider did not say: assume what was asked for
  const base = `https://www.googleapis.com/auth/googlehealth.${scope}`;
  return scopes.includes(`${base}.readonly`) || scopes.includes(base);
}
