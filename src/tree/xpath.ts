/**
 * XPath 1.0 over the tree: compiled expressions cached, Igor's namespaces (au:, own:), its igor_* functions
 * and the $originalContext variable, syntax errors that say where the expression went wrong, a time limit,
 * and the simple-path fast path (simplePath.ts). An evaluation may be given a view (see xpath/evaluate.ts):
 * then the nodes the view leaves out do not exist for it, in predicates and functions as much as in results.
 */
import { IgorError, XPathError } from '../errors.ts';
import { igorFunctions } from './igorFunctions.ts';
import { parseSimplePath, walkSimplePath } from './simplePath.ts';
import type { Expr } from './xpath/ast.ts';
import { evaluateExpression, numberToString, stringValue, type Scope, type Value, type View } from './xpath/evaluate.ts';
import { parse } from './xpath/parse.ts';
import { withinTimeLimit } from './xpathBudget.ts';

export { numberToString } from './xpath/evaluate.ts';
export type { View } from './xpath/evaluate.ts';

export const NAMESPACES = {
  au: 'http://jackjansen.nl/igor/authentication',
  own: 'http://jackjansen.nl/igor/owner',
} as const;

export type XPathValue = Value;

const CACHE_LIMIT = 2000;
const cache = new Map<string, Expr>();

export function compile(expression: string): Expr {
  let parsed = cache.get(expression);
  if (parsed) return parsed;
  parsed = parse(expression);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(expression, parsed);
  return parsed;
}

export interface EvaluateOptions {
  /** Bound to $originalContext (Igor's name for the node that triggered an action). Defaults to the context. */
  originalContext?: Node;
  /** What exists for this evaluation; everything when not given. */
  view?: View;
  /** A time limit shorter than the server's (--xpath-timeout-ms), for a client's evaluation. */
  timeLimitMs?: number;
}

function scopeOf(context: Node, options: EvaluateOptions): Scope {
  return {
    ...(options.view ? { view: options.view } : {}),
    namespaces: NAMESPACES,
    variables: { originalContext: [options.originalContext ?? context] },
    functions: igorFunctions,
  };
}

export function evaluate(expression: string, context: Node, options: EvaluateOptions = {}): XPathValue {
  if (context.nodeType === 9) {
    const steps = parseSimplePath(expression);
    if (steps) return walkSimplePath(context, steps, options.view);
  }
  const parsed = compile(expression);
  try {
    return withinTimeLimit(() => evaluateExpression(expression, parsed, context, scopeOf(context, options)), options.timeLimitMs);
  } catch (err) {
    if (err instanceof IgorError) throw err;
    throw new XPathError((err as Error).message, expression);
  }
}

/** Evaluates an expression that must give a node-set. */
export function selectNodes(expression: string, context: Node, options?: EvaluateOptions): Node[] {
  const value = evaluate(expression, context, options);
  if (!Array.isArray(value)) throw new XPathError('expression does not select nodes', expression);
  return value;
}

/**
 * XPath 1.0 string() of a value: numbers as XPath prints them (`2`, not `2.0`), a node-set as its first
 * node's text — within the view, when one is given.
 */
export function stringOf(value: XPathValue, view?: View): string {
  if (Array.isArray(value))
    return stringValue(
      value,
      view ? { view, namespaces: NAMESPACES, variables: {}, functions: {} } : { namespaces: NAMESPACES, variables: {}, functions: {} },
    );
  if (typeof value === 'number') return numberToString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value;
}
