/** Names and characters as XML 1.0 has them, and as the tree's loader reads them back. */
import { BadRequestError } from '../errors.ts';

/**
 * A name as the loader reads it back: XML 1.0's Name characters (fifth edition, section 2.3), within the Basic
 * Multilingual Plane, because the loader's validator (fast-xml-parser) refuses any beyond it. Anything the
 * tree holds is read back at the next start, so a name outside this rule must never enter it: `µ` and `a²`
 * are letters and digits to Unicode but not to XML, and written once they made the database unloadable.
 */
const NAME_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';

const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;

/** A name without a namespace prefix (XML's NCName). */
const NCNAME = `[${NAME_START}][${NAME_CHAR}]*`;

/** A plain element tag as Igor allows in paths and JSON keys (no namespace prefix). */
const TAG = new RegExp(`^${NCNAME}$`);

/** An element or attribute name as XML with namespaces has it: an NCName, perhaps with a prefix. */
const QNAME = new RegExp(`^${NCNAME}(?::${NCNAME})?$`);

/** A path step's name test that a tree's element can match: `*` or an XML name (simple paths, action triggers). */
export const NAME_TEST = new RegExp(`^(?:\\*|${NCNAME}(?::${NCNAME})?)$`);

/** Whether the loader reads `name` back as an element or attribute name. */
export function isXmlName(name: string): boolean {
  return QNAME.test(name);
}

/** Characters XML 1.0 cannot hold at all. */
const ILLEGAL_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function isTagName(s: string): boolean {
  return TAG.test(s) && !/^xml/i.test(s);
}

export function checkXmlText(s: string, what: string): string {
  const bad = illegalCharacter(s);
  if (bad) throw new BadRequestError(`${what} contains ${bad}, a character XML cannot hold`, 'bad_character');
  return s;
}

/** The first character XML cannot hold in `s`, as U+XXXX, or undefined. */
export function illegalCharacter(s: string): string | undefined {
  const bad = ILLEGAL_XML_CHAR.exec(s);
  return bad ? `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}
