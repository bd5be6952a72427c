/**
 * The pieces of the pusher plugin on their own: which data an event carries, how a batch is checked, and what a
 * webhook's events change in the tree — without a server; pusher.test.ts runs them through one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchEvents, dataOf } from '../../../plugins/pusher/events.ts';
import { ValidationError } from '../../../plugins/pusher/pusherApi.ts';
import { occupancyChanges } from '../../../plugins/pusher/webhook.ts';

const body = (contentType: string, raw: string, json?: unknown) => ({ raw: Buffer.from(raw), contentType, json: json as never });

describe("an event's data", () => {
  it("is the body's data field, as text", () => {
    assert.equal(dataOf({ params: {}, body: body('application/json', '{"data":{"t":21.5}}', { data: { t: 21.5 } }) }), '{"t":21.5}');
    assert.equal(dataOf({ params: {}, body: body('application/json', '{"data":"hi"}', { data: 'hi' }) }), 'hi');
  });

  it('is the body as sent, when it has no data field (what an action sends)', () => {
    assert.equal(dataOf({ params: {}, body: body('application/json', '{"t": 21.5}', { t: 21.5 }) }), '{"t": 21.5}');
    assert.equal(dataOf({ params: { data: 'x' }, body: body('text/plain', '21.5') }), '21.5');
  });

  it('is the data parameter for a form or no body', () => {
    assert.equal(dataOf({ params: { data: 'x' }, body: body('application/x-www-form-urlencoded', 'data=x') }), 'x');
    assert.equal(dataOf({ params: { data: 'y' } }), 'y');
    assert.equal(dataOf({ params: {} }), '');
  });
});

describe('a batch of events', () => {
  it('is checked event by event, as Pusher takes them', () => {
    assert.deepEqual(
      batchEvents([
        { channel: 'home', name: 'temperature', data: { t: 1 } },
        { channel: 'hall', name: 'door', data: 'open', socket_id: '123.45' },
      ]),
      [
        { channel: 'home', name: 'temperature', data: '{"t":1}' },
        { channel: 'hall', name: 'door', data: 'open', socket_id: '123.45' },
      ],
    );
  });

  it('names the first event that breaks a rule', () => {
    assert.throws(
      () =>
        batchEvents([
          { channel: 'home', name: 'a', data: '' },
          { channel: 'no spaces', name: 'b', data: '' },
        ]),
      (err: Error) => err instanceof ValidationError && /^event 2: "no spaces" is not a channel name/.test(err.message),
    );
    assert.throws(() => batchEvents([{ channel: 'home', data: '' }]), /^Error: event 1: give the event name/);
  });
});

describe("a webhook's changes", () => {
  const sensors = '/data/sensors/pusher';
  const hook = (events: { name: string; channel: string; user_id?: string }[]) => ({ time_ms: Date.parse('2024-03-10T12:00:00Z'), events });
  const lobby = `${sensors}/channel[name='presence-lobby']`;

  it('make a channel when it is first occupied, and say since when', () => {
    assert.deepEqual(
      occupancyChanges(sensors, hook([{ name: 'channel_occupied', channel: 'presence-lobby' }]), () => false),
      [
        { op: 'post', xpath: `${sensors}/channel`, value: { name: 'presence-lobby', occupied: false } },
        { op: 'put', xpath: `${lobby}/occupied`, value: true },
        { op: 'put', xpath: `${lobby}/since`, value: '2024-03-10T12:00:00.000Z' },
      ],
    );
  });

  it('make a new channel once, however many of its events one webhook brings', () => {
    const changes = occupancyChanges(
      sensors,
      hook([
        { name: 'channel_occupied', channel: 'presence-lobby' },
        { name: 'member_added', channel: 'presence-lobby', user_id: 'jack' },
        { name: 'member_added', channel: 'presence-lobby', user_id: 'jill' },
      ]),
      () => false,
    );
    assert.equal(changes.filter((c) => c.op === 'post' && c.xpath === `${sensors}/channel`).length, 1);
  });

  it('add and remove members once each, and drop them all when the channel is vacated', () => {
    const changes = occupancyChanges(
      sensors,
      hook([
        { name: 'member_added', channel: 'presence-lobby', user_id: 'jack' },
        { name: 'member_removed', channel: 'presence-lobby', user_id: 'jill' },
        { name: 'channel_vacated', channel: 'presence-lobby' },
      ]),
      () => true,
    );
    assert.deepEqual(changes, [
      { op: 'delete', xpath: `${lobby}/member[.='jack']` },
      { op: 'post', xpath: `${lobby}/member`, value: 'jack' },
      { op: 'delete', xpath: `${lobby}/member[.='jill']` },
      { op: 'put', xpath: `${lobby}/occupied`, value: false },
      { op: 'put', xpath: `${lobby}/since`, value: '2024-03-10T12:00:00.000Z' },
      { op: 'delete', xpath: `${lobby}/member` },
    ]);
  });

  it('pass over channel names and member ids that could not stand in a path', () => {
    const changes = occupancyChanges(
      sensors,
      hook([
        { name: 'channel_occupied', channel: "x']|/data/identities['" },
        { name: 'member_added', channel: 'presence-lobby', user_id: "jack']|//*['" },
      ]),
      () => true,
    );
    assert.deepEqual(changes, []);
  });
});
