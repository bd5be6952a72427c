/**
 * The XML validator is fast-xml-parser's, loaded from a file inside that package (src/tree/parseXml.ts says
 * why), which is no promise of the package: the version is pinned exactly, the one installed is the one pinned,
 * and parsing through it still says what is wrong and at which line and column. An upgrade that moves the file
 * or changes its answers turns this red before anything else does.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { parseXml } from '../../src/tree/parseXml.ts';

const root = new URL('../../', import.meta.url);
const ours = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string> };
/** The installed package's own package.json (not exported: found above its entry point, as parseXml.ts finds the validator). */
function installedVersion(): string {
  for (let dir = dirname(createRequire(import.meta.url).resolve('fast-xml-parser')); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
    if (pkg.name === 'fast-xml-parser') return pkg.version;
  }
  assert.fail('the installed fast-xml-parser has no package.json');
}

function refusal(text: string): string {
  try {
    parseXml(text, 'the body');
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`${text} was taken`);
}

describe("fast-xml-parser's validator, loaded from its file", () => {
  it('is pinned to one exact version, the one installed', () => {
    const wanted = ours.dependencies['fast-xml-parser'];
    assert.match(wanted ?? '', /^\d+\.\d+\.\d+$/, 'package.json names an exact version, not a range');
    assert.equal(installedVersion(), wanted);
  });

  it('answers what is wrong and where, in words', () => {
    assert.equal(
      refusal('<a>\n  <b></a>'),
      "the body is not well-formed: Expected closing tag 'b' (opened in line 2, col 3) instead of closing tag 'a'. (line 2, column 6)",
    );
    assert.equal(refusal('<a><b>'), 'the body is not well-formed: <a>, <b> never closed (line 1, column 1)');
  });

  it('refuses what xmldom alone would take', () => {
    assert.match(refusal('<a x=1/>'), /not well-formed.*line 1, column/);
    assert.match(refusal('<a>\n<b y></b></a>'), /not well-formed.*line 2, column/);
  });

  it('takes well-formed XML', () => {
    assert.equal(parseXml('<a x="1"><b>text</b></a>').documentElement?.nodeName, 'a');
  });
});
