/** How nodes of the tree look in each format, for /data answers. */
import { ATTRIBUTE_NODE, ELEMENT_NODE, type Show } from '../tree/dom.ts';
import { escapeText, serialize } from '../tree/serialize.ts';
import { textOf } from '../tree/text.ts';
import { jsonText, writtenJsonOf, writtenScalarOf, type WrittenJson } from '../tree/jsonxml.ts';
import type { Format } from './negotiate.ts';

export interface RepresentOptions {
  show: Show;
  /** JSON: the bare value instead of `{"tag": value}` (`.VARIANT=content`). */
  content?: boolean;
}

function keyOf(node: Node): string {
  if (node.nodeType === ATTRIBUTE_NODE) return `@${(node as Attr).name}`;
  if (node.nodeType !== ELEMENT_NODE) return '#text';
  const el = node as Element;
  return el.nodeName === '_e' && el.hasAttribute('_e') ? el.getAttribute('_e')! : el.nodeName;
}

/** A node's value in a JSON answer: numbers as the tree writes them (`3.0`, as Igor answers). */
export function jsonValueOf(node: Node, show: Show): WrittenJson {
  return node.nodeType === ELEMENT_NODE ? writtenJsonOf(node as Element, show) : writtenScalarOf(textOf(node, show));
}

export function jsonEntryOf(node: Node, show: Show): { [key: string]: WrittenJson } {
  return { [keyOf(node)]: jsonValueOf(node, show) };
}

/** One node, as GET /data answers it (without the trailing newline). */
export function represent(node: Node, format: Format, opts: RepresentOptions): string {
  switch (format) {
    case 'xml':
      return serialize(node, { show: opts.show });
    case 'json':
      return jsonText(opts.content ? jsonValueOf(node, opts.show) : jsonEntryOf(node, opts.show));
    case 'text':
      return textOf(node, opts.show);
  }
}

/** `.VARIANT=multi`: every match with its reference. */
export function representMany(nodes: { node: Node; ref: string }[], format: 'xml' | 'json', show: Show): string {
  if (format === 'json') return jsonText(nodes.map(({ node, ref }) => ({ ref, ...jsonEntryOf(node, show) })));
  const items = nodes.map(({ node, ref }) => `<item><ref>${escapeText(ref)}</ref>${serialize(node, { show })}</item>`);
  return `<items>${items.join('')}</items>`;
}

/** The answer to a write: the reference of the element written. */
export function representRef(ref: string, format: Format): string {
  if (format === 'json') return JSON.stringify({ ref });
  if (format === 'xml') return `<ref>${escapeText(ref)}</ref>`;
  return ref;
}
