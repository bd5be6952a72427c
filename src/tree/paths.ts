/** Taking XPath location paths apart, enough to know where a PUT or POST creates its element. */
import { BadRequestError } from '../errors.ts';
import { isTagName } from './dom.ts';

/** `sensors/x` → `/data/sensors/x`: REST paths are relative to /data unless they start with `/`. */
export function absolutePath(path: string): string {
  if (path === '' || path === '/') return '/data';
  return path.startsWith('/') ? path : `/data/${path}`;
}

/**
 * Splits off the last location step, ignoring slashes inside predicates, parentheses and string literals.
 * `/data/a[b/c='x/y']/d[2]` → parent `/data/a[b/c='x/y']`, step `d[2]`, tag `d`.
 */
export function splitLastStep(path: string): { parent: string; step: string; tag: string } {
  let depth = 0;
  let quote: string | undefined;
  let last = -1;
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === '/' && depth === 0) last = i;
  }
  const step = path.slice(last + 1);
  const parent = last > 0 && path[last - 1] !== '/' ? path.slice(0, last) : '';
  const bracket = step.indexOf('[');
  let tag = bracket >= 0 ? step.slice(0, bracket) : step;
  if (tag.startsWith('child::')) tag = tag.slice('child::'.length);
  if (!isTagName(tag) || last < 0 || (last > 0 && parent === '')) {
    throw new BadRequestError(`${path}: a path to write must end with an element tag, like /data/sandbox/name`);
  }
  return { parent, step, tag };
}
