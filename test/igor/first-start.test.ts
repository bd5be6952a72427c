/**
 * The first start on an Igor directory, through the real `igor serve` as README says to run it: it says the
 * directory is Igor's and what came along, and it leaves the directory so that going back to Igor works — after
 * a stop, database.xml is XML Igor reads, and every password set meanwhile (the admin's new one, a user's change)
 * is a hash Igor can check.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DOMParser, type Node } from '@xmldom/xmldom';
import { basic, startServerProcess } from '../helpers.ts';
import { igorDirectory, passlibVerifies } from './igorDirectory.ts';

/** What Igor would find in database.xml: the text of one element, by its path of tags. */
function igorReads(xml: string, path: string[]): string | undefined {
  let el: Node | null = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  for (const tag of path) {
    let next: Node | null = null;
    for (let c = el?.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && c.nodeName === tag) next = c;
    el = next;
  }
  return el?.textContent ?? undefined;
}

describe('the first start on an Igor directory', () => {
  it("says the directory is Igor's, and leaves every password one Igor can check", async () => {
    const dir = await igorDirectory();
    const first = await startServerProcess(dir, [], { expectPassword: true });
    const said = first.output();
    assert.match(said, /is an Igor directory \(its database\.xml was written by Igor\): it is adopted as it is\./);
    assert.match(said, /New passwords are stored as Igor stores them \(pbkdf2-sha256\)/);
    assert.match(said, /Igor's plugins that run here, installed: copytree, systemHealth, user\./);
    assert.match(said, /Igor's plugins that do not run here \(their data and actions stay\): home\./);
    const admin = basic('admin', first.password!);
    const changed = await fetch(`${first.url}/plugin/user/password`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=jack&password=hill-and-bucket-2',
    });
    assert.equal(changed.status, 200, await changed.text());
    assert.equal((await fetch(`${first.url}/internal/stop`, { headers: { authorization: admin } })).status, 200);
    await first.exited;

    // Going back: what Igor would read.
    const xml = await readFile(join(dir, 'database.xml'), 'utf8');
    assert.ok(passlibVerifies(first.password!, igorReads(xml, ['identities', 'admin', 'encryptedPassword'])!), "the admin's new password");
    assert.ok(
      passlibVerifies('hill-and-bucket-2', igorReads(xml, ['identities', 'jack', 'encryptedPassword'])!),
      "jack's changed password",
    );
    assert.equal(igorReads(xml, ['sensors', 'temperature', 'kitchen']), '19.0', 'the data as Igor wrote it');

    // Coming forward again: no longer news.
    const second = await startServerProcess(dir, [], { expectPassword: false });
    assert.doesNotMatch(second.output(), /Igor directory/);
    const jack = await fetch(`${second.url}/data/identities/jack`, { headers: { authorization: basic('jack', 'hill-and-bucket-2') } });
    assert.equal(jack.status, 200);
  });
});
