/** The syntax tree of an XPath 1.0 expression (parse.ts makes it, evaluate.ts runs it). */

export type Axis =
  | 'ancestor'
  | 'ancestor-or-self'
  | 'attribute'
  | 'child'
  | 'descendant'
  | 'descendant-or-self'
  | 'following'
  | 'following-sibling'
  | 'namespace'
  | 'parent'
  | 'preceding'
  | 'preceding-sibling'
  | 'self';

export type NodeTest =
  /** A QName; an unprefixed one matches nodes in no namespace. */
  | { k: 'name'; prefix?: string; local: string }
  /** `*`: any node of the axis's principal type. */
  | { k: 'any' }
  /** `prefix:*` */
  | { k: 'nsany'; prefix: string }
  | { k: 'node' }
  | { k: 'text' }
  | { k: 'comment' }
  | { k: 'pi'; target?: string };

export interface Step {
  axis: Axis;
  test: NodeTest;
  preds: Expr[];
}

export type Expr =
  | { t: 'or' | 'and'; l: Expr; r: Expr }
  | { t: 'compare'; op: '=' | '!=' | '<' | '<=' | '>' | '>='; l: Expr; r: Expr }
  | { t: 'arith'; op: '+' | '-' | '*' | 'div' | 'mod'; l: Expr; r: Expr }
  | { t: 'neg'; e: Expr }
  | { t: 'union'; l: Expr; r: Expr }
  /**
   * A location path, from the root, the context node, or the node-set a filter expression gives. `at`: where a
   * relative one (from the context node) starts in the expression.
   */
  | { t: 'path'; start: 'root' | 'context' | Expr; steps: Step[]; at?: number }
  | { t: 'filter'; e: Expr; preds: Expr[] }
  | { t: 'literal'; v: string }
  | { t: 'number'; v: number }
  | { t: 'var'; name: string }
  /** `at`: where the name starts in the expression, for errors; `close`: where its `)` is. */
  | { t: 'call'; name: string; args: Expr[]; at: number; close: number };
