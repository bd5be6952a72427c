/**
 * XPath 1.0 expressions, parsed into a small syntax tree (ast.ts), with errors that say where the expression
 * stops being valid. The lexical rules are the specification's (§3.7): whether `*` multiplies and whether a
 * name is an operator, a function, a node type or an axis depends on the token before it and the characters
 * after it. A recursive-descent parser over those tokens; nesting is bounded so that no expression a client
 * sends can exhaust the stack.
 */
import { XPathError } from '../../errors.ts';
import type { Axis, Expr, NodeTest, Step } from './ast.ts';

type Kind = 'op' | 'name' | 'literal' | 'number' | 'var' | 'end';

interface Token {
  kind: Kind;
  /** The operator or punctuation itself, the name, the literal's content, or the number's text. */
  text: string;
  /** Offset of the token's first character in the expression. */
  at: number;
}

/** Deeper than this is refused: no real expression needs it, and it keeps evaluation off the stack's limit. */
export const MAX_NESTING = 100;

const NAME_START =
  /[A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]/u;
const NAME_CHAR =
  /[-.0-9\u00B7\u0300-\u036F\u203F\u2040A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}]/u;
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
const OPERATOR_NAMES = new Set(['and', 'or', 'mod', 'div']);
const NODE_TYPES = new Set(['node', 'text', 'comment', 'processing-instruction']);
const AXES = new Set<string>([
  'ancestor',
  'ancestor-or-self',
  'attribute',
  'child',
  'descendant',
  'descendant-or-self',
  'following',
  'following-sibling',
  'namespace',
  'parent',
  'preceding',
  'preceding-sibling',
  'self',
]);
/** After these a `*` is a name test and a name is not an operator (§3.7). */
const OPERAND_EXPECTED = new Set([
  '@',
  '::',
  '(',
  '[',
  ',',
  'and',
  'or',
  'mod',
  'div',
  '*',
  '/',
  '//',
  '|',
  '+',
  '-',
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
]);

function fail(expression: string, at: number, reason: string): never {
  throw new XPathError(`syntax error, ${reason}`, expression, at);
}

/** An NCName starting at `i`, or '' when there is none. */
function ncNameAt(s: string, i: number): string {
  const first = s.codePointAt(i);
  if (first === undefined || !NAME_START.test(String.fromCodePoint(first))) return '';
  let j = i + (first > 0xffff ? 2 : 1);
  for (;;) {
    const c = s.codePointAt(j);
    if (c === undefined || !NAME_CHAR.test(String.fromCodePoint(c))) break;
    j += c > 0xffff ? 2 : 1;
  }
  return s.slice(i, j);
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && WHITESPACE.has(s[i]!)) i++;
  return i;
}

export function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  const operandExpected = () => {
    const prev = tokens[tokens.length - 1];
    return !prev || (prev.kind === 'op' && OPERAND_EXPECTED.has(prev.text));
  };
  let i = 0;
  for (;;) {
    i = skipSpace(s, i);
    if (i >= s.length) break;
    const at = i;
    const c = s[i]!;
    const two = s.slice(i, i + 2);
    if (c === '"' || c === "'") {
      const end = s.indexOf(c, i + 1);
      if (end < 0) fail(s, at, 'unterminated string literal');
      tokens.push({ kind: 'literal', text: s.slice(i + 1, end), at });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[i + 1] ?? ''))) {
      const m = /^(\d+(\.\d*)?|\.\d+)/.exec(s.slice(i))!;
      tokens.push({ kind: 'number', text: m[0], at });
      i += m[0].length;
    } else if (two === '..' || two === '::' || two === '//' || two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ kind: 'op', text: two, at });
      i += 2;
    } else if ('()[].@,/|+-=<>'.includes(c)) {
      tokens.push({ kind: 'op', text: c, at });
      i++;
    } else if (c === '*') {
      // A multiplication, or the name test "any element".
      tokens.push(operandExpected() ? { kind: 'name', text: '*', at } : { kind: 'op', text: '*', at });
      i++;
    } else if (c === '$') {
      const name = qNameAt(s, i + 1);
      if (!name) fail(s, at, 'a variable name must follow "$"');
      tokens.push({ kind: 'var', text: name, at });
      i += 1 + name.length;
    } else {
      const name = ncNameAt(s, i);
      if (!name) fail(s, at, `unexpected character "${String.fromCodePoint(s.codePointAt(i)!)}"`);
      if (!operandExpected() && OPERATOR_NAMES.has(name)) {
        tokens.push({ kind: 'op', text: name, at });
        i += name.length;
        continue;
      }
      let text = name;
      // prefix:local or prefix:* (no whitespace inside a QName)
      if (s[i + name.length] === ':' && s[i + name.length + 1] !== ':') {
        const local = s[i + name.length + 1] === '*' ? '*' : ncNameAt(s, i + name.length + 1);
        if (local) text = `${name}:${local}`;
      }
      tokens.push({ kind: 'name', text, at });
      i += text.length;
    }
  }
  tokens.push({ kind: 'end', text: '', at: s.length });
  return tokens;
}

