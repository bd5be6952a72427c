/**
 * An MQTT broker inside the server (--mqtt-broker [PORT]), for a home that has none: aedes on a TCP port,
 * 127.0.0.1 unless --host says otherwise. Its credentials and rules are the server's own (auth/mqtt.ts):
 * users and API tokens log in, and a topic is allowed where the tree path of the same name would be.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { mayPublish, mayReceive, maySubscribe, mqttLogin, type MqttLogin } from '../auth/mqtt.ts';
import type { LoginGuard } from '../auth/logins.ts';
import type { Principal } from '../auth/principal.ts';
import type { Logger } from '../logger.ts';
import type { Database } from '../store/database.ts';
import type { ChangeEvent } from '../tree/tree.ts';

export interface BrokerDeps {
  db: Database;
  logins: LoginGuard;
  internalSecret: string;
  logger: Logger;
  host: string;
  port: number;
}

export interface EmbeddedBroker {
  port: number;
  close(): Promise<void>;
}

/** The largest message the broker takes (a tree value, not a file transfer). */
const MAX_PACKET_BYTES = 256 * 1024;

export async function startBroker(deps: BrokerDeps): Promise<EmbeddedBroker> {
  const principals = new WeakMap<Client, Principal>();
  const logins = new Map<Client, MqttLogin>();
  const broker = await Aedes.createBroker({
    maxClientsIdLength: 64,
    authenticate: (client, username, password, done) => {
      const address = (client.conn as { remoteAddress?: string }).remoteAddress ?? 'mqtt';
      mqttLogin(deps, username, password, address).then(
        (login) => {
          if (!login) {
            const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
            return done(err, false);
          }
          principals.set(client, login.principal);
          logins.set(client, login);
          done(null, true);
        },
        (err: Error) => done(Object.assign(err, { returnCode: 3 as const }), false),
      );
    },
    authorizePublish: (client, packet, callback) => {
      const p = client && principals.get(client);
      if (packet.topic.startsWith('$') || !p || !mayPublish(p, packet.topic))
        return callback(new Error(`may not publish to ${packet.topic}`));
      if (packet.payload.length > MAX_PACKET_BYTES) return callback(new Error('message too large'));
      callback(null);
    },
    authorizeSubscribe: (client, subscription, callback) => {
      const p = principals.get(client);
      // A refused subscription is answered with a failure code, and the client stays connected.
      callback(null, p && maySubscribe(p, subscription.topic) ? subscription : null);
    },
    // Every message is checked against its reader, as every REST read is.
    authorizeForward: (client, packet) => {
      const p = principals.get(client);
      return p && mayReceive(p, packet.topic) ? packet : null;
    },
  });
  broker.on('clientError', (client, err) => deps.logger.debug({ client: client.id, err: err.message }, 'MQTT client error'));
  broker.on('clientDisconnect', (client) => logins.delete(client));
  // A password changed, a token revoked, a user demoted or deleted: the connections that stood on it close.
  const revalidate = (events: ChangeEvent[]) => {
    if (!events.some((e) => e.path.startsWith('/data/identities'))) return;
    for (const [client, login] of logins) {
      if (login.stillValid()) continue;
      logins.delete(client);
      deps.logger.info({ client: client.id }, 'MQTT client disconnected: the credentials it connected with no longer hold');
      client.close();
    }
  };
  deps.db.on('change', revalidate);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  deps.logger.info({ host: deps.host, port }, 'embedded MQTT broker listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        deps.db.off('change', revalidate);
        broker.close(() => server.close(() => resolve()));
        // Clients that keep their connection open would hold close() up.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
