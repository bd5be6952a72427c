/**
 * The periodic fetch: for each person, their data from the chosen provider (googleSync.ts, legacySync.ts)
 * merged into sensors/fitbit/USER, and what to do when a provider says no — translated once, here, from
 * Problems into the host's vocabulary: authorise again (403), slow down (429 with Retry-After, a growing pause
 * with jitter, retried by itself: rateLimit.ts), try later (502). How each person's last fetch went is kept,
 * and status/sensors/NAME says it in one sentence each (fetchStatus.ts).
 */
import type { JsonObject, OAuth2Client, PluginHost, PluginSettings } from 'igor-ts/plugin-api';
import { FetchStatus } from './fetchStatus.ts';
import type { Narrow } from './googleQueries.ts';
import { GoogleSync, HEALTH_USER_ID } from './googleSync.ts';
import { syncLegacy } from './legacySync.ts';
import { ProviderProblem, type Problem } from './problems.ts';
import { RateLimits } from './rateLimit.ts';

export const SENSORS = 'sensors/fitbit';

export class Sync {
  private readonly limits = new RateLimits();
  private readonly status: FetchStatus;
  private readonly google: GoogleSync;

  constructor(
    private readonly host: PluginHost,
    private readonly oauth: OAuth2Client,
    private readonly settings: PluginSettings,
  ) {
    this.status = new FetchStatus(host, oauth);
    this.google = new GoogleSync(host, oauth, settings, `/data/${SENSORS}`);
  }

  /** Fetches one person's data from the chosen provider (or only a notification's interval). */
  async fetchFor(user: string, params: Record<string, string> = {}, narrow?: Narrow): Promise<JsonObject> {
    const userData = this.ready(user);
    try {
      const result = this.legacy()
        ? await syncLegacy(this.host, this.oauth, this.settings, { user, userData, params, sensors: `/data/${SENSORS}/${user}` })
        : { provider: 'google-health', ...(await this.google.sync(user, userData, narrow)) };
      this.limits.cleared(user);
      await this.status.set(user, undefined); // a success clears the person's old error at once
      return { user, ...result };
    } catch (err) {
      return this.failed(user, err, () => this.fetchFor(user, params, narrow));
    }
  }

  /** Everyone who authorised, one after the other; fails (for the action's status) if anyone's data does not come in. */
  async fetchAll(): Promise<JsonObject> {
    const users: JsonObject = {};
    for (const user of this.oauth.authorisedUsers())
      users[user] = await this.fetchFor(user).catch((err: Error) => ({ error: err.message }));
    const problems = this.status.problems();
    if (problems.length) this.host.fail(502, problems.join('\n'));
    return { users };
  }

  /** The person whose Google healthUserId this is. */
  userOfHealthId(id: string): string | undefined {
    if (!HEALTH_USER_ID.test(id)) return undefined;
    return this.host.data.refs(`/data/identities/*/plugindata/${this.host.name}[_healthUserId='${id}']`)[0]?.split('/')[3];
  }

  stop(): void {
    this.limits.stop();
  }

  private legacy(): boolean {
    return this.settings.get('provider') === 'fitbit-legacy';
  }

  private providerName(): string {
    return this.legacy() ? 'Fitbit' : 'Google Health';
  }

  /** The person's entry, once the plugin is set up, they have one, and no rate limit holds them back. */
  private ready(user: string): JsonObject {
    const { name } = this.host;
    if (!this.settings.get('client_id') || !this.settings.get('client_secret')) {
      this.host.fail(
        400,
        `${name} is not set up: an admin enters the ${this.providerName()} client id and secret on /plugin/${name}/page/setup.html`,
      );
    }
    const userData = this.host.userData(user);
    if (!userData) this.host.fail(404, `${user} has no ${name} entry yet: create it on /plugin/${name}/page/setup.html?user=${user}`);
    const seconds = this.limits.waiting(user);
    if (seconds !== undefined) {
      this.host.fail(429, `${this.providerName()}'s rate limit for ${user} (still): it will be tried again in ${seconds} s`, {
        'retry-after': String(seconds),
      });
    }
    return userData;
  }

  /** A Problem (or the host's own refusal) as the answer to the caller, recording the person's outcome. */
  private async failed(user: string, err: unknown, retry: () => Promise<unknown>): Promise<never> {
    const { name } = this.host;
    const problem: Problem | undefined = err instanceof ProviderProblem ? err.problem : undefined;
    if (problem?.kind === 'rateLimited') {
      const seconds = this.limits.limited(user, problem.retryAfter, retry);
      const when = new Date(Date.now() + seconds * 1000).toISOString();
      const sentence = `${this.providerName()}'s rate limit for ${user}: it will be tried again at ${when} (in ${seconds} s)`;
      await this.status.set(user, sentence);
      this.host.fail(429, sentence, { 'retry-after': String(seconds) });
    }
    if (problem?.kind === 'reauthorise') {
      await this.oauth.requireAuthorisation(user, problem.why);
      await this.status.set(user, undefined); // the host says it, as for every user who must authorise again
      this.host.fail(403, `${user} must authorise ${name} again: ${problem.why}. Open /plugin/${name}/page/setup.html?user=${user}`);
    }
    const message =
      problem?.kind === 'later'
        ? `${problem.why}; the next fetch tries again`
        : problem?.kind === 'refused'
          ? problem.why
          : (err as Error).message;
    // A 403 of the host's own: the person must authorise again, and the host has recorded why.
    await this.status.set(user, (err as { status?: number }).status === 403 ? undefined : `${user}: ${message}`);
    if (problem) this.host.fail(502, message);
    throw err;
  }
}
