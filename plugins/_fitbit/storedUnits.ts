/**
 * When a person switches between metric and imperial, what is stored is converted too, so that a series never
 * mixes kilograms with pounds (points older than a fetch asks for would otherwise stay as they were). The
 * changes are worked out as plain values (unitChanges), then written one field at a time (convertStored).
 */
import type { Json, PluginHost, TreeChange } from 'igor-ts/plugin-api';
import type { Kind, Units } from './dataTypes.ts';
import { isObject, text } from './googleHealthApi.ts';

/** Factor and decimal places, from the unit stored to the unit wanted. */
const FACTORS: Record<string, [factor: number, places: number]> = {
  'kg>lb': [1 / 0.45359237, 1],
  'lb>kg': [0.45359237, 2],
  'km>mi': [1 / 1.609344, 3],
  'mi>km': [1.609344, 3],
};

/** How to turn a value stored in unit `was` into `unit`, or undefined when there is nothing to convert. */
export function conversionBetween(was: string, unit: string): [factor: number, places: number] | undefined {
  return FACTORS[`${was}>${unit}`];
}

/** The changes that convert one field of a stored series (`entries`, at base/element), ending with its new unit. */
export function unitChanges(
  base: string,
  element: string,
  field: string,
  unit: string,
  [factor, places]: [factor: number, places: number],
  entries: Json[],
): TreeChange[] {
  const changes: TreeChange[] = entries.flatMap((entry, i) => {
    if (!isObject(entry) || typeof entry[field] !== 'number') return [];
    const value = Math.round(entry[field] * factor * 10 ** places) / 10 ** places;
    return [{ op: 'put' as const, xpath: `${base}/${element}[${i + 1}]/${field}`, value }];
  });
  return [...changes, { op: 'put', xpath: `${base}/units/${element}/${field}`, value: unit }];
}

/** Converts what is stored under `base` of one kind into `units`, where it was stored in others. */
export async function convertStored(host: PluginHost, base: string, kind: Kind, units: Units): Promise<void> {
  for (const [element, fields] of Object.entries(kind.units(units))) {
    for (const [field, unit] of Object.entries(fields)) {
      const conversion = conversionBetween(text(host.data.get(`${base}/units/${element}/${field}`)), unit);
      if (conversion) await host.data.batch(unitChanges(base, element, field, unit, conversion, host.data.getAll(`${base}/${element}`)));
    }
  }
}
