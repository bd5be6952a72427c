/**
 * A local SNS-like sender: an https server on 127.0.0.1 (its own self-signed TLS certificate, which the plugin is
 * told to trust) that serves the signing certificate and the SubscribeURL, and signs messages with a test key
 * the way SNS does (SignatureVersion 1 or 2).
 */
import { createSign, randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { stringToSign } from '../../../plugins/misfit/sns.ts';
import { onCleanup } from '../../helpers.ts';

export interface SnsSender {
  /** https://127.0.0.1:PORT */
  base: string;
  /** The TLS certificate to trust (PEM). */
  tlsCa: string;
  certUrl: string;
  confirmations: URL[];
  topic: string;
  /** A signed message of the type, with the fields given. */
  message(
    type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation',
    fields?: Record<string, string>,
    version?: '1' | '2',
  ): Record<string, string>;
  sign(message: Record<string, string>, version?: '1' | '2'): Record<string, string>;
}

export async function startSnsSender(): Promise<SnsSender> {
  const tls = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const signing = await generate([{ name: 'commonName', value: 'sns.test-region.amazonaws.com' }], { keySize: 2048 });
  const confirmations: URL[] = [];
  const server = createServer({ key: tls.private, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (url.pathname === '/SimpleNotificationService-test.pem')
      return void res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(signing.cert);
    if (url.pathname === '/') {
      confirmations.push(url);
      return void res
        .writeHead(200, { 'content-type': 'text/xml' })
        .end(
          '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:test:1:misfit:x</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>',
        );
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const topic = 'arn:aws:sns:test-region:123456789012:misfit';
  const certUrl = `${base}/SimpleNotificationService-test.pem`;
  const sign = (message: Record<string, string>, version: '1' | '2' = '1') => {
    const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    signer.update(stringToSign(message), 'utf8');
    return { ...message, SignatureVersion: version, Signature: signer.sign(signing.private, 'base64') };
  };
  return {
    base,
    tlsCa: tls.cert,
    certUrl,
    confirmations,
    topic,
    sign,
    message(type, fields = {}, version = '1') {
      const token = randomUUID().replace(/-/g, '');
      const common = { Type: type, MessageId: randomUUID(), TopicArn: topic, Timestamp: new Date().toISOString(), SigningCertURL: certUrl };
      const extra: Record<string, string> =
        type === 'Notification'
          ? { Message: '[]', UnsubscribeURL: `${base}/?Action=Unsubscribe` }
          : {
              Message: `You have chosen to subscribe to the topic ${topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
              Token: token,
              SubscribeURL: `${base}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topic)}&Token=${token}`,
            };
      return sign({ ...common, ...extra, ...fields }, version);
    },
  };
}
