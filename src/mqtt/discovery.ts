/**
 * Home Assistant's MQTT discovery: every sensor series that says its units (sensors/…/units/SERIES/FIELD, as
 * plugins declare them with storeSeries) is announced under PREFIX/sensor/ID/config, retained, with its unit
 * and a state topic STATEPREFIX/PATH/SERIES/FIELD carrying its latest value, so a Home Assistant next to
 * Igor-TS shows it without configuration.
 */
import type { Database } from '../store/database.ts';
import { refOf } from '../tree/refs.ts';
import type { Discovery } from './definitions.ts';

export interface DiscoveryMessage {
  topic: string;
  payload: string;
  /** A config message (announced once) rather than a state. */
  config: boolean;
}

const DEVICE = { identifiers: ['igor-ts'], name: 'Igor-TS', manufacturer: 'Igor-TS', model: 'home-automation server' };

export function discoveryMessages(db: Database, d: Discovery, show: (n: Node) => boolean): DiscoveryMessage[] {
  const out: DiscoveryMessage[] = [];
  for (const unitEl of db.tree.select('/data/sensors//units/*/*') as Element[]) {
    if (!show(unitEl)) continue;
    const field = unitEl.nodeName;
    const series = (unitEl.parentNode as Element).nodeName;
    const owner = (unitEl.parentNode!.parentNode!.parentNode as Element) ?? undefined;
    if (!owner) continue;
    const base = refOf(owner)
      .replace(/^\/data\//, '')
      .replace(/\[\d+\]/g, '');
    const id = `${base}/${series}/${field}`;
    const uniqueId = `igor_${id.replace(/[^A-Za-z0-9]+/g, '_')}`;
    const stateTopic = `${d.statePrefix}/${id}`;
    const words = [...base.split('/').slice(1), series, ...(field === series || field === 'value' ? [] : [field])];
    out.push({
      topic: `${d.prefix}/sensor/${uniqueId}/config`,
      config: true,
      payload: JSON.stringify({
        name: words.join(' '),
        unique_id: uniqueId,
        state_topic: stateTopic,
        unit_of_measurement: unitEl.textContent ?? '',
        state_class: 'measurement',
        device: DEVICE,
      }),
    });
    const entries = owner.getElementsByTagName(series);
    let latest: string | undefined;
    for (let i = entries.length - 1; i >= 0 && latest === undefined; i--) {
      const entry = entries[i]!;
      if (entry.parentNode !== owner) continue;
      for (let c = entry.firstChild; c; c = c.nextSibling) if (c.nodeName === field && show(c)) latest = c.textContent ?? '';
    }
    if (latest !== undefined) out.push({ topic: stateTopic, payload: latest, config: false });
  }
  return out;
}
