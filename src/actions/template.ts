/**
 * Igor's attribute-value templates: `{xpath}` in an action's url and data is replaced by the expression's
 * value, evaluated against the node that triggered the action. `{{` and a matching `}}` stand for literal
 * braces, as in Igor; a `{` that does not open an expression (one without braces inside) and any other `}`
 * are literal too, so JSON data such as `{"value": {.}}` also works as written. Values print as XPath does (`3`, not `3.0`); in URLs they are
 * percent-encoded.
 */
type Piece = { literal: string } | { expression: string };

function scan(template: string): Piece[] {
  const pieces: Piece[] = [];
  let literal = '';
  let i = 0;
  // `}}` is an escape only while a `{{` is open, so `{"a": {"b": {.}}}` keeps all its closing braces.
  let openEscapes = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c === '{' && template[i + 1] === '{') {
      literal += c;
      openEscapes++;
      i += 2;
      continue;
    }
    if (c === '}' && template[i + 1] === '}' && openEscapes > 0) {
      literal += c;
      openEscapes--;
      i += 2;
      continue;
    }
    if (c === '{') {
      const close = template.indexOf('}', i + 1);
      const open = template.indexOf('{', i + 1);
      if (close > i + 1 && (open < 0 || open > close)) {
        if (literal) pieces.push({ literal });
        literal = '';
        pieces.push({ expression: template.slice(i + 1, close) });
        i = close + 1;
        continue;
      }
    }
    literal += c;
    i++;
  }
  if (literal) pieces.push({ literal });
  return pieces;
}

/** The XPath expressions in a template, for checking them when the action is written. */
export function templateExpressions(template: string): string[] {
  return scan(template).flatMap((p) => ('expression' in p ? [p.expression] : []));
}

export function expandTemplate(template: string, valueOf: (expression: string) => string, encode: boolean): string {
  return scan(template)
    .map((p) => {
      if ('literal' in p) return p.literal;
      const value = valueOf(p.expression);
      return encode ? encodeURIComponent(value) : value;
    })
    .join('');
}
