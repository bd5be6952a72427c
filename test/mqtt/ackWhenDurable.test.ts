/**
 * The contract src/mqtt/ackWhenDurable.ts relies on in mqtt.js (its one patch of a dependency's internals):
 * a QoS 1 message's PUBACK goes out through the client's `_sendPacket`, after handleMessage calls back. Held
 * there, the PUBACK reaches the publisher only once the write is durable, in order, while the next messages
 * are already being taken. If an mqtt.js upgrade changes how PUBACKs are sent, this fails.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { it } from 'node:test';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { ackWhenDurable } from '../../src/mqtt/ackWhenDurable.ts';
import { onCleanup, waitFor } from '../helpers.ts';

it('holds each PUBACK until its write is durable, in order, without holding up the next message', async () => {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => broker.close(() => server.close(() => r()))));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const receiver = await mqtt.connectAsync(url, { clientId: 'receiver', clean: false });
  onCleanup(() => receiver.endAsync(true));
  const writes: { resolve: () => void; topic: string }[] = [];
  const acks = ackWhenDurable(receiver, () => {});
  receiver.handleMessage = (packet, done) => {
    const p = packet as { topic: string; messageId?: number };
    const durable = new Promise<void>((resolve) => writes.push({ resolve, topic: p.topic }));
    acks.holdUntil(p.messageId!, durable);
    done();
  };
  await receiver.subscribeAsync('w/#', { qos: 1 });

  // The receiver's own PUBACKs to the broker, by message id, in the order they leave.
  const acked: number[] = [];
  const ids: number[] = [];
  receiver.on('packetsend', (packet) => {
    if (packet.cmd === 'puback') acked.push(packet.messageId!);
  });
  receiver.on('packetreceive', (packet) => {
    if (packet.cmd === 'publish') ids.push(packet.messageId!);
  });
  const sender = await mqtt.connectAsync(url, { clientId: 'sender' });
  onCleanup(() => sender.endAsync(true));
  for (const t of ['w/1', 'w/2', 'w/3']) await sender.publishAsync(t, 'x', { qos: 1 });
  // All three are taken while none is durable yet: nothing waits for the disk one message at a time.
  await waitFor(() => writes.length === 3, 'the three messages to be taken');
  assert.deepEqual(
    writes.map((w) => w.topic),
    ['w/1', 'w/2', 'w/3'],
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(acked, [], 'no PUBACK before its write is durable');
  writes[1]!.resolve(); // the second is durable first: its PUBACK still waits for the first
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(acked, []);
  writes[0]!.resolve();
  writes[2]!.resolve();
  await waitFor(() => acked.length === 3, 'the three PUBACKs');
  assert.deepEqual(acked, ids, 'each PUBACK once durable, in the order the messages came');
});
