/**
 * Reading an `<action>` element (igor-reference §3.1) into a checked definition. A bad action is refused
 * when it is written (see validate in manager.ts), so the message reaches whoever wrote it.
 */
import { BadRequestError } from '../errors.ts';
import { ELEMENT_NODE, SHOW_ALL } from '../tree/dom.ts';
import { ancestry, refOf } from '../tree/refs.ts';
import { serialize } from '../tree/serialize.ts';
import { absolutePath } from '../tree/paths.ts';
import { compile } from '../tree/xpath.ts';
import { cronProblem } from './cron.ts';
import { templateExpressions } from './template.ts';

export interface ActionDefinition {
  /** Reference of the element, for messages. */
  ref: string;
  /** The element's whole content: two actions with the same key are the same action. */
  key: string;
  /** Owning plugin, for actions under plugindata/NAME/. */
  plugin?: string;
  name?: string;
  xpaths: string[];
  multiple: boolean;
  aggregate: boolean;
  /** Seconds. */
  interval?: number;
  cron?: string;
  /** Seconds. */
  minInterval?: number;
  condition?: string;
  url: string;
  method: string;
  data?: string;
  mimetype: string;
  representing?: string;
}

const FIELDS = new Set([
  'name',
  'xpath',
  'multiple',
  'aggregate',
  'interval',
  'cron',
  'minInterval',
  'condition',
  'url',
  'method',
  'data',
  'mimetype',
  'representing',
  'creator',
  'comment',
  'notBefore',
]);
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE']);

function fail(ref: string, message: string): never {
  throw new BadRequestError(`action ${ref}: ${message}`);
}

function truthy(ref: string, field: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (['', 'false', '0', 'no'].includes(v)) return false;
  if (['true', '1', 'yes'].includes(v)) return true;
  return fail(ref, `<${field}> must be true or false, not "${value}"`);
}

function seconds(ref: string, field: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) fail(ref, `<${field}> must be a number of seconds of at least ${min}, not "${value}"`);
  return n;
}

function checkXPath(ref: string, field: string, expression: string): string {
  try {
    compile(expression);
  } catch (err) {
    fail(ref, `<${field}> ${(err as Error).message}`);
  }
  return expression;
}

/** Checks that every `{expression}` in a template compiles. */
function checkTemplate(ref: string, field: string, template: string): string {
  for (const expression of templateExpressions(template)) checkXPath(ref, field, expression);
  return template;
}

export function parseAction(el: Element): ActionDefinition {
  const ref = refOf(el);
  const fields = new Map<string, string[]>();
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== ELEMENT_NODE || c.nodeName.includes(':')) continue;
    if (!FIELDS.has(c.nodeName)) fail(ref, `unknown field <${c.nodeName}>; actions have ${[...FIELDS].join(', ')}`);
    const list = fields.get(c.nodeName) ?? [];
    list.push(c.textContent ?? '');
    fields.set(c.nodeName, list);
  }
  const one = (field: string): string | undefined => {
    const values = fields.get(field);
    if (values && values.length > 1) fail(ref, `<${field}> may appear only once`);
    const v = values?.[0]?.trim();
    return v === '' ? undefined : v;
  };
  const url = one('url');
  if (!url) fail(ref, 'has no <url>: say what to call, e.g. /plugin/NAME or /data/PATH');
  checkTemplate(ref, 'url', url);
  const method = (one('method') ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) fail(ref, `<method> must be GET, PUT, POST or DELETE, not "${method}"`);
  const cron = one('cron');
  const problem = cron === undefined ? undefined : cronProblem(cron);
  if (problem) fail(ref, `<cron> "${cron}" ${problem}`);
  // Anywhere under plugindata/NAME/ it is the plugin's, and runs with the plugin's rights only: a plugin
  // may write there, so an action it nests deeper must not run as the server.
  const chain = ancestry(el);
  const plugin = chain[1] === 'plugindata' ? chain[2] : undefined;
  const data = fields.get('data')?.[0];
  return {
    ref,
    key: serialize(el, { show: SHOW_ALL }),
    plugin,
    name: one('name'),
    xpaths: (fields.get('xpath') ?? [])
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => checkXPath(ref, 'xpath', absolutePath(x))),
    multiple: truthy(ref, 'multiple', one('multiple')),
    aggregate: truthy(ref, 'aggregate', one('aggregate')),
    interval: seconds(ref, 'interval', one('interval'), 1),
    cron,
    minInterval: seconds(ref, 'minInterval', one('minInterval'), 0),
    condition: one('condition') && checkXPath(ref, 'condition', one('condition')!),
    url,
    method,
    data: data === undefined || data === '' ? undefined : checkTemplate(ref, 'data', data),
    mimetype: one('mimetype') ?? 'text/plain',
    representing: one('representing')?.replace(/^\/?(data\/)?status\//, ''),
  };
}
