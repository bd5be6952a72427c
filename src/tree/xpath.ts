/**
 * XPath 1.0 over the tree, through the maintained `xpath` engine, with:
 * - compiled expressions cached,
 * - Igor's namespaces (au:, own:), its igor_* functions and the $originalContext variable,
 * - syntax errors that say where the expression went wrong,
 * - the simple-path fast path (simplePath.ts) and cheap document order (docorder.ts).
 */
import xpath, { type ParsedExpression, type XNodeSetLike, type XObject } from 'xpath';
import { IgorError, XPathError } from '../errors.ts';
import { installFastDocumentOrder } from './docorder.ts';
import { igorFunctions } from './igorFunctions.ts';
import { parseSimplePath, walkSimplePath } from './simplePath.ts';
import { withinTimeLimit } from './xpathBudget.ts';

export const NAMESPACES = {
  au: 'http://jackjansen.nl/igor/authentication',
  own: 'http://jackjansen.nl/igor/owner',
} as const;

export type XPathValue = Node[] | string | number | boolean;

installFastDocumentOrder();

const CACHE_LIMIT = 2000;
const cache = new Map<string, ParsedExpression>();

const functionResolver = (name: string, namespace?: string) => (namespace ? undefined : igorFunctions[name]);

/** Finds where an expression stops being valid XPath, by replaying the engine's own LR tables. */
function locateSyntaxError(expression: string): { position: number; reason: string } {
  const P = xpath.XPathParser;
  let types: number[];
  let values: string[];
  try {
    [types, values] = new P().tokenize(expression);
  } catch (err) {
    const reason = (err as Error).message.trim();
    const ch = /Unexpected character (.)/.exec(reason)?.[1];
    const literal = /Unterminated string literal: (.)/.exec(reason)?.[1];
    const at = ch !== undefined ? expression.indexOf(ch) : literal !== undefined ? expression.lastIndexOf(literal) : -1;
    return { position: Math.max(0, at), reason };
  }
  const states = [0];
  let i = 0;
  for (let guard = 0; guard < 100000; guard++) {
    const s = states[states.length - 1]!;
    const a = types[i]!;
    const action = P.actionTable[s]!.charAt(a - 1);
    const number = P.actionTableNumber[s]!.charCodeAt(a - 1) - 32;
    if (action === P.SHIFT) {
      states.push(number);
      i++;
    } else if (action === P.REDUCE) {
      const [lhs, length] = P.productions[number]!;
      states.length -= length!;
      states.push(P.gotoTable[states[states.length - 1]!]!.charCodeAt(lhs! - 2) - 33);
    } else break; // accept cannot happen here: the engine already rejected the expression
  }
  // Map token index i back to a character offset by finding each token's text in turn.
  let pos = 0;
  for (let t = 0; t < i && t < values.length - 1; t++) {
    const at = expression.indexOf(values[t]!, pos);
    if (at >= 0) pos = at + values[t]!.length;
  }
  if (i >= values.length - 1) {
    return { position: expression.length, reason: 'unexpected end of expression' };
  }
  const at = expression.indexOf(values[i]!, pos);
  const position = at >= 0 ? at : pos;
  return { position, reason: `unexpected "${values[i]}"` };
}

export function compile(expression: string): ParsedExpression {
  let parsed = cache.get(expression);
  if (parsed) return parsed;
  if (expression.trim() === '') throw new XPathError('empty expression', expression);
  try {
    parsed = xpath.parse(expression);
  } catch {
    const { position, reason } = locateSyntaxError(expression);
    throw new XPathError(`syntax error, ${reason}`, expression, position);
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(expression, parsed);
  return parsed;
}

function toValue(result: XObject): XPathValue {
  const r: object = result;
  if (r instanceof xpath.XNodeSet) return (result as XNodeSetLike).toArray();
  if (r instanceof xpath.XNumber) return result.numberValue();
  if (r instanceof xpath.XBoolean) return result.booleanValue();
  return result.stringValue();
}

export interface EvaluateOptions {
  /** Bound to $originalContext (Igor's name for the node that triggered an action). Defaults to the context. */
  originalContext?: Node;
}

export function evaluate(expression: string, context: Node, options: EvaluateOptions = {}): XPathValue {
  if (context.nodeType === 9) {
    const steps = parseSimplePath(expression);
    if (steps) return walkSimplePath(context, steps);
  }
  const parsed = compile(expression);
  try {
    return withinTimeLimit(() =>
      toValue(
        parsed.evaluate({
          node: context,
          namespaces: NAMESPACES,
          functions: functionResolver,
          variables: { originalContext: options.originalContext ?? context },
        }),
      ),
    );
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

/** XPath 1.0 string() of a value: numbers as XPath prints them (`2`, not `2.0`), node-sets as the first node's text. */
export function stringOf(value: XPathValue): string {
  if (Array.isArray(value)) return value.length ? (value[0]!.textContent ?? '') : '';
  if (typeof value === 'number') return numberToString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return value;
}

export function numberToString(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(n)) return BigInt(n).toString();
  // XPath 1.0 never uses exponent notation; toFixed handles magnitudes up to 1e21.
  const s = String(n);
  if (!s.includes('e')) return s;
  return n.toFixed(20).replace(/\.?0+$/, '');
}
