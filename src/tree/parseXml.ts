/** XML text into a document in the tree's form, with errors that say what is wrong and where. */
import { DOMParser } from '@xmldom/xmldom';
import type { XMLValidator } from 'fast-xml-parser';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BadRequestError } from '../errors.ts';
import { CDATA_SECTION_NODE, ELEMENT_NODE, TEXT_NODE } from './dom.ts';
import { checkXmlText, illegalCharacter } from './xmlNames.ts';

/**
 * fast-xml-parser's validator, alone. The package's index loads its parser and builder too (8 MB resident and
 * 70 ms at every start, issue #21) and exports no path to the validator by itself, so its file is loaded by
 * where it lies in the package (src/validator.js beside lib/). That place is no promise of the package, so
 * package.json pins fast-xml-parser exactly, and test/tree/xmlValidator.test.ts checks the pin and this import;
 * an upgrade is a deliberate change that runs them. (xmldom alone is no validator: it takes `<a x=1/>` and
 * `<a y>`, and its errors name no line, so a body is read by both.)
 */
const validatorFile = join(dirname(createRequire(import.meta.url).resolve('fast-xml-parser')), '..', 'src', 'validator.js');
const { validate: validateXml } = (await import(pathToFileURL(validatorFile).href)) as { validate: typeof XMLValidator.validate };

interface Located {
  lineNumber?: number;
  columnNumber?: number;
}

function where(n: Node): string {
  const { lineNumber, columnNumber } = n as Node & Located;
  return lineNumber !== undefined ? ` at line ${lineNumber}, column ${columnNumber}` : '';
}

/**
 * Parses an XML document. Errors say what is wrong and where (line and column). DOCTYPEs are refused:
 * the tree has no use for them and they are the door to entity-expansion attacks. What the parser decoded
 * (character references such as &#x1;) is checked as the characters it became: XML cannot hold U+0000,
 * most control characters, U+FFFE or U+FFFF, however they were written.
 */
export function parseXml(text: string, what = 'XML'): Document {
  checkXmlText(text, what);
  if (/<!DOCTYPE/i.test(text)) throw new BadRequestError(`${what} is not accepted: DOCTYPE declarations are not allowed`, 'bad_xml');
  const verdict = validateXml(text);
  if (verdict !== true) {
    const { code, msg, line, col } = verdict.err;
    // The validator reports elements left open as a JSON list of their names; say it in words.
    const open = code === 'InvalidXml' ? /^Invalid '(\[.*\])' found/s.exec(msg)?.[1] : undefined;
    const reason = open ? `<${(JSON.parse(open) as string[]).join('>, <')}> never closed` : msg;
    throw new BadRequestError(`${what} is not well-formed: ${reason} (line ${line}, column ${col})`, 'bad_xml');
  }
  let problem: string | undefined;
  const doc = new DOMParser({
    onError: (level: string, message: string) => {
      if (level !== 'warning') problem ??= message;
    },
  }).parseFromString(text, 'text/xml') as unknown as Document;
  if (problem !== undefined || !doc.documentElement) {
    throw new BadRequestError(`${what} is not well-formed: ${problem ?? 'no root element'}`, 'bad_xml');
  }
  checkDecoded(doc.documentElement, what);
  normalize(doc.documentElement);
  return doc;
}

/** Every attribute value and text under `root`, as decoded, holds only characters XML can hold. */
function checkDecoded(root: Element, what: string): void {
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.nodeType === ELEMENT_NODE) {
      const el = n as Element;
      for (let i = 0; i < el.attributes.length; i++) {
        const a = el.attributes[i]!;
        const bad = illegalCharacter(a.value);
        if (bad)
          throw new BadRequestError(
            `${what} holds ${bad}, a character XML cannot hold, in the attribute ${a.name} of <${el.nodeName}>${where(el)}`,
            'bad_character',
          );
      }
      for (let c = el.lastChild; c; c = c.previousSibling) stack.push(c);
    } else if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) {
      const bad = illegalCharacter(n.nodeValue ?? '');
      if (bad)
        throw new BadRequestError(
          `${what} holds ${bad}, a character XML cannot hold, in the text of <${n.parentNode?.nodeName}>${where(n)}`,
          'bad_character',
        );
    }
  }
}

/**
 * Brings parsed XML to the tree's form: CDATA becomes text, comments and processing instructions go,
 * adjacent texts become one, and whitespace-only text between elements (indentation) is dropped. Leaf text is
 * kept exactly. Iterative: a document of any depth is brought to form without running out of stack.
 */
export function normalize(root: Element): void {
  const stack: Element[] = [root];
  while (stack.length) {
    const el = stack.pop()!;
    let hasElementChild = false;
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === ELEMENT_NODE) hasElementChild = true;
    for (let c = el.firstChild; c; ) {
      let next = c.nextSibling;
      if (c.nodeType === ELEMENT_NODE) stack.push(c as Element);
      else if (c.nodeType === CDATA_SECTION_NODE || c.nodeType === TEXT_NODE) {
        let text = c.nodeValue ?? '';
        // Gather the texts and CDATA that follow into one text node.
        while (
          next &&
          (next.nodeType === TEXT_NODE || next.nodeType === CDATA_SECTION_NODE || (next.nodeType !== ELEMENT_NODE && !next.firstChild))
        ) {
          if (next.nodeType === TEXT_NODE || next.nodeType === CDATA_SECTION_NODE) text += next.nodeValue ?? '';
          const gone = next;
          next = next.nextSibling;
          el.removeChild(gone);
        }
        if (hasElementChild && /^\s*$/.test(text)) el.removeChild(c);
        else if (c.nodeType === CDATA_SECTION_NODE || text !== c.nodeValue) el.replaceChild(el.ownerDocument.createTextNode(text), c);
      } else el.removeChild(c);
      c = next;
    }
  }
}
