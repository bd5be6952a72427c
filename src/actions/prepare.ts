/**
 * What one run of an action calls, for the node that triggered it (or the root): nothing when its <condition>
 * does not hold there, else its url and data with their {XPath} templates filled in, evaluated in the action's
 * view. An XPath that fails throws, for the run's status to say.
 */
import { textOf } from '../tree/text.ts';
import type { Tree } from '../tree/tree.ts';
import { stringOf, type View } from '../tree/xpath.ts';
import type { ActionDefinition } from './definition.ts';
import { expandTemplate } from './template.ts';

export interface PreparedCall {
  url: string;
  data: string | undefined;
}

/** XPath's boolean() of a value: a non-empty node-set, a number other than 0 and NaN, a non-empty string, true. */
function truth(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return Boolean(value);
}

export function prepareCall(
  def: Pick<ActionDefinition, 'condition' | 'url' | 'data'>,
  tree: Pick<Tree, 'evaluate'>,
  context: Node,
  view: View | undefined,
): PreparedCall | undefined {
  const options = { originalContext: context, view };
  if (def.condition !== undefined && !truth(tree.evaluate(def.condition, context, options))) return undefined;
  const valueOf = (expression: string) => {
    const v = tree.evaluate(expression, context, options);
    // The server's own actions print a node without Igor's hidden data, as they always have.
    return Array.isArray(v) && !view ? (v.length ? textOf(v[0]!) : '') : stringOf(v, view);
  };
  return {
    url: expandTemplate(def.url, valueOf, true),
    data: def.data === undefined ? undefined : expandTemplate(def.data, valueOf, false),
  };
}
