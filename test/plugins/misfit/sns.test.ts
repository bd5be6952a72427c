/** SNS verification with python-misfit's published vectors, and the rules a port adds. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseMisfitMessages, readMisfitNotification } from '../../../plugins/misfit/notification.ts';
import {
  checkAwsUrl,
  parseSnsMessage,
  signatureIsValid,
  SnsError,
  SnsVerifier,
  stringToSign,
  AWS_SNS_HOST,
} from '../../../plugins/misfit/sns.ts';
import { PAYLOAD_A, PAYLOAD_B, PAYLOAD_B_SHA256_SIGNATURE, TEST_CERTIFICATE } from './vectors.ts';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const rejects = (status: number, pattern: RegExp) => (err: unknown) =>
  err instanceof SnsError && err.status === status && pattern.test(err.message);

describe('the string to sign', () => {
  it('matches the vectors for a subscription confirmation and a notification', () => {
    const a = stringToSign(PAYLOAD_A);
    assert.equal(Buffer.byteLength(a), 435);
    assert.equal(md5(a), '414dadd4d4808edcfd04ce06b6afcbca');
    const b = stringToSign(PAYLOAD_B);
    assert.equal(Buffer.byteLength(b), 222);
    assert.equal(md5(b), 'f80d4ecec1e37c77a16b1641535600c8');
    assert.ok(!b.includes('UnsubscribeURL') && !b.includes('Signature'));
  });
});

describe('signatures', () => {
  it('verifies the published SHA1withRSA signatures against the test certificate', () => {
    assert.equal(signatureIsValid(parseSnsMessage(JSON.stringify(PAYLOAD_A)), TEST_CERTIFICATE), true);
    assert.equal(signatureIsValid(parseSnsMessage(JSON.stringify(PAYLOAD_B)), TEST_CERTIFICATE), true);
  });

  it('verifies SignatureVersion 2 with SHA-256, and never mixes the two', () => {
    const v2 = { ...PAYLOAD_B, SignatureVersion: '2', Signature: PAYLOAD_B_SHA256_SIGNATURE };
    assert.equal(signatureIsValid(parseSnsMessage(JSON.stringify(v2)), TEST_CERTIFICATE), true);
    assert.equal(signatureIsValid(parseSnsMessage(JSON.stringify({ ...PAYLOAD_B, SignatureVersion: '2' })), TEST_CERTIFICATE), false);
    assert.equal(signatureIsValid(parseSnsMessage(JSON.stringify({ ...v2, SignatureVersion: '1' })), TEST_CERTIFICATE), false);
  });

  it('refuses a bad signature, a changed message, and a certificate that is not one', () => {
    assert.equal(signatureIsValid(parseSnsMessage(JSON.stringify({ ...PAYLOAD_B, Signature: 'BAD_SIGNATURE' })), TEST_CERTIFICATE), false);
    assert.equal(
      signatureIsValid(
        parseSnsMessage(JSON.stringify({ ...PAYLOAD_B, Message: PAYLOAD_B.Message.replace('updated', 'deleted') })),
        TEST_CERTIFICATE,
      ),
      false,
    );
    assert.equal(signatureIsValid(parseSnsMessage(JSON.stringify(PAYLOAD_B)), 'not a certificate'), false);
  });
});

describe('messages', () => {
  it('refuses unsigned messages (python-misfit accepted them), unknown versions and missing keys', () => {
    const { Signature: _s, SignatureVersion: _v, SigningCertURL: _c, MessageId: _m, ...unsigned } = PAYLOAD_A;
    assert.throws(() => parseSnsMessage(JSON.stringify(unsigned)), rejects(403, /unsigned/));
    assert.throws(
      () => parseSnsMessage(JSON.stringify({ ...PAYLOAD_B, SignatureVersion: '3' })),
      rejects(403, /SignatureVersion "3" is not supported/),
    );
    const { Token: _t, ...noToken } = PAYLOAD_A;
    assert.throws(() => parseSnsMessage(JSON.stringify(noToken)), rejects(400, /required keys: Token/));
    assert.throws(() => parseSnsMessage('not json'), rejects(400, /not JSON/));
    assert.throws(() => parseSnsMessage(JSON.stringify({ ...PAYLOAD_B, Type: 'Gossip' })), rejects(400, /Type "Gossip"/));
  });

  it('accepts the Lambda-style spellings of the URL keys', () => {
    const { SigningCertURL, ...rest } = PAYLOAD_B;
    assert.equal(parseSnsMessage(JSON.stringify({ ...rest, SigningCertUrl: SigningCertURL })).SigningCertURL, SigningCertURL);
  });

  it("reads Misfit's list of changes", () => {
    assert.deepEqual(parseMisfitMessages(PAYLOAD_B.Message), [
      { type: 'goals', id: 'scrubbed_id', ownerId: 'scrubbed_ownerId', action: 'updated', updatedAt: '2014-12-11T20:23:43Z' },
    ]);
    assert.throws(() => parseMisfitMessages('{"type":"goals"}'), rejects(400, /JSON list/));
    assert.throws(() => parseMisfitMessages('[{"type":"goals","id":"x","ownerId":"y","action":"exploded"}]'), rejects(400, /change 1/));
  });
});

describe('certificate URLs', () => {
  const check = (url: string) => checkAwsUrl(url, AWS_SNS_HOST, 'SigningCertURL', true);

  it('takes https URLs of .pem files on sns.<region>.amazonaws.com only', () => {
    check(PAYLOAD_A.SigningCertURL);
    check('https://sns.cn-north-1.amazonaws.com.cn/x.pem');
    check('https://sns.us-gov-west-1.amazonaws.com/x.pem');
    for (const [url, reason] of [
      ['http://sns.us-east-1.amazonaws.com/x.pem', /must be https/],
      ['https://sns.us-east-1.amazonaws.com.evil.example/x.pem', /not on an SNS host/],
      ['https://evil.s3.amazonaws.com/x.pem', /not on an SNS host/],
      ['https://sns.us-east-1.amazonaws.com/x.crt', /\.pem/],
      ['https://sns.us-east-1.amazonaws.com/x.pem?y=1', /\.pem/],
      ['https://user:pw@sns.us-east-1.amazonaws.com/x.pem', /credentials/],
      ['not a url', /not a URL/],
    ] as const) {
      assert.throws(() => check(url), rejects(403, reason), url);
    }
  });
});

describe('the verifier', () => {
  it('fetches each certificate once, checks the topic, and reads notifications', async () => {
    const fetched: string[] = [];
    const verifier = new SnsVerifier({ fetchCertificate: async (url) => (fetched.push(url), TEST_CERTIFICATE) });
    const n = await readMisfitNotification(JSON.stringify(PAYLOAD_B), verifier);
    assert.equal(n.Type, 'Notification');
    assert.equal(n.Message[0]!.ownerId, 'scrubbed_ownerId');
    const c = await readMisfitNotification(JSON.stringify(PAYLOAD_A), verifier);
    assert.equal(c.Type, 'SubscriptionConfirmation');
    assert.equal(c.SubscribeURL, PAYLOAD_A.SubscribeURL);
    assert.deepEqual(fetched, [PAYLOAD_A.SigningCertURL]);
    await assert.rejects(
      verifier.verify(JSON.stringify({ ...PAYLOAD_B, Signature: 'BAD_SIGNATURE' })),
      rejects(403, /signature does not match/),
    );
    const strict = new SnsVerifier({ topics: ['arn:aws:sns:us-east-1:1:misfit'], fetchCertificate: async () => TEST_CERTIFICATE });
    await assert.rejects(strict.verify(JSON.stringify(PAYLOAD_B)), rejects(403, /topic topic-arn/));
  });
});
