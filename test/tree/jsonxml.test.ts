import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newDocument, SHOW_ALL, SHOW_VISIBLE } from '../../src/tree/dom.ts';
import { parseXml } from '../../src/tree/parseXml.ts';
import { serialize } from '../../src/tree/serialize.ts';
import { elementFromJson, jsonOf, jsonText, scalarOf, writtenJsonOf, type Json } from '../../src/tree/jsonxml.ts';

const doc = newDocument();
const toXml = (tag: string, value: Json) => serialize(elementFromJson(doc, tag, value));
const toJson = (xml: string, raw = false) => jsonOf(parseXml(xml).documentElement!, raw ? SHOW_ALL : SHOW_VISIBLE);

describe('JSON to XML', () => {
  it("maps Igor's example object as Igor does, but keeps false as false", () => {
    assert.equal(
      toXml('j1', { a: 1, b: [true, false, null, 2.5, 's'], c: { d: 'e' } }),
      '<j1><a>1</a><b>true</b><b>false</b><b/><b>2.5</b><b>s</b><c><d>e</d></c></j1>',
    );
  });

  it('escapes keys that are not tags, and writes attributes and #text', () => {
    assert.equal(toXml('x', { 'bad key': 1, '1st': 2, _e: 3 }), '<x><_e _e="bad key">1</_e><_e _e="1st">2</_e><_e _e="_e">3</_e></x>');
    assert.equal(toXml('x', { '@id': 'q', '#text': 'hello' }), '<x id="q">hello</x>');
  });

  it('refuses what XML cannot hold instead of mangling it', () => {
    assert.throws(() => toXml('x', { a: [[1, 2]] }), /array inside an array/);
    assert.throws(() => toXml('x', { a: 'bell\u0007' }), /U\+0007/);
    assert.throws(() => toXml('x', { '@bad name': 1 }), /not a valid attribute name/);
  });
});

describe('XML to JSON', () => {
  it('types JSON numbers and booleans, and nothing else', () => {
    assert.equal(scalarOf('3'), 3);
    assert.equal(scalarOf('-2.5'), -2.5);
    assert.equal(scalarOf('1e+21'), 1e21);
    assert.equal(scalarOf('true'), true);
    assert.equal(scalarOf('false'), false);
    // Igor writes its numbers as Python floats: 3.0, 19.0. They are numbers, as Igor reads them.
    assert.equal(scalarOf('3.0'), 3);
    assert.equal(scalarOf('19.0'), 19);
    assert.equal(scalarOf('1796596830.641743'), 1796596830.641743);
    assert.equal(scalarOf('1E3'), 1000);
    assert.equal(scalarOf('9007199254740991'), 9007199254740991);
    assert.equal(scalarOf('9007199254740992'), 2 ** 53, 'a double holds 2^53 exactly');
    const strings = ['007', ' 7', '7 ', '1_000', 'NaN', 'Infinity', '0x10', 'null', 'True', '+1', '.5', '1.', '1e400', '-', '1e'];
    // An integer a double cannot hold stays text, digit for digit.
    strings.push('9007199254740993', '12345678901234567890123');
    for (const s of strings) assert.equal(scalarOf(s), s, `${s} stays a string`);
  });

  it('answers numbers as the tree holds them, and only numbers', () => {
    const answer = (xml: string) => jsonText(writtenJsonOf(parseXml(xml).documentElement!));
    assert.equal(
      answer('<t><kitchen>19.0</kitchen><n>21.5</n><e>1E3</e><z>-0</z><s>007</s></t>'),
      '{"kitchen":19.0,"n":21.5,"e":1E3,"z":-0,"s":"007"}',
    );
    assert.equal(answer('<counter>5.0</counter>'), '5.0');
    // Text that only looks like the marker numbers travel in stays text, whatever it holds.
    const tricky = '<t><a>\\u00003.0\\u0000</a><b>"\\u00001\\u0000"</b><c>x\\"\\u00002\\u0000</c></t>';
    const value = JSON.parse(answer(tricky)) as Record<string, string>;
    assert.deepEqual(value, { a: '\\u00003.0\\u0000', b: '"\\u00001\\u0000"', c: 'x\\"\\u00002\\u0000' });
    // Outside an answer the same value is plain JSON.
    assert.equal(JSON.stringify(writtenJsonOf(parseXml('<c>5.0</c>').documentElement!)), '5');
  });

  it("makes repeated tags arrays at the first one's place, and empty elements {}", () => {
    assert.deepEqual(toJson('<x><a>1</a><b/><a>2</a><a>three</a></x>'), { a: [1, 2, 'three'], b: {} });
  });

  it('reads the _e escape back transparently', () => {
    assert.deepEqual(toJson('<x><_e _e="bad key">1</_e></x>'), { 'bad key': 1 });
  });

  it('hides namespaced data unless raw', () => {
    const xml = '<x xmlns:own="urn:o" xmlns:au="urn:a" own:plugin="p" id="1"><au:capability>c</au:capability><v>1</v></x>';
    assert.deepEqual(toJson(xml), { '@id': '1', v: 1 });
    assert.deepEqual(toJson(xml, true), {
      '@xmlns:own': 'urn:o',
      '@xmlns:au': 'urn:a',
      '@own:plugin': 'p',
      '@id': '1',
      'au:capability': 'c',
      v: 1,
    });
  });

  it('keeps mixed text as #text', () => {
    assert.deepEqual(toJson('<x>hello<b>1</b></x>'), { b: 1, '#text': 'hello' });
  });
});

describe('round trips', () => {
  const values: Json[] = [
    { a: 1, b: [true, false, 2.5, 's'], c: { d: 'e' } },
    { n: -0.125, big: 1e21, small: 1e-7, s: '007', t: '1.0.1', u: 'ünïcødé ✓', v: 'a<b & "c"' },
    { '@id': 'x', list: [{ k: 1 }, { k: 2 }], 'weird key!': 'w' },
    { nested: { deeper: { deepest: [1, 2, 3] } } },
  ];
  for (const value of values) {
    it(`JSON → XML → JSON keeps ${JSON.stringify(value).slice(0, 50)}`, () => {
      const el = elementFromJson(doc, 'v', value);
      assert.deepEqual(jsonOf(parseXml(serialize(el)).documentElement!), value);
    });
  }

  it('a string that is a JSON number comes back a number, as in Igor', () => {
    assert.deepEqual(jsonOf(parseXml(serialize(elementFromJson(doc, 'v', { t: '1.0' }))).documentElement!), { t: 1 });
  });

  it('XML → JSON → XML keeps documents', () => {
    for (const xml of ['<v><a>1</a><a>2.5</a><b/><c x="1">t</c></v>', '<v><_e _e="a b">1</_e></v>', '<v>text &amp; more</v>']) {
      const back = elementFromJson(doc, 'v', jsonOf(parseXml(xml).documentElement!));
      assert.equal(serialize(back), xml);
    }
  });
});
