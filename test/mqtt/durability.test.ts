/**
 * Nothing acknowledged is lost: the server logs in to a Mosquitto that wants a password (kept as a secret in
 * /data/mqtt/connection), takes meter readings at QoS 1, and is killed with SIGKILL while they stream in.
 * The broker keeps what was not acknowledged for the server's session and delivers it when the server is
 * back: every reading ends up in the tree, each exactly once.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeFile } from 'node:fs/promises';
import mqtt from 'mqtt';
import { generate } from 'selfsigned';
import { basic, startServerProcess, startTestServer, tempDir, waitFor } from '../helpers.ts';
import { mosquittoMissing, startMosquitto } from './mosquitto.ts';

const skip = mosquittoMissing();
const READINGS = 2000;

describe('MQTT and a killed server', { skip }, () => {
  it('logs in with the password kept in the tree, and says so when it is wrong', async () => {
    const broker = await startMosquitto({ igor: 'igor-pass', sensor: 'sensor-pass' });
    const s = await startTestServer({ mqtt: broker.url });
    const status = async () =>
      ((await (await s.request('/data/status/services/mqtt', { headers: { accept: 'application/json' } })).json()) as any).mqtt;
    await s.request('/data/mqtt/connection', {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<connection><username>igor</username><password>wrong</password></connection>',
    });
    await waitFor(async () => /Not authorized|Bad username/i.test((await status())?.errorMessage ?? ''), 'the refusal in status');
    await s.request('/data/mqtt/connection/password', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'igor-pass' });
    await waitFor(async () => (await status())?.connected === true, 'the server to log in');
    const shown = await (await s.request('/data/mqtt/connection', { headers: { accept: 'application/json' } })).text();
    assert.ok(!shown.includes('igor-pass'), `the password is a secret: ${shown}`);
  });

  it('connects over mqtts with a client certificate given in /data/mqtt/connection', async () => {
    const ca = await generate([{ name: 'commonName', value: 'Igor-TS test CA' }], {
      keySize: 2048,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    const signedBy = { key: ca.private, cert: ca.cert };
    const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      ca: signedBy,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const client = await generate([{ name: 'commonName', value: 'igor' }], {
      keySize: 2048,
      ca: signedBy,
      extensions: [{ name: 'extKeyUsage', clientAuth: true }],
    });
    const broker = await startMosquitto(undefined, { ca: ca.cert, cert: server.cert, key: server.private });
    const files = await tempDir();
    for (const [name, pem] of [
      ['ca.pem', ca.cert],
      ['client.pem', client.cert],
      ['client.key', client.private],
    ] as const)
      await writeFile(join(files, name), pem);
    const s = await startTestServer({ mqtt: broker.url });
    const status = async () =>
      ((await (await s.request('/data/status/services/mqtt', { headers: { accept: 'application/json' } })).json()) as any)?.mqtt;
    await s.request('/data/mqtt/connection', {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: `<connection><ca>${join(files, 'nowhere.pem')}</ca></connection>`,
    });
    await waitFor(
      async () => /TLS files in \/data\/mqtt\/connection cannot be read/.test((await status())?.errorMessage ?? ''),
      'a missing file said in status',
    );
    // The broker's CA alone: the broker refuses a client without a certificate.
    await s.request('/data/mqtt/connection', {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: `<connection><ca>${join(files, 'ca.pem')}</ca></connection>`,
    });
    await waitFor(async () => (await status())?.alive === false, 'the refusal in status');
    assert.notEqual((await status()).connected, true);
    await s.request('/data/mqtt/connection', {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: `<connection><ca>${join(files, 'ca.pem')}</ca><cert>${join(files, 'client.pem')}</cert><key>${join(files, 'client.key')}</key></connection>`,
    });
    await waitFor(async () => (await status())?.connected === true, 'the server to connect with its certificate', 20_000);
  });

  it('keeps every reading acknowledged or not when the server is killed mid-stream', { timeout: 120_000 }, async () => {
    const broker = await startMosquitto();
    const dir = await tempDir();
    let server = await startServerProcess(dir, ['--mqtt', broker.url]);
    const admin = basic('admin', server.password!);
    const call = (path: string, init: RequestInit = {}) =>
      fetch(server.url + path, { ...init, headers: { authorization: admin, ...(init.headers as Record<string, string>) } });
    const stored = async () => Number(await (await call('/evaluate/count(/data/sensors/meters/*)')).text());
    assert.equal(
      (
        await call('/data/mqtt/subscription', {
          method: 'PUT',
          headers: { 'content-type': 'application/xml' },
          body: '<subscription><topic>meters/+</topic><dst>/data/sensors/meters/{1}</dst><mimetype>text/plain</mimetype></subscription>',
        })
      ).status,
      200,
    );
    await waitFor(
      async () =>
        ((await (await call('/data/status/services/mqtt', { headers: { accept: 'application/json' } })).json()) as any)?.mqtt?.connected,
      'the server to subscribe',
    );
    // Connected is not yet subscribed: a probe reading, sent until one is stored, says the subscription is there.
    const meter = await mqtt.connectAsync(broker.url, { clientId: 'meter' });
    let probes = 0;
    await waitFor(async () => {
      await meter.publishAsync('meters/probe', String(probes++), { qos: 1 });
      return (await call('/data/sensors/meters/probe')).status === 200;
    }, 'a probe reading to be stored (the subscription to take effect)');
    assert.equal((await call('/data/sensors/meters/probe', { method: 'DELETE' })).status, 200);
    const sent = (async () => {
      for (let i = 0; i < READINGS; i++) await meter.publishAsync(`meters/m${i}`, String(i), { qos: 1 });
    })();
    await waitFor(async () => (await stored()) >= READINGS / 5, 'some readings to be stored', 30_000);
    await server.kill(); // between receiving and acknowledging, for some of them
    await sent;
    await meter.endAsync();
    server = await startServerProcess(dir, ['--mqtt', broker.url]);
    await waitFor(async () => (await stored()) >= READINGS, 'every reading after the restart', 60_000);
    const all = (await (await call('/data/sensors/meters', { headers: { accept: 'application/json' } })).json()) as {
      meters: Record<string, unknown>;
    };
    assert.equal(Object.keys(all.meters).length, READINGS);
    for (let i = 0; i < READINGS; i++) assert.equal(all.meters[`m${i}`], i, `m${i} once, with its value`);
    await server.kill();
  });
});
