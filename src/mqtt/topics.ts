/**
 * MQTT topics and tree paths, without a network: matching a topic against a filter with `+`/`#` (and
 * keeping what the wildcards matched), filling `{1}`… in a destination or topic template, and tree values as
 * payloads. (A payload becomes an element as a request body does: tree/payload.ts's elementFromBody.)
 */
import { BadRequestError } from '../errors.ts';
import { isTagName } from '../tree/xmlNames.ts';
import type { Json } from '../tree/jsonxml.ts';

/** What the wildcards of `filter` matched in `topic` (`+` one level each, `#` the rest), or undefined if it does not match. */
export function matchTopic(filter: string, topic: string): string[] | undefined {
  const f = filter.split('/');
  const t = topic.split('/');
  const parts: string[] = [];
  // $SYS and the like are not matched by wildcards at the top (MQTT 4.7.2).
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return undefined;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') {
      parts.push(t.slice(i).join('/'));
      return parts;
    }
    if (i >= t.length) return undefined;
    if (f[i] === '+') parts.push(t[i]!);
    else if (f[i] !== t[i]) return undefined;
  }
  return f.length === t.length ? parts : undefined;
}

/** A topic filter as MQTT allows it: `+` and `#` only as whole levels, `#` only last. */
export function isTopicFilter(filter: string): boolean {
  if (!filter || filter.length > 1024) return false;
  const levels = filter.split('/');
  return levels.every((l, i) => (l.includes('+') || l.includes('#') ? l === '+' || (l === '#' && i === levels.length - 1) : true));
}

/**
 * `template` with `{N}` replaced by the N-th wildcard part (from 1). A part that goes into a tree path must
 * be element names only, so that no message can aim a write anywhere the subscription did not say.
 */
export function fill(template: string, parts: string[], forPath: boolean): string {
  return template.replace(/\{(\d+)\}/g, (_, n: string) => {
    const part = parts[Number(n) - 1];
    if (part === undefined) throw new BadRequestError(`{${n}} has no wildcard part to fill it`);
    if (forPath && !part.split('/').every(isTagName))
      throw new BadRequestError(`the topic part "${part.slice(0, 60)}" cannot be an element name in ${template}`);
    return part;
  });
}

/** A tree value as a payload: JSON for application/json, else the text of a scalar. */
export function payloadOfValue(value: Json | undefined, mimetype: string): string {
  if (mimetype === 'text/plain')
    return value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return JSON.stringify(value ?? null);
}
