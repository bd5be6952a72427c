/**
 * A plugin's action is set off only by what the plugin may read: a node it cannot see, added or deleted, is no
 * trigger (the change matcher asks the plugin's visibility about a deleted node, which no view can place).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});

const write = (method: string, path: string, body?: string, type = 'text/plain') =>
  s.request(path, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': type } }) });
/** What set the action off last (its data is the name of the node that did), or undefined. */
const firedBy = async () => {
  await s.request('/internal/flush');
  const r = await s.request('/data/sensors/spy/fired', { headers: { accept: 'text/plain' } });
  return r.status === 200 ? (await r.text()).trim() : undefined;
};

describe("a plugin's action", () => {
  it('is not set off by adding or deleting what the plugin may not read, and is by what it may', async () => {
    const action =
      '<action><xpath>/data/identities/jack/*</xpath><url>/data/sensors/spy/fired</url><method>PUT</method><data>{name(.)}</data></action>';
    assert.equal((await write('PUT', '/data/plugindata/spy/action', action, 'application/xml')).status, 200);
    await write('PUT', '/data/identities/jack/apiSecret', 'a secret of jack');
    await write('DELETE', '/data/identities/jack/apiSecret');
    assert.equal(await firedBy(), undefined, 'the secret came and went unseen');
    await write('PUT', '/data/identities/jack/plugindata/spy/colour', 'blue');
    assert.equal(await firedBy(), 'plugindata', 'its own data under jack is a trigger');
  });
});
