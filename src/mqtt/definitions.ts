/**
 * What /data/mqtt says (admin only, like eventSources): `subscription` {topic, dst, mimetype, qos} brings
 * messages into the tree, `publication` {xpath, topic, mimetype, retain, qos} sends a subtree's changes out,
 * `discovery` {prefix, statePrefix} announces sensors to Home Assistant, and `connection` {username,
 * password, ca, cert, key} says how to log in to an outside broker. A definition that cannot work is
 * reported, not used.
 */
import type { Database } from '../store/database.ts';
import { childField } from '../tree/text.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { isTopicFilter } from './topics.ts';

export interface Subscription {
  topic: string;
  dst: string;
  mimetype: string;
  qos: 0 | 1 | 2;
}

export interface Publication {
  /** The pattern's steps below /data: names, or * for any one. */
  steps: string[];
  topic: string;
  mimetype: string;
  retain: boolean;
  qos: 0 | 1 | 2;
}

export interface Discovery {
  prefix: string;
  statePrefix: string;
}

export interface Definitions {
  subscriptions: Subscription[];
  publications: Publication[];
  discovery?: Discovery;
  connection: { username?: string; password?: string; ca?: string; cert?: string; key?: string };
  /** Why each definition that cannot work was left out. */
  problems: string[];
}

function qosOf(text: string, fallback: 0 | 1 | 2): 0 | 1 | 2 {
  return text === '0' || text === '1' || text === '2' ? (Number(text) as 0 | 1 | 2) : fallback;
}

const MIMETYPES = new Set(['application/json', 'text/plain']);

/** A path under /data whose steps are names once each {N} holds a topic level (any XML name, not only ASCII). */
function isDestination(dst: string): boolean {
  const steps = dst.startsWith('/data/') ? dst.slice('/data/'.length).split('/') : [];
  return steps.length > 0 && steps.every((step) => isTagName(step.replace(/\{\d+\}/g, 'x')));
}

export function readDefinitions(db: Database): Definitions {
  const problems: string[] = [];
  const subscriptions: Subscription[] = [];
  for (const el of db.tree.select('/data/mqtt/subscription') as Element[]) {
    const s = { topic: childField(el, 'topic'), dst: childField(el, 'dst'), mimetype: childField(el, 'mimetype') || 'application/json' };
    if (!isTopicFilter(s.topic)) problems.push(`subscription ${s.topic || '(no topic)'}: not a topic filter`);
    else if (!isDestination(s.dst))
      problems.push(`subscription ${s.topic}: dst ${s.dst || '(none)'} is not a path such as /data/devices/zigbee/{1}`);
    else if (!MIMETYPES.has(s.mimetype))
      problems.push(`subscription ${s.topic}: mimetype ${s.mimetype} is not application/json or text/plain`);
    else subscriptions.push({ ...s, qos: qosOf(childField(el, 'qos'), 1) });
  }
  const publications: Publication[] = [];
  for (const el of db.tree.select('/data/mqtt/publication') as Element[]) {
    const xpath = childField(el, 'xpath');
    const topic = childField(el, 'topic');
    const steps = xpath.replace(/^\/data\//, '').split('/');
    if (!xpath.startsWith('/data/') || !steps.every((s) => s === '*' || isTagName(s)))
      problems.push(`publication ${xpath || '(no xpath)'}: a path of names and * steps, such as /data/devices/zigbee/*, is needed`);
    else if (!topic || topic.includes('+') || topic.includes('#'))
      problems.push(`publication ${xpath}: topic ${topic || '(none)'} is not a topic`);
    else
      publications.push({
        steps,
        topic,
        mimetype: MIMETYPES.has(childField(el, 'mimetype')) ? childField(el, 'mimetype') : 'application/json',
        retain: childField(el, 'retain') === 'true',
        qos: qosOf(childField(el, 'qos'), 0),
      });
  }
  const d = db.tree.select('/data/mqtt/discovery')[0] as Element | undefined;
  const discovery = d
    ? { prefix: childField(d, 'prefix') || 'homeassistant', statePrefix: childField(d, 'statePrefix') || 'igor' }
    : undefined;
  const c = db.tree.select('/data/mqtt/connection')[0] as Element | undefined;
  const connection = c
    ? Object.fromEntries(
        ['username', 'password', 'ca', 'cert', 'key'].map((k) => [k, childField(c, k) || undefined]).filter(([, v]) => v !== undefined),
      )
    : {};
  return { subscriptions, publications, discovery, connection, problems };
}
