/**
 * The pieces of the submit plugin on their own: which callback URLs a client may register, which expiry times a
 * token may have, and what a submission's data is in each way a client can send it — without a server;
 * submit.test.ts runs the whole flow through one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callbackUrl } from '../../../plugins/submit/register.ts';
import { BadResponses, responsesOf } from '../../../plugins/submit/submission.ts';
import { expiryMinutes, MAX_EXPIRY_MINUTES } from '../../../plugins/submit/token.ts';

describe('a callback URL', () => {
  it('is an http(s) URL', () => {
    assert.equal((callbackUrl('https://app.example/back?x=1') as URL).href, 'https://app.example/back?x=1');
    assert.deepEqual(callbackUrl('ftp://app.example/'), { status: 'bad_callback_url', message: 'callback_url must be http(s)' });
    assert.deepEqual(callbackUrl('javascript:alert(1)'), { status: 'bad_callback_url', message: 'callback_url must be http(s)' });
  });

  it('is refused, saying why, when missing or not a URL', () => {
    assert.equal((callbackUrl(undefined) as { status: string }).status, 'missing_callback_url');
    assert.equal((callbackUrl('') as { status: string }).status, 'missing_callback_url');
    assert.deepEqual(callbackUrl('not a url'), { status: 'bad_callback_url', message: 'callback_url not a url is not a URL' });
  });
});

describe("a token's expiry", () => {
  it('is 90 minutes unless asked, and any whole number of minutes up to a week', () => {
    assert.equal(expiryMinutes(undefined), 90);
    assert.equal(expiryMinutes(''), 90);
    assert.equal(expiryMinutes('1'), 1);
    assert.equal(expiryMinutes(String(MAX_EXPIRY_MINUTES)), 7 * 24 * 60);
  });

  it('is refused when it is not a whole number in that range', () => {
    for (const bad of ['0', '-5', '1.5', 'soon', String(MAX_EXPIRY_MINUTES + 1), 'Infinity'])
      assert.equal(expiryMinutes(bad), undefined, bad);
  });
});

describe("a submission's data", () => {
  const json = (value: unknown) => ({
    params: {},
    body: { raw: Buffer.from(JSON.stringify(value)), contentType: 'application/json', json: value as never },
  });

  it('is the responses field of a JSON body, parsed when it is JSON text', () => {
    assert.deepEqual(responsesOf(json({ auth_token: 't', responses: [1, 2] })), [1, 2]);
    assert.deepEqual(responsesOf(json({ responses: '{"a":1}' })), { a: 1 });
  });

  it('is the rest of a JSON body without responses, but never its auth_token', () => {
    assert.deepEqual(responsesOf(json({ auth_token: 't', mood: 'fine' })), { mood: 'fine' });
    assert.equal(responsesOf(json({ auth_token: 't' })), undefined);
    assert.deepEqual(responsesOf(json([1, 2])), [1, 2]);
  });

  it('is the responses form field, as JSON text', () => {
    assert.deepEqual(responsesOf({ params: { responses: '[{"q":1}]' } }), [{ q: 1 }]);
    assert.equal(responsesOf({ params: { responses: '' } }), undefined);
    assert.throws(
      () => responsesOf({ params: { responses: '{oops' } }),
      (err: Error) => err instanceof BadResponses && /^responses is not valid JSON/.test(err.message),
    );
  });
});
