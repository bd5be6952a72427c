/**
 * Taking XPath location paths apart, enough to know where a PUT or POST creates its element; and REST paths,
 * which are relative to /data, made absolute.
 */
import { BadRequestError, XPathError } from '../errors.ts';
import { isTagName } from './xmlNames.ts';
import { parseSimplePath } from './simplePath.ts';
import type { Expr } from './xpath/ast.ts';
import { compile } from './xpath.ts';

/**
 * A REST path as an absolute expression of the same meaning. A path means what it means evaluated with /data
 * as its context node, as /evaluate's expressions do: every relative location path not inside a predicate
 * (a predicate's paths are relative to the node it tests) is read from /data — `sensors/x` is
 * `/data/sensors/x`, `*[1] | *[2]` is `/data/*[1] | /data/*[2]`, `(a | b)[1]` is `(/data/a | /data/b)[1]`,
 * `/data/a | b` is `/data/a | /data/b` — and so are the functions that default to the context node: `name()`
 * is `name(/data)`, `lang('en')` is `boolean(/data[lang('en')])`. An absolute path such as
 * `/data/x[y > 3]` is left as it is. A path that does not parse is prefixed with `/data/` as it stands, for
 * the evaluation to refuse with its syntax error.
 */
export function absolutePath(path: string): string {
  if (path === '' || path === '/') return '/data';
  // The commonest by far: a plain path.
  if (path.startsWith('/') && parseSimplePath(path)) return path;
  if (!path.startsWith('/') && parseSimplePath(`/data/${path}`)) return `/data/${path}`;
  let expression: Expr;
  try {
    expression = compile(path);
  } catch (err) {
    if (err instanceof XPathError) return path.startsWith('/') ? path : `/data/${path}`;
    throw err;
  }
  const edits: Edit[] = [];
  readFromData(expression, edits);
  let absolute = path;
  // From the end, so that each edit's offset is still where it was in the original.
  for (const { at, text } of edits.sort((a, b) => b.at - a.at)) absolute = absolute.slice(0, at) + text + absolute.slice(at);
  return absolute;
}

interface Edit {
  at: number;
  text: string;
}

/** The core functions whose argument, when left out, is the context node. */
const OF_CONTEXT_NODE = new Set(['string', 'string-length', 'normalize-space', 'number', 'name', 'local-name', 'namespace-uri']);

/** The edits that make what `e` reads of its context node (outside predicates) read /data instead. */
function readFromData(e: Expr, edits: Edit[]): void {
  switch (e.t) {
    case 'path':
      if (e.start === 'context') edits.push({ at: e.at!, text: '/data/' });
      else if (e.start !== 'root') readFromData(e.start, edits);
      return;
    case 'filter':
      return readFromData(e.e, edits);
    case 'call':
      if (e.args.length === 0 && OF_CONTEXT_NODE.has(e.name)) edits.push({ at: e.close, text: '/data' });
      else if (e.name === 'lang' && e.args.length === 1) {
        // lang() asks about the context node itself: asked in a predicate of /data (its argument with it).
        edits.push({ at: e.at, text: 'boolean(/data[' }, { at: e.close + 1, text: '])' });
      } else for (const a of e.args) readFromData(a, edits);
      return;
    case 'or':
    case 'and':
    case 'compare':
    case 'arith':
    case 'union':
      readFromData(e.l, edits);
      readFromData(e.r, edits);
      return;
    case 'neg':
      return readFromData(e.e, edits);
    default:
      return;
  }
}

/**
 * Splits `s` at the top-level occurrences of `separator`: outside brackets, parentheses and string literals.
 * Undefined when a bracket, parenthesis or quote is left open. (The one splitter of XPath text by its steps or
 * branches: action triggers use it too.)
 */
export function splitTopLevel(s: string, separator: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (depth === 0 && s.startsWith(separator, i)) {
      parts.push(s.slice(start, i));
      start = i + separator.length;
    }
  }
  if (depth !== 0 || quote) return undefined;
  parts.push(s.slice(start));
  return parts;
}

/**
 * Splits off the last location step, ignoring slashes inside predicates, parentheses and string literals.
 * `/data/a[b/c='x/y']/d[2]` → parent `/data/a[b/c='x/y']`, step `d[2]`, tag `d`.
 */
export function splitLastStep(path: string): { parent: string; step: string; tag: string } {
  const steps = splitTopLevel(path, '/');
  if (!steps) compile(path); // a bracket or quote left open: the XPath error says where
  const step = steps && steps.length > 1 ? steps[steps.length - 1]! : '';
  const last = path.length - step.length - 1; // the slash before it
  const parent = last > 0 && path[last - 1] !== '/' ? path.slice(0, last) : '';
  const bracket = step.indexOf('[');
  let tag = bracket >= 0 ? step.slice(0, bracket) : step;
  if (tag.startsWith('child::')) tag = tag.slice('child::'.length);
  if (!isTagName(tag) || (last > 0 && parent === '')) {
    throw new BadRequestError(`${path}: a path to write must end with an element tag, like /data/sandbox/name`);
  }
  return { parent, step, tag };
}
