/**
 * One person's fetch from Google Health: each kind of data they want, asked for from where the last fetch
 * left off (googleQueries.ts) and stored in their units, oldest first. A kind whose scope Google did not grant
 * (as the token answer says, or as a 403 for that kind says) is skipped and named in `notGranted`; the rest
 * comes in, now and at every fetch after, and the person stays authorised.
 */
import type { JsonObject, OAuth2Client, PluginHost, PluginSettings } from 'igor-ts/plugin-api';
import { enabledKinds, granted, scopeUrl, type Kind, type Units } from './dataTypes.ts';
import { GoogleHealthApi, isObject, text } from './googleHealthApi.ts';
import { DAY_MS, isoDate, localToday, pointsOf, type Narrow, type Window } from './googleQueries.ts';
import { ProviderProblem } from './problems.ts';
import { convertStored } from './storedUnits.ts';

/** What a person's fetch stored (counts by series), and the sentence naming the kinds Google did not grant. */
export interface GoogleResult {
  stored: JsonObject;
  notGranted?: string;
}

/** When an entry of the layout was measured, as sortable text. */
function timeOf(entry: JsonObject): string {
  const date = text(entry['date']);
  return text(entry['dateTime']) || (date ? `${date}T${text(entry['time'])}` : text(entry['startTime']));
}

/** Oldest first. ISO times of one form sort as text (localeCompare would load ICU's collation tables, 2 MB). */
export function byTime(a: JsonObject, b: JsonObject): number {
  const [x, y] = [timeOf(a), timeOf(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function unitsOf(userData: JsonObject): Units {
  return text(userData['units']) === 'imperial' ? 'imperial' : 'metric';
}

/** A Google healthUserId as it may stand in a path: webhook notifications name a person by it. */
export const HEALTH_USER_ID = /^[A-Za-z0-9-]{1,63}$/;

export class GoogleSync {
  constructor(
    private readonly host: PluginHost,
    private readonly oauth: OAuth2Client,
    private readonly settings: PluginSettings,
    /** Where each person's series go: sensors/fitbit. */
    private readonly sensors: string,
  ) {}

  async sync(user: string, userData: JsonObject, narrow?: Narrow): Promise<GoogleResult> {
    const gh = new GoogleHealthApi((url, req) => this.oauth.request(user, url, req), this.settings.get('apiBase').replace(/\/+$/, ''));
    const grantedScopes = this.oauth.grantedScopes(user);
    const today = localToday();
    const days = Number(this.settings.get('backfillDays')) || 30;
    const from = isoDate(today - (days - 1) * DAY_MS);
    const cursors = isObject(userData['_sync']) ? userData['_sync'] : {};
    const stored: JsonObject = {};
    const notGranted: string[] = [];
    if (!text(userData['_healthUserId'])) await this.learnHealthUserId(gh, user);
    for (const kind of narrow ? [narrow.kind] : enabledKinds(this.settings.get('data'))) {
      const window = { since: text(cursors[kind.name]) || undefined, from, today, narrow };
      const counts = granted(grantedScopes, kind.scope) ? await this.syncKind(gh, user, kind, window, unitsOf(userData)) : undefined;
      if (counts) Object.assign(stored, counts);
      else notGranted.push(`${kind.name} (${scopeUrl(kind.scope)})`);
    }
    if (notGranted.length === 0) return { stored };
    const notice = `Google did not grant Igor access to ${notGranted.join(', ')}; to get it, authorise again and allow it, or leave it out of the data setting`;
    this.host.logger.info(`${user}: ${notice}`);
    return { stored, notGranted: notice };
  }

  /** identities/USER/plugindata/NAME. */
  private entry(user: string): string {
    return `/data/identities/${user}/plugindata/${this.host.name}`;
  }

  /** Who this person is at Google: webhook notifications name them by it. */
  private async learnHealthUserId(gh: GoogleHealthApi, user: string): Promise<void> {
    const { healthUserId } = await gh.identity();
    if (healthUserId && HEALTH_USER_ID.test(healthUserId)) await this.host.data.put(`${this.entry(user)}/_healthUserId`, healthUserId);
  }

  /** One kind's new points, stored, and its cursor moved on; undefined when Google refuses it for a scope not granted. */
  private async syncKind(gh: GoogleHealthApi, user: string, kind: Kind, window: Window, units: Units): Promise<JsonObject | undefined> {
    let points: JsonObject[];
    try {
      points = await pointsOf(gh, kind, window);
    } catch (err) {
      if (err instanceof ProviderProblem && err.problem.kind === 'reauthorise' && err.problem.missingScope) return undefined;
      throw err;
    }
    const base = `${this.sensors}/${user}`;
    await convertStored(this.host, base, kind, units);
    const { series, latest } = kind.convert(points, units);
    // Google answers newest first: stored oldest first, so a series reads in time order.
    for (const entries of Object.values(series)) entries.sort(byTime);
    const counts = await this.host.storeSeries(base, series, { units: kind.units(units) });
    if (latest && (!window.since || latest > window.since)) await this.host.data.put(`${this.entry(user)}/_sync/${kind.name}`, latest);
    return counts;
  }
}
