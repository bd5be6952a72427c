/**
 * The embedded broker (--mqtt-broker): the server's own users and API tokens are its credentials, and a topic
 * is allowed where the tree path of the same name is — a device token scoped to devices/kitchen publishes
 * there and nowhere else, a user reads what REST lets them read, and no secret travels. The server's own
 * bridge, logged in with its internal secret, brings subscribed topics into the tree.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { setPassword } from '../../src/auth/users.ts';
import { BRIDGE_USER } from '../../src/auth/mqtt.ts';
import { onCleanup, startTestServer, waitFor, type TestServer } from '../helpers.ts';

let s: TestServer;
let url: string;

async function connect(username?: string, password?: string, clientId?: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { username, password, reconnectPeriod: 0, clientId });
  onCleanup(() => client.endAsync(true));
  return client;
}

async function refused(username?: string, password?: string): Promise<string> {
  try {
    const c = await mqtt.connectAsync(url, { username, password, reconnectPeriod: 0 });
    await c.endAsync(true);
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

async function get(path: string): Promise<any> {
  const r = await s.request(path, { headers: { accept: 'application/json' } });
  return r.status === 200 ? r.json() : undefined;
}

before(async () => {
  s = await startTestServer({ mqttBroker: '0' });
  url = `mqtt://127.0.0.1:${s.mqttPort}`;
  await setPassword(s.db, 'jill', 'jill-password');
  await s.request('/data/mqtt/subscription', {
    method: 'PUT',
    headers: { 'content-type': 'application/xml' },
    body: '<subscription><topic>devices/#</topic><dst>/data/devices/{1}</dst><mimetype>text/plain</mimetype></subscription>',
  });
  await waitFor(async () => (await get('/data/status/services/mqtt'))?.mqtt?.connected === true, "the server's bridge to connect");
});

describe('the embedded broker', () => {
  it("takes the server's users, and refuses wrong or missing credentials", async () => {
    await connect('admin', s.adminPassword);
    assert.match(await refused('admin', 'wrong'), /Bad username or password|Not authorized/i);
    assert.match(await refused(), /Bad username or password|Not authorized/i);
    assert.match(await refused(BRIDGE_USER, 'guess'), /Bad username or password|Not authorized/i, "the bridge's name is no way in");
  });

  it('brings what an admin publishes into the tree through the subscription', async () => {
    const admin = await connect('admin', s.adminPassword);
    await admin.publishAsync('devices/kitchen/light', 'on', { qos: 1 });
    await waitFor(async () => (await get('/data/devices/kitchen/light'))?.light === 'on', 'the light in the tree');
  });

  it('takes a destination named in any script XML allows', async () => {
    const made = await s.request('/data/mqtt/subscription', {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<subscription><topic>météo/+</topic><dst>/data/sensors/température/{1}</dst><mimetype>text/plain</mimetype></subscription>',
    });
    assert.equal(made.status, 200, await made.clone().text());
    const admin = await connect('admin', s.adminPassword);
    // Retained: the server's bridge takes up the new subscription a moment after the write, and still gets it.
    await admin.publishAsync('météo/salon', '19.5', { qos: 1, retain: true });
    await waitFor(async () => (await get('/data/sensors/température/salon'))?.salon === 19.5, 'the reading in the tree');
  });

  it('lets a device token scoped to devices/kitchen publish there, and nowhere else', async () => {
    const made = await s.request('/internal/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ path: '/data/devices/kitchen', rights: 'get,put', comment: 'kitchen sensor' }),
    });
    assert.equal(made.status, 200, await made.clone().text());
    const token = ((await made.json()) as { token: string }).token;
    const kitchen = await connect('kitchen-sensor', token);
    await kitchen.publishAsync('devices/kitchen/temperature', '21.5', { qos: 1 });
    await waitFor(async () => (await get('/data/devices/kitchen/temperature'))?.temperature === 21.5, 'the temperature');
    const elsewhere = await connect('kitchen-sensor', token);
    // A refused publish ends the client's connection (MQTT 3.1.1 has no way to say no to it): its ack never comes.
    const gone = new Promise<void>((resolve) => elsewhere.once('close', () => resolve()));
    void elsewhere.publishAsync('devices/hall/light', 'off', { qos: 1 }).catch(() => {});
    await gone;
    assert.equal(await get('/data/devices/hall/light'), undefined, 'not outside its scope');
  });

  it('lets a user read over MQTT what REST lets them read, and no secret', async () => {
    const jill = await connect('jill', 'jill-password');
    assert.equal((await jill.subscribeAsync('devices/#', { qos: 1 }))[0]!.qos, 1);
    for (const topic of ['identities/#', '#', 'identities/admin/password'])
      await assert.rejects(jill.subscribeAsync(topic, { qos: 1 }), /Subscribe error/, `${topic} is refused`);
    const got: string[] = [];
    jill.on('message', (topic) => got.push(topic));
    const admin = await connect('admin', s.adminPassword);
    await admin.publishAsync('devices/kitchen/password', 'hunter2', { qos: 1 });
    await admin.publishAsync('devices/kitchen/light', 'off', { qos: 1 });
    await waitFor(() => got.includes('devices/kitchen/light'), 'jill to get the light');
    assert.ok(!got.includes('devices/kitchen/password'), 'a secret does not travel');
  });
});
