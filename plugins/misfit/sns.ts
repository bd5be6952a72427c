/**
 * Amazon SNS messages to an HTTP(S) endpoint, verified as AWS says and its SDK validators do: required keys per
 * type, SignatureVersion 1 (SHA1withRSA) or 2 (SHA256withRSA) over the canonical string to sign, the signing
 * certificate fetched only from https://sns.<region>.amazonaws.com/….pem (the host pattern is configurable, for
 * tests) and cached, an optional list of expected topics. Unsigned and badly signed messages are refused.
 */
import { createVerify, X509Certificate } from 'node:crypto';

export type SnsType = 'SubscriptionConfirmation' | 'Notification' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  Type: SnsType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  UnsubscribeURL?: string;
}

/** Why a message was refused: 400 (not an SNS message) or 403 (not proven to come from SNS). */
export class SnsError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403,
  ) {
    super(message);
  }
}

export const AWS_SNS_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;
const SIGNED_KEYS = ['Message', 'MessageId', 'Subject', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;
const REQUIRED = ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type', 'Signature', 'SigningCertURL', 'SignatureVersion'];
const TYPES = new Set<string>(['SubscriptionConfirmation', 'Notification', 'UnsubscribeConfirmation']);
/** Lambda-style spellings, as the SDK validators accept them. */
const SPELLINGS: Record<string, string> = {
  SigningCertUrl: 'SigningCertURL',
  SubscribeUrl: 'SubscribeURL',
  UnsubscribeUrl: 'UnsubscribeURL',
};

/** The canonical string: each signed key present, in this fixed order, as `Key\nValue\n`. */
export function stringToSign(message: Record<string, unknown>): string {
  let out = '';
  for (const key of SIGNED_KEYS) if (typeof message[key] === 'string') out += `${key}\n${message[key] as string}\n`;
  return out;
}

/** Parses the body (SNS sends JSON as text/plain) and checks it has what its type needs. */
export function parseSnsMessage(raw: Buffer | string): SnsMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    throw new SnsError(`not an SNS message: the body is not JSON (${(err as Error).message})`, 400);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new SnsError('not an SNS message: the body is not a JSON object', 400);
  const message: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) message[SPELLINGS[k] ?? k] = v;
  if (message['Signature'] === undefined) throw new SnsError('unsigned messages are not accepted', 403);
  const type = message['Type'];
  if (typeof type !== 'string' || !TYPES.has(type))
    throw new SnsError(`not an SNS message: Type ${JSON.stringify(type)} is not one of ${[...TYPES].join(', ')}`, 400);
  const required = type === 'Notification' ? REQUIRED : [...REQUIRED, 'SubscribeURL', 'Token'];
  const missing = required.filter((k) => typeof message[k] !== 'string');
  if (missing.length) throw new SnsError(`the message misses required keys: ${missing.join(', ')}`, 400);
  if (message['SignatureVersion'] !== '1' && message['SignatureVersion'] !== '2') {
    throw new SnsError(`SignatureVersion ${JSON.stringify(message['SignatureVersion'])} is not supported (1 or 2)`, 403);
  }
  return message as unknown as SnsMessage;
}

/** An AWS URL we may fetch: https, a host matching the pattern, no user info; `.pem` for certificates. */
export function checkAwsUrl(value: string, hostPattern: RegExp, what: string, pem: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SnsError(`${what} is not a URL`, 403);
  }
  if (url.protocol !== 'https:') throw new SnsError(`${what} must be https, not ${url.protocol.replace(':', '')}`, 403);
  if (!hostPattern.test(url.hostname)) throw new SnsError(`${what} is not on an SNS host (${url.hostname})`, 403);
  if (url.username || url.password) throw new SnsError(`${what} must not carry credentials`, 403);
  if (pem && (!url.pathname.endsWith('.pem') || url.search || url.hash)) throw new SnsError(`${what} must name a .pem file`, 403);
  return url;
}

/** Whether the signature is right for the message, with the certificate's public key. */
export function signatureIsValid(message: SnsMessage, certificatePem: string): boolean {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    return false;
  }
  const now = new Date();
  if (new Date(certificate.validFrom) > now || new Date(certificate.validTo) < now) return false;
  const verifier = createVerify(message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  verifier.update(stringToSign(message as unknown as Record<string, unknown>), 'utf8');
  return verifier.verify(certificate.publicKey, Buffer.from(message.Signature, 'base64'));
}

export interface VerifierOptions {
  hostPattern?: RegExp;
  /** Topics accepted; any when empty. */
  topics?: string[];
  fetchCertificate(url: string): Promise<string>;
}

/** Verifies messages, fetching each signing certificate once. */
export class SnsVerifier {
  private readonly certificates = new Map<string, Promise<string>>();

  constructor(private readonly options: VerifierOptions) {}

  async verify(raw: Buffer | string): Promise<SnsMessage> {
    const message = parseSnsMessage(raw);
    const hostPattern = this.options.hostPattern ?? AWS_SNS_HOST;
    const certUrl = checkAwsUrl(message.SigningCertURL, hostPattern, 'SigningCertURL', true).href;
    const topics = this.options.topics?.filter(Boolean) ?? [];
    if (topics.length && !topics.includes(message.TopicArn))
      throw new SnsError(`topic ${message.TopicArn} is not one this endpoint subscribed to`, 403);
    let pem = this.certificates.get(certUrl);
    if (!pem) {
      if (this.certificates.size >= 100) this.certificates.delete(this.certificates.keys().next().value!);
      pem = this.options.fetchCertificate(certUrl);
      this.certificates.set(certUrl, pem);
      pem.catch(() => this.certificates.delete(certUrl)); // a failed fetch is tried again next time
    }
    if (!signatureIsValid(message, await pem)) throw new SnsError('the signature does not match the message', 403);
    return message;
  }
}
