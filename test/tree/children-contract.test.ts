/**
 * src/tree/children.ts keeps per-parent caches (children by name) by wrapping three methods of
 * @xmldom/xmldom's Node and Document: insertBefore, removeChild and replaceChild. It relies on every way the
 * tree changes an element's children going through them. This test says so of the xmldom installed, so an
 * upgrade that changes it fails here, loudly, instead of leaving a cache stale.
 */
import assert from 'node:assert/strict';
import { Document as DomDocument, Element as DomElement, Node as DomNode } from '@xmldom/xmldom';
import { describe, it } from 'node:test';
import { ATTRIBUTE_METHODS, childrenNamed, deepOtherVersion, deepVersion, trackDeepChanges } from '../../src/tree/children.ts';
import { parseXml } from '../../src/tree/dom.ts';

describe('@xmldom/xmldom, as children.ts relies on it', () => {
  it('has the three methods it wraps, on Node and Document', () => {
    for (const proto of [DomNode.prototype, DomDocument.prototype] as unknown as Record<string, unknown>[]) {
      for (const method of ['insertBefore', 'removeChild', 'replaceChild']) {
        assert.equal(typeof proto[method], 'function', method);
      }
    }
  });

  it('changes children only through them: every way the tree uses is seen', () => {
    const doc = parseXml('<data><s><a>1</a><b>2</b></s></data>');
    const s = doc.documentElement!.firstChild as Element;
    const ways: [string, () => void][] = [
      ['appendChild', () => s.appendChild(doc.createElement('a'))],
      ['insertBefore', () => s.insertBefore(doc.createElement('a'), s.firstChild)],
      ['removeChild', () => s.removeChild(s.lastChild!)],
      ['replaceChild', () => s.replaceChild(doc.createElement('a'), s.firstChild!)],
      ['textContent =', () => ((s as { textContent: string }).textContent = 'gone')],
      ['moving a child elsewhere', () => doc.documentElement!.appendChild(s.firstChild!)],
    ];
    for (const [way, change] of ways) {
      s.textContent = '';
      for (const name of ['a', 'b', 'a']) s.appendChild(doc.createElement(name));
      assert.equal(childrenNamed(s, 'a').length, 2, 'indexed before the change');
      change();
      const actual = [...(s.childNodes as unknown as Node[])].filter((n) => n.nodeName === 'a');
      assert.deepEqual(childrenNamed(s, 'a'), actual, `${way}: the index of children by name follows`);
    }
  });

  it("has the attribute methods it wraps on Element, and every change below a node moves that node's counters", () => {
    for (const method of ATTRIBUTE_METHODS) {
      assert.equal(typeof (DomElement.prototype as unknown as Record<string, unknown>)[method], 'function', method);
    }
    const doc = parseXml('<data><s><r><v>1</v></r></s></data>');
    trackDeepChanges(doc);
    const data = doc.documentElement!;
    const s = data.firstChild as Element;
    const v = s.firstChild!.firstChild as Element;
    const ways: [string, boolean, () => void][] = [
      ['appendChild to the node', true, () => s.appendChild(doc.createElement('r'))],
      ['appendChild deeper', false, () => v.appendChild(doc.createTextNode('2'))],
      ['insertBefore', false, () => s.insertBefore(doc.createElement('r'), s.firstChild)],
      ['removeChild', false, () => s.removeChild(s.lastChild!)],
      ['replaceChild', false, () => s.replaceChild(doc.createElement('r'), s.firstChild!)],
      ['textContent = deeper', false, () => ((v as { textContent: string }).textContent = '3')],
      ['setAttribute deeper', false, () => v.setAttribute('hidden', 'true')],
      ['setAttributeNS deeper', false, () => v.setAttributeNS('http://example.org/own', 'own:x', 'y')],
      ['removeAttribute deeper', false, () => v.removeAttribute('hidden')],
      ['removeAttributeNS deeper', false, () => v.removeAttributeNS('http://example.org/own', 'x')],
      ['setAttributeNode deeper', false, () => v.setAttributeNode(doc.createAttribute('a'))],
      ['removeAttributeNode deeper', false, () => v.removeAttributeNode(v.getAttributeNode('a')!)],
      ['setAttribute on the node', false, () => s.setAttribute('a', 'b')],
    ];
    for (const [way, append, change] of ways) {
      const before = [deepVersion(s), deepOtherVersion(s), deepVersion(data), deepOtherVersion(data)];
      change();
      assert.ok(deepVersion(s) > before[0]!, `${way}: moves the node's count of changes below it`);
      assert.equal(deepOtherVersion(s) > before[1]!, !append, `${way}: ${append ? 'is' : 'is not'} only an append to the node`);
      assert.ok(deepVersion(data) > before[2]! && deepOtherVersion(data) > before[3]!, `${way}: moves its ancestors' counts`);
    }
  });

  it('counts nothing in documents that are not tracked (parsed bodies), so parsing very deep ones stays linear', () => {
    const doc = parseXml(`<d>${'<d>'.repeat(20_000)}${'</d>'.repeat(20_000)}</d>`);
    const root = doc.documentElement!;
    assert.equal(deepVersion(root), 0);
    root.appendChild(doc.createElement('x'));
    assert.equal(deepVersion(root), 0, 'not tracked');
    trackDeepChanges(doc);
    root.appendChild(doc.createElement('x'));
    assert.equal(deepVersion(root), 1);
  });
});
