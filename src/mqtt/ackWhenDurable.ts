/**
 * QoS 1 acknowledgements that wait for the disk without holding up the next message. mqtt.js takes one
 * message at a time and sends its PUBACK (through its private `_sendPacket`) as soon as handleMessage calls
 * back, which would make every message wait for its own fsync (about 1,300 a second here). Instead the
 * write is applied at once and handleMessage calls back; the PUBACK is held here until that write is on
 * disk, and PUBACKs leave in the order the messages came (MQTT 4.6), so the journal commits many messages
 * per fsync. A write the disk refused gets no PUBACK: the connection is dropped, and the broker delivers
 * the message again to the session when it is back.
 *
 * The one patch of a dependency's internals in this directory: test/mqtt/ackWhenDurable.test.ts fails if an
 * mqtt.js upgrade stops sending PUBACKs through `_sendPacket`.
 */
import type { MqttClient } from 'mqtt';

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

export interface DurableAcks {
  /** The write of message `messageId` is under way: its PUBACK waits for `durable`, which rejects if it was not made. */
  holdUntil(messageId: number, durable: Promise<unknown>): void;
}

export function ackWhenDurable(client: MqttClient, onLost: (err: Error) => void): DurableAcks {
  const internals = client as unknown as { _sendPacket: SendPacket };
  const send = internals._sendPacket.bind(client);
  if (typeof send !== 'function') throw new Error('mqtt.js no longer has _sendPacket: see src/mqtt/ackWhenDurable.ts');
  const held = new Map<number, Promise<unknown>>();
  let previous: Promise<unknown> = Promise.resolve();
  let broken = false;
  internals._sendPacket = (packet, cb, ...rest) => {
    const durable = packet.cmd === 'puback' && packet.messageId !== undefined ? held.get(packet.messageId) : undefined;
    if (!durable) return send(packet, cb, ...rest);
    held.delete(packet.messageId!);
    // mqtt.js may take the next message now; the PUBACK itself goes when its write (and every earlier one) is on disk.
    cb?.();
    previous = previous.then(
      () =>
        durable.then(
          () => {
            if (!broken) send(packet);
          },
          (err: Error) => {
            if (broken) return;
            broken = true;
            onLost(err);
          },
        ),
      () => {},
    );
  };
  client.on('connect', () => {
    broken = false; // a new connection: the broker delivers again whatever was not acknowledged
  });
  return { holdUntil: (messageId, durable) => held.set(messageId, durable) };
}
