/** Pusher signing, channel authentication and webhook validation against pusher-http-python's vectors. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  authenticate,
  checkChannel,
  checkSocketId,
  signRequest,
  triggerBody,
  validateWebhook,
  ValidationError,
} from '../../../plugins/pusher/pusherApi.ts';

describe('request signing', () => {
  it('signs a GET as in the vector', () => {
    const signed = signRequest({
      key: 'key',
      secret: 'secret',
      method: 'GET',
      path: '/some/obscure/api',
      params: { foo: 'bar' },
      now: 1000,
    });
    const query = Object.fromEntries(new URL(signed.url, 'http://x').searchParams);
    assert.deepEqual(query, {
      auth_key: 'key',
      auth_signature: '5c49f04a95eedc9028b1e0e8de7c2c7ad63504a0e3b5c145d2accaef6c14dbac',
      auth_timestamp: '1000',
      auth_version: '1.0',
      body_md5: 'd41d8cd98f00b204e9800998ecf8427e',
      foo: 'bar',
    });
    assert.equal(signed.body, '');
  });

  it('signs a POST as in the vector: the body by its MD5, not in the query', () => {
    const signed = signRequest({
      key: 'key',
      secret: 'secret',
      method: 'POST',
      path: '/some/obscure/api',
      body: '{"foo": "bar"}',
      now: 1000,
    });
    const query = Object.fromEntries(new URL(signed.url, 'http://x').searchParams);
    assert.equal(query['body_md5'], '94232c5b8fc9272f6f73a1e36eb68fcf');
    assert.equal(query['auth_signature'], 'e05fa4cafee86311746ee3981d5581a5e4e87c27bbab0aeb1059e2df5c90258b');
    assert.equal(query['foo'], undefined);
  });
});

describe('validation', () => {
  it('takes and refuses channel names and socket ids as the library does', () => {
    for (const ok of ['123', 'xyz_123', 'Channel@123', 'channel,456', 'channel;asd', '-abc_ABC@012.xpto,987;654']) checkChannel(ok);
    for (const bad of ['#123', 'x'.repeat(201), 'abc%&*', 'so/me_channel!', '::x', ''])
      assert.throws(() => checkChannel(bad), ValidationError, bad);
    checkSocketId('1234.12');
    assert.throws(() => checkSocketId('34554'), ValidationError);
  });

  it('limits channels, event names and data as the seed says', () => {
    const many = Array.from({ length: 11 }, (_, i) => `c${i}`);
    assert.throws(() => triggerBody(many, 'e', '{}'), /at most 10 channels/);
    assert.throws(() => triggerBody(['c'], 'e'.repeat(201), '{}'), /event name/);
    assert.throws(() => triggerBody(['c'], 'e', 'x'.repeat(10241)), /too much data/);
    assert.throws(() => triggerBody(['c'], 'e', '{}', '34554'), /socket_id/);
    assert.deepEqual(triggerBody(['a', 'b'], 'ev', '{"x":1}', '1.1'), {
      name: 'ev',
      channels: ['a', 'b'],
      data: '{"x":1}',
      socket_id: '1.1',
    });
  });
});

describe('channel authentication', () => {
  it('signs a private channel as in the vector', () => {
    assert.deepEqual(authenticate({ key: 'foo', secret: 'bar', channel: 'private-channel', socketId: '345.23' }), {
      auth: 'foo:89955e77e1b40e33df6d515a5ecbba86a01dc816a5b720da18a06fd26f7d92ff',
    });
  });

  it('signs a presence channel with exactly the channel_data it returns', () => {
    const result = authenticate({
      key: 'foo',
      secret: 'bar',
      channel: 'presence-channel',
      socketId: '345.43245',
      customData: { user_id: 'fred', user_info: { key: 'value' } },
    });
    assert.deepEqual(result, {
      auth: 'foo:e80ba6439492c2113022c39297a87a948de14061cc67b5788e045645a68b8ccd',
      channel_data: '{"user_id":"fred","user_info":{"key":"value"}}',
    });
  });

  it('refuses bad names', () => {
    assert.throws(() => authenticate({ key: 'k', secret: 's', channel: '::', socketId: '345345' }), ValidationError);
  });
});

describe('webhooks', () => {
  const body = '{"time_ms": 1000000}';
  const signature = 'f60c1cfce150cddf1f17fb0f3fb57b3d49394069b336fa7d02373d5f2d7232b1';
  const check = (over: Partial<Parameters<typeof validateWebhook>[0]>) =>
    validateWebhook({ key: 'foo', secret: 'bar', headerKey: 'foo', headerSignature: signature, body, nowMs: 1_200_000, ...over });

  it('accepts the vector within 5 minutes', () => {
    assert.equal(createHmac('sha256', 'bar').update(body).digest('hex'), signature);
    assert.deepEqual(check({}), { time_ms: 1000000, events: [] });
  });

  it('refuses it 301 seconds later, with another key, a wrong signature, or missing headers', () => {
    assert.equal(check({ nowMs: 1_301_000 }), undefined);
    assert.equal(check({ headerKey: 'badkey' }), undefined);
    assert.equal(check({ headerSignature: 'some signature' }), undefined);
    assert.equal(check({ headerSignature: undefined }), undefined);
    assert.equal(check({ body: '{"time_ms": 1000001}' }), undefined);
  });
});
