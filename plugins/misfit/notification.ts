/**
 * Misfit's notifications (python-misfit's MisfitNotification, typed) for this plugin and any other: a verified
 * SNS message whose Message, for a Notification, is a JSON list of changed objects.
 */
import { SnsError, type SnsMessage, type SnsType, type SnsVerifier } from './sns.ts';

export interface MisfitMessage {
  /** Resource collection: goals, sessions, sleeps, profiles, devices. */
  type: string;
  action: 'created' | 'updated' | 'deleted';
  /** The changed object's id. */
  id: string;
  /** The Misfit user it belongs to. */
  ownerId: string;
  updatedAt?: string;
}

export interface MisfitNotification {
  Type: SnsType;
  MessageId: string;
  TopicArn: string;
  Timestamp: string;
  /** The changes, for a Notification. */
  Message: MisfitMessage[];
  /** The text, for the confirmation types. */
  text: string;
  SubscribeURL?: string;
  sns: SnsMessage;
}

const ACTIONS = new Set(['created', 'updated', 'deleted']);

export function parseMisfitMessages(text: string): MisfitMessage[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new SnsError("the notification's Message is not a JSON list of changes", 400);
  }
  if (!Array.isArray(list)) throw new SnsError("the notification's Message is not a JSON list of changes", 400);
  return list.map((item, i) => {
    const m = item as Record<string, unknown>;
    const ok =
      m &&
      typeof m === 'object' &&
      ['type', 'id', 'ownerId'].every((k) => typeof m[k] === 'string' && m[k] !== '') &&
      ACTIONS.has(m['action'] as string);
    if (!ok) throw new SnsError(`change ${i + 1} of the notification needs type, action (created, updated, deleted), id and ownerId`, 400);
    return {
      type: m['type'] as string,
      action: m['action'] as MisfitMessage['action'],
      id: m['id'] as string,
      ownerId: m['ownerId'] as string,
      ...(typeof m['updatedAt'] === 'string' ? { updatedAt: m['updatedAt'] } : {}),
    };
  });
}

/** Verifies and reads a notification body; throws SnsError (400 or 403) for anything not proven to be one. */
export async function readMisfitNotification(raw: Buffer | string, verifier: SnsVerifier): Promise<MisfitNotification> {
  const sns = await verifier.verify(raw);
  return {
    Type: sns.Type,
    MessageId: sns.MessageId,
    TopicArn: sns.TopicArn,
    Timestamp: sns.Timestamp,
    Message: sns.Type === 'Notification' ? parseMisfitMessages(sns.Message) : [],
    text: sns.Message,
    ...(sns.SubscribeURL ? { SubscribeURL: sns.SubscribeURL } : {}),
    sns,
  };
}
