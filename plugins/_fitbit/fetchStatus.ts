/**
 * How each person's last fetch went, and status/sensors/NAME saying it: fine, or one sentence per person whose
 * data does not come in, with what to do. Kept in memory (a restart starts clean; the next fetch says it again).
 */
import type { OAuth2Client, PluginHost } from 'igor-ts/plugin-api';
import { text } from './googleHealthApi.ts';

export class FetchStatus {
  /** The sentence to show for each person, or undefined when their fetch went well. */
  private readonly outcomes = new Map<string, string | undefined>();

  constructor(
    private readonly host: PluginHost,
    private readonly oauth: OAuth2Client,
  ) {}

  /**
   * Records how a person's fetch went and says it under status/ at once (so a success clears an old error):
   * undefined when it went well, or when the host says it already (a person who must authorise again).
   */
  async set(user: string, sentence: string | undefined): Promise<void> {
    this.outcomes.set(user, sentence);
    const problems = this.problems();
    await this.host.recordStatus(`sensors/${this.host.name}`, problems.length ? { ok: false, message: problems.join('\n') } : { ok: true });
  }

  /** One sentence per person whose data does not come in: those who must authorise again, then whose fetch failed. */
  problems(): string[] {
    const { host, oauth } = this;
    const users = host.data.refs(`/data/identities/*/plugindata/${host.name}`).map((ref) => ref.split('/')[3]!);
    const problems: string[] = [];
    for (const user of users) {
      if (oauth.state(user) === 'reauthorise') {
        const why = text(host.userData(user)?.['needsAuthorisation']);
        problems.push(`${user} must authorise ${host.name} again${why && why !== 'true' ? `: ${why}` : ''}.`);
      } else if (this.outcomes.get(user)) problems.push(this.outcomes.get(user)!);
    }
    return problems;
  }
}
