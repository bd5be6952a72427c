/**
 * status/services/mqtt tells what the bridge does: with nothing coming in, what goes out is still counted there
 * (with --mqtt-broker it stayed at `published: 0` while publications flowed, issue 33).
 */
import { before, describe, it } from 'node:test';
import { startTestServer, waitFor, type TestServer } from '../helpers.ts';

let s: TestServer;

const mqttStatus = async () => {
  const r = await s.request('/data/status/services/mqtt', { headers: { accept: 'application/json' } });
  return r.status === 200 ? ((await r.json()) as { mqtt: { connected: boolean; published: number } }).mqtt : undefined;
};

before(async () => {
  s = await startTestServer({ mqttBroker: '0' });
  await waitFor(async () => (await mqttStatus())?.connected === true, 'the bridge to connect');
});

describe("the bridge's status", () => {
  it('counts the messages it publishes, with nothing coming in', async () => {
    await s.request('/data/mqtt/publication', {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<publication><xpath>/data/environment/*</xpath><topic>home/{1}</topic></publication>',
    });
    for (let i = 0; i < 3; i++)
      await s.request('/data/environment/outside', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: `${i}` });
    await waitFor(async () => (await mqttStatus())?.published === 3, 'three publications counted');
  });
});
