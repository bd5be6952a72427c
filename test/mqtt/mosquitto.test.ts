/**
 * The home's devices meet the tree through a real Mosquitto, and through the embedded broker: a zigbee2mqtt-shaped lamp publishes its state
 * (zigbee2mqtt/<name>, JSON) into devices/zigbee/<name> and is switched by an action (zigbee2mqtt/<name>/set);
 * wildcards, retained messages, publications out of the tree without echo loops, bad messages dropped and
 * counted, Home Assistant discovery of sensors with units, and reconnecting after the broker restarts.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { onCleanup, startTestServer, waitFor, type TestServer } from '../helpers.ts';
import { mosquittoMissing, startMosquitto, type Mosquitto } from './mosquitto.ts';

function suite(kind: 'Mosquitto' | 'the embedded broker'): void {
  const embedded = kind === 'the embedded broker';
  let broker: Mosquitto;
  let s: TestServer;
  let device: MqttClient;
  /** Messages the device has seen, by topic. */
  const seen = new Map<string, string[]>();
  const put = async (path: string, body: string, type = 'application/xml') => {
    const r = await s.request(path, { method: 'PUT', headers: { 'content-type': type }, body });
    assert.ok(r.status < 300, `${r.status} ${await r.text()}`);
  };
  const get = async (path: string): Promise<any> => {
    const r = await s.request(path, { headers: { accept: 'application/json' } });
    return r.status === 200 ? r.json() : undefined;
  };
  const mqttStatus = async (): Promise<any> => (await get('/data/status/services/mqtt'))?.mqtt;

  describe(`MQTT through ${kind}`, { skip: embedded ? undefined : mosquittoMissing() }, () => {
    before(async () => {
      if (!embedded) broker = await startMosquitto();
      s = await startTestServer(embedded ? { mqttBroker: '0', maxBodyBytes: '2048' } : { mqtt: broker.url, maxBodyBytes: '2048' });
      const url = embedded ? `mqtt://127.0.0.1:${s.mqttPort}` : broker.url;
      // The embedded broker's devices log in as the server's users (here the admin).
      const login = embedded ? { username: 'admin', password: s.adminPassword } : {};
      // Retained before the server subscribes to the topic: it must arrive once the subscription exists.
      const early = await mqtt.connectAsync(url, { clientId: 'early', ...login });
      await early.publishAsync('zigbee2mqtt/hall', JSON.stringify({ state: 'OFF', brightness: 10 }), { qos: 1, retain: true });
      await early.endAsync();
      device = await mqtt.connectAsync(url, { clientId: 'zigbee2mqtt-fake', ...login });
      onCleanup(() => device.endAsync());
      device.on('message', (topic, payload) => seen.set(topic, [...(seen.get(topic) ?? []), payload.toString()]));
      await device.subscribeAsync(['zigbee2mqtt/+/set', 'homeassistant/#', 'igor/#', 'out/#'], { qos: 1 });
      await waitFor(async () => (await mqttStatus())?.connected === true, 'the server to connect to the broker');
    });

    it('stores a device state under the path the wildcard names, and a retained one from before', async () => {
      await put(
        '/data/mqtt/subscription',
        '<subscription><topic>zigbee2mqtt/+</topic><dst>/data/devices/zigbee/{1}</dst><mimetype>application/json</mimetype></subscription>',
      );
      await device.publishAsync('zigbee2mqtt/lamp', JSON.stringify({ state: 'ON', brightness: 200, linkquality: 96 }), { qos: 1 });
      const lamp = await waitFor(async () => (await get('/data/devices/zigbee/lamp'))?.lamp, 'the lamp in the tree');
      assert.deepEqual(lamp, { state: 'ON', brightness: 200, linkquality: 96 });
      const hall = await waitFor(async () => (await get('/data/devices/zigbee/hall'))?.hall, 'the retained hall lamp');
      assert.deepEqual(hall, { state: 'OFF', brightness: 10 });
    });

    it("switches the lamp from an action (mqtt:TOPIC), and the lamp's answer comes back without a loop", async () => {
      await s.request('/data/actions/action', {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: '<action><name>lampOn</name><url>mqtt:zigbee2mqtt/lamp/set</url><data>{{"state": "ON", "brightness": 50}}</data><representing>devices/lampSwitch</representing></action>',
      });
      // The fake zigbee2mqtt does what the real one does: applies the command and publishes the new state.
      device.on('message', (topic, payload) => {
        if (topic === 'zigbee2mqtt/lamp/set')
          void device.publishAsync('zigbee2mqtt/lamp', JSON.stringify({ ...JSON.parse(payload.toString()), linkquality: 90 }), { qos: 1 });
      });
      assert.equal((await s.request('/action/lampOn')).status, 200);
      await waitFor(async () => (await get('/data/devices/zigbee/lamp'))?.lamp?.brightness === 50, 'the lamp to report brightness 50');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(seen.get('zigbee2mqtt/lamp/set'), ['{"state": "ON", "brightness": 50}'], 'one command, no echo');
      assert.equal((await get('/data/status/devices/lampSwitch')).lampSwitch.alive, true);
    });

    it('publishes changes under a path, those that came in over MQTT too, but never back to where they came from', async () => {
      await put(
        '/data/mqtt/publication',
        '<publication><xpath>/data/devices/zigbee/*</xpath><topic>out/{1}</topic><retain>true</retain><qos>1</qos></publication>',
      );
      // A loop in waiting: the topics the lamp's subscription (zigbee2mqtt/+) consumes.
      await s.request('/data/mqtt/publication', {
        method: 'POST',
        headers: { 'content-type': 'application/xml' },
        body: '<publication><xpath>/data/devices/zigbee/*</xpath><topic>zigbee2mqtt/{1}</topic><qos>1</qos></publication>',
      });
      await device.subscribeAsync('zigbee2mqtt/+', { qos: 1 });
      await put('/data/devices/zigbee/lamp/state', 'OFF', 'text/plain');
      await waitFor(() => seen.get('out/lamp')?.length === 1, 'the change to be published');
      assert.deepEqual(JSON.parse(seen.get('out/lamp')![0]!), { state: 'OFF', brightness: 50, linkquality: 90 });
      await waitFor(() => seen.get('zigbee2mqtt/lamp')?.length === 1, 'a change made here goes to the device topic too');
      await device.publishAsync('zigbee2mqtt/lamp', JSON.stringify({ state: 'ON', brightness: 51 }), { qos: 1 });
      // Mirrored to another topic, as a bridge to another hub needs.
      await waitFor(() => seen.get('out/lamp')?.length === 2, 'the state that came in over MQTT, mirrored');
      assert.deepEqual(JSON.parse(seen.get('out/lamp')![1]!), { state: 'ON', brightness: 51 });
      // Then a change made here: once it is out, anything the MQTT change sent before it has arrived too.
      await put('/data/devices/zigbee/marker', '<marker>1</marker>');
      await waitFor(() => seen.get('zigbee2mqtt/marker')?.length === 1, 'the marker');
      const echoes = seen.get('zigbee2mqtt/lamp')!.filter((m) => m.includes('51'));
      assert.deepEqual(echoes, [JSON.stringify({ state: 'ON', brightness: 51 })], "only the device's own message: no echo");
      await device.unsubscribeAsync('zigbee2mqtt/+');
      await s.request('/data/mqtt/publication[2]', { method: 'DELETE' });
    });

    it('publishes the write that makes the element a publication names', async () => {
      await put(
        '/data/mqtt/publication',
        '<publication><xpath>/data/devices/made/*/state</xpath><topic>out/made/{1}</topic><qos>1</qos><mimetype>text/plain</mimetype></publication>',
      );
      await put('/data/devices/made/fan/state', 'spinning', 'text/plain');
      await waitFor(() => seen.get('out/made/fan')?.[0] === 'spinning', 'the first state of a new device');
      await put('/data/devices/made/heater', '<heater><state>warm</state><watts>900</watts></heater>');
      await waitFor(() => seen.get('out/made/heater')?.[0] === 'warm', 'a new device written whole');
      await waitFor(async () => (await mqttStatus())?.published > 0, 'what went out, counted under status');
    });

    it('drops what cannot be stored, counts it under status, and goes on', async () => {
      const before = await mqttStatus();
      await device.publishAsync('zigbee2mqtt/lamp', '{"state": "ON",', { qos: 1 }); // not JSON
      await device.publishAsync('zigbee2mqtt/1lamp', '{"state": "ON"}', { qos: 1 }); // not an element name
      await device.publishAsync('zigbee2mqtt/lamp', JSON.stringify({ state: 'x'.repeat(3000) }), { qos: 1 }); // over 2048 bytes
      await device.publishAsync('zigbee2mqtt/lamp', '[1, 2]', { qos: 1 }); // an array is not one element
      await device.publishAsync('zigbee2mqtt/desk', '{"state": "ON"}', { qos: 1 });
      await waitFor(async () => (await get('/data/devices/zigbee/desk'))?.desk?.state === 'ON', 'the good message after the bad');
      const st = await waitFor(async () => {
        const now = await mqttStatus();
        return now.refused >= before.refused + 4 ? now : undefined;
      }, 'the refusals to be counted');
      assert.match(st.lastRefused.reason, /a JSON array cannot be stored/);
      assert.equal((await get('/data/devices/zigbee/lamp')).lamp.brightness, 51, 'no partial write');
      assert.equal(await get('/data/devices/zigbee/1lamp'), undefined);
    });

    it('announces sensors with units to Home Assistant, with their latest value', async () => {
      await put('/data/mqtt/discovery', '<discovery/>');
      await put(
        '/data/sensors/fitbit/jack',
        '<jack><weight><date>2026-11-28</date><weight>81.5</weight></weight><weight><date>2026-11-29</date><weight>81.2</weight></weight><units><weight><weight>kg</weight></weight></units></jack>',
      );
      const topic = 'homeassistant/sensor/igor_sensors_fitbit_jack_weight_weight/config';
      await waitFor(() => seen.get(topic), 'the discovery config');
      const config = JSON.parse(seen.get(topic)!.at(-1)!);
      assert.equal(config.unit_of_measurement, 'kg');
      assert.equal(config.state_topic, 'igor/sensors/fitbit/jack/weight/weight');
      assert.equal(config.name, 'fitbit jack weight');
      await waitFor(() => seen.get('igor/sensors/fitbit/jack/weight/weight')?.at(-1) === '81.2', 'the latest weight');
    });

    it('reconnects after the broker restarts, and says so in status meanwhile', {
      skip: embedded && 'the embedded broker restarts with the server',
    }, async () => {
      await broker.stop();
      await waitFor(async () => (await mqttStatus())?.alive === false, 'the status to say the broker is gone');
      // What is published meanwhile waits in a bounded queue, and goes once the broker is back.
      assert.equal((await s.request('/action/lampOn')).status, 200);
      await waitFor(async () => (await mqttStatus())?.queued === 1, 'the command to wait in the queue');
      await broker.start();
      await waitFor(async () => (await mqttStatus())?.connected === true, 'the server to reconnect', 20_000);
      await waitFor(async () => (await mqttStatus())?.queued === 0, 'the queue to be sent');
      await device.publishAsync('zigbee2mqtt/lamp', JSON.stringify({ state: 'ON', brightness: 77 }), { qos: 1 }).catch(() => {});
      await waitFor(async () => (await get('/data/devices/zigbee/lamp'))?.lamp?.brightness === 77, 'a message after the restart', 20_000);
    });
  });
}

suite('Mosquitto');
suite('the embedded broker');
