/**
 * /notification: Misfit's SNS messages, each verified (sns.ts; a verifier is kept until the settings change, so
 * that its certificates stay cached), the subscription confirmed when SNS asks, and a notification answered at
 * once — SNS wants an answer within 15 s — with its changes fetched afterwards, once however often it comes.
 */
import type { PluginCall, PluginHost } from 'igor-ts/plugin-api';
import { readMisfitNotification, type MisfitNotification } from './notification.ts';
import { AWS_SNS_HOST, checkAwsUrl, SnsError, SnsVerifier } from './sns.ts';
import type { MisfitSync } from './sync.ts';

/** How long a MessageId is remembered, so that SNS's redeliveries are processed once. */
const SEEN_MS = 24 * 3600 * 1000;
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

/** The SNS verifier for the current settings: made anew only when they change. */
class Verifiers {
  private cached: { key: string; verifier: SnsVerifier } | undefined;

  constructor(
    private readonly host: PluginHost,
    private readonly setting: (key: string) => string,
  ) {}

  hostPattern(): RegExp {
    const pattern = this.setting('snsHostPattern');
    return pattern ? new RegExp(pattern) : AWS_SNS_HOST;
  }

  current(): SnsVerifier {
    const key = ['snsHostPattern', 'snsTopicArn', 'snsCa'].map((k) => this.setting(k)).join('\0');
    if (this.cached?.key !== key) this.cached = { key, verifier: this.make() };
    return this.cached.verifier;
  }

  private make(): SnsVerifier {
    return new SnsVerifier({
      hostPattern: this.hostPattern(),
      topics: this.setting('snsTopicArn')
        .split(',')
        .map((t) => t.trim()),
      fetchCertificate: async (url) => {
        const res = await this.host.http(url, { ca: this.setting('snsCa') || undefined, timeoutMs: 5000 });
        if (res.status !== 200) throw new SnsError(`the signing certificate could not be fetched (HTTP ${res.status})`, 403);
        return res.body;
      },
    });
  }
}

export function notificationMethod(host: PluginHost, setting: (key: string) => string, sync: MisfitSync) {
  const verifiers = new Verifiers(host, setting);
  const seen = new Map<string, number>();

  /** Visits the SubscribeURL SNS sent, when it is AWS's (or the configured host's). */
  async function confirm(n: MisfitNotification) {
    let url: URL;
    try {
      url = checkAwsUrl(n.SubscribeURL ?? '', verifiers.hostPattern(), 'SubscribeURL', false);
    } catch (err) {
      return host.reply(403, `${(err as Error).message}\n`, TEXT);
    }
    const res = await host.http(url.href, { ca: setting('snsCa') || undefined, timeoutMs: 10_000 });
    if (res.status >= 400) host.fail(502, `confirming the subscription failed: HTTP ${res.status}`);
    host.logger.info(`confirmed the SNS subscription to ${n.TopicArn}`);
    await host.recordStatus(`sensors/${host.name}`, { ok: true });
    return host.reply(200, '');
  }

  /** Whether this message is new (and remembers it); forgets what is older than a day. */
  function firstTime(messageId: string): boolean {
    const now = Date.now();
    for (const [id, at] of seen) if (at < now - SEEN_MS) seen.delete(id);
    if (seen.has(messageId)) return false;
    seen.set(messageId, now);
    return true;
  }

  return async function notification(call: PluginCall) {
    if (call.method !== 'POST') host.fail(400, 'SNS notifications are POSTed');
    let n: MisfitNotification;
    try {
      n = await readMisfitNotification(call.body?.raw ?? '', verifiers.current());
    } catch (err) {
      if (!(err instanceof SnsError)) throw err;
      host.logger.warn(`refused an SNS message: ${err.message}`);
      return host.reply(err.status, `${err.message}\n`, TEXT);
    }
    if (n.Type === 'SubscriptionConfirmation') return confirm(n);
    if (n.Type === 'UnsubscribeConfirmation') {
      host.logger.warn(`the SNS subscription to ${n.TopicArn} was ended`); // its SubscribeURL would subscribe again: not visited
      return host.reply(200, '');
    }
    if (!firstTime(n.MessageId)) return host.reply(200, ''); // a redelivery: done already
    // SNS wants an answer within 15 s: answer now, fetch the changed objects afterwards.
    host.background(`misfit notification ${n.MessageId}`, () => sync.processChanges(n.Message));
    return host.reply(200, '');
  };
}