function qNameAt(s: string, i: number): string {
  const first = ncNameAt(s, i);
  if (!first) return '';
  if (s[i + first.length] === ':' && s[i + first.length + 1] !== ':') {
    const local = ncNameAt(s, i + first.length + 1);
    if (local) return `${first}:${local}`;
  }
  return first;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    const e = this.expr();
    if (this.peek().kind !== 'end') this.unexpected();
    return e;
  }

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isOp(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'op' && t.text === text;
  }

  private expect(text: string): void {
    if (!this.isOp(text)) this.unexpected();
    this.pos++;
  }

  private unexpected(): never {
    const t = this.peek();
    if (t.kind === 'end') fail(this.source, t.at, 'unexpected end of expression');
    const shown = t.kind === 'literal' ? this.source.slice(t.at, t.at + t.text.length + 2) : t.kind === 'var' ? `$${t.text}` : t.text;
    fail(this.source, t.at, `unexpected "${shown}"`);
  }

  private nested<T>(work: () => T): T {
    if (++this.depth > MAX_NESTING) fail(this.source, this.peek().at, `the expression is nested more than ${MAX_NESTING} levels deep`);
    try {
      return work();
    } finally {
      this.depth--;
    }
  }

  private expr(): Expr {
    return this.nested(() => this.binary(0));
  }

  /** Binary operators by precedence, loosest first; each level is left-associative. */
  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['or'],
    ['and'],
    ['=', '!='],
    ['<', '<=', '>', '>='],
    ['+', '-'],
    ['*', 'div', 'mod'],
  ];

  private binary(level: number): Expr {
    if (level === Parser.LEVELS.length) return this.unary();
    const ops = Parser.LEVELS[level]!;
    let left = this.binary(level + 1);
    let chain = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !ops.includes(t.text)) return left;
      // A chain `1+1+1…` nests to the left: bounded like parentheses, so evaluating it cannot overflow.
      if (++chain > MAX_NESTING * 10) fail(this.source, t.at, `the expression has more than ${MAX_NESTING * 10} operators in a row`);
      this.pos++;
      const right = this.binary(level + 1);
      left = binaryNode(t.text, left, right);
    }
  }

  private unary(): Expr {
    if (this.isOp('-')) {
      this.pos++;
      return this.nested(() => ({ t: 'neg', e: this.unary() }));
    }
    return this.union();
  }

  private union(): Expr {
    let left = this.pathExpr();
    let chain = 0;
    while (this.isOp('|')) {
      if (++chain > MAX_NESTING * 10) fail(this.source, this.peek().at, `the expression has more than ${MAX_NESTING * 10} unions in a row`);
      this.pos++;
      left = { t: 'union', l: left, r: this.pathExpr() };
    }
    return left;
  }

  /** Starts a filter expression (literal, number, variable, parenthesis, function call)? */
  private startsFilter(): boolean {
    const t = this.peek();
    if (t.kind === 'literal' || t.kind === 'number' || t.kind === 'var') return true;
    if (t.kind === 'op') return t.text === '(';
    if (t.kind !== 'name' || t.text === '*') return false;
    // A name followed by "(" is a function call unless it is a node type.
    return this.isOp('(', 1) && !NODE_TYPES.has(t.text);
  }

  private pathExpr(): Expr {
    if (this.startsFilter()) {
      const filter = this.filterExpr();
      if (this.isOp('/') || this.isOp('//')) {
        const steps = this.relativeSteps(this.next().text === '//');
        return { t: 'path', start: filter, steps };
      }
      return filter;
    }
    if (this.isOp('/')) {
      this.pos++;
      // A lone "/" is the root; a step may follow.
      if (!this.startsStep()) return { t: 'path', start: 'root', steps: [] };
      return { t: 'path', start: 'root', steps: this.relativeSteps(false) };
    }
    if (this.isOp('//')) {
      this.pos++;
      return { t: 'path', start: 'root', steps: this.relativeSteps(true) };
    }
    if (!this.startsStep()) this.unexpected();
    const at = this.peek().at;
    return { t: 'path', start: 'context', steps: this.relativeSteps(false), at };
  }

  private startsStep(): boolean {
    const t = this.peek();
    if (t.kind === 'name') return true;
    return t.kind === 'op' && (t.text === '.' || t.text === '..' || t.text === '@');
  }

  private filterExpr(): Expr {
    let e = this.primary();
    const preds = this.predicates();
    if (preds.length) e = { t: 'filter', e, preds };
    return e;
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'literal':
        return { t: 'literal', v: t.text };
      case 'number':
        return { t: 'number', v: Number(t.text.endsWith('.') ? t.text.slice(0, -1) : t.text) };
      case 'var':
        return { t: 'var', name: t.text };
      case 'op': {
        // '('
        const e = this.expr();
        this.expect(')');
        return e;
      }
      default: {
        this.expect('(');
        const args: Expr[] = [];
        if (!this.isOp(')')) {
          args.push(this.expr());
          while (this.isOp(',')) {
            this.pos++;
            args.push(this.expr());
          }
        }
        const close = this.peek().at;
        this.expect(')');
        return { t: 'call', name: t.text, args, at: t.at, close };
      }
    }
  }

  private predicates(): Expr[] {
    const preds: Expr[] = [];
    while (this.isOp('[')) {
      this.pos++;
      preds.push(this.expr());
      this.expect(']');
    }
    return preds;
  }

  /** RelativeLocationPath; `descendant` when it followed a `//`. */
  private relativeSteps(descendant: boolean): Step[] {
    const steps: Step[] = [];
    if (descendant) steps.push(DESCENDANT_OR_SELF);
    steps.push(this.step());
    for (;;) {
      if (this.isOp('/')) {
        this.pos++;
      } else if (this.isOp('//')) {
        this.pos++;
        steps.push(DESCENDANT_OR_SELF);
      } else return steps;
      if (steps.length > MAX_NESTING * 10) fail(this.source, this.peek().at, `the path has more than ${MAX_NESTING * 10} steps`);
      steps.push(this.step());
    }
  }

  private step(): Step {
    if (this.isOp('.')) {
      this.pos++;
      return { axis: 'self', test: { k: 'node' }, preds: [] };
    }
    if (this.isOp('..')) {
      this.pos++;
      return { axis: 'parent', test: { k: 'node' }, preds: [] };
    }
    let axis: Axis = 'child';
    if (this.isOp('@')) {
      this.pos++;
      axis = 'attribute';
    } else if (this.peek().kind === 'name' && this.isOp('::', 1)) {
      const name = this.next();
      if (!AXES.has(name.text)) fail(this.source, name.at, `unknown axis "${name.text}"`);
      axis = name.text as Axis;
      this.pos++; // ::
    }
    const test = this.nodeTest();
    return { axis, test, preds: this.predicates() };
  }

  private nodeTest(): NodeTest {
    const t = this.peek();
    if (t.kind !== 'name') this.unexpected();
    this.pos++;
    if (NODE_TYPES.has(t.text) && this.isOp('(')) {
      this.pos++;
      let target: string | undefined;
      if (t.text === 'processing-instruction' && this.peek().kind === 'literal') target = this.next().text;
      this.expect(')');
      switch (t.text) {
        case 'node':
          return { k: 'node' };
        case 'text':
          return { k: 'text' };
        case 'comment':
          return { k: 'comment' };
        default:
          return target === undefined ? { k: 'pi' } : { k: 'pi', target };
      }
    }
    if (t.text === '*') return { k: 'any' };
    const colon = t.text.indexOf(':');
    if (colon < 0) return { k: 'name', local: t.text };
    const prefix = t.text.slice(0, colon);
    const local = t.text.slice(colon + 1);
    return local === '*' ? { k: 'nsany', prefix } : { k: 'name', prefix, local };
  }
}

const DESCENDANT_OR_SELF: Step = { axis: 'descendant-or-self', test: { k: 'node' }, preds: [] };

function binaryNode(op: string, l: Expr, r: Expr): Expr {
  switch (op) {
    case 'or':
    case 'and':
      return { t: op, l, r };
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return { t: 'compare', op, l, r };
    default:
      return { t: 'arith', op: op as '+' | '-' | '*' | 'div' | 'mod', l, r };
  }
}

export function parse(expression: string): Expr {
  if (expression.trim() === '') throw new XPathError('empty expression', expression);
  return new Parser(expression, tokenize(expression)).parse();
}
