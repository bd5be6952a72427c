/**
 * A local stand-in for the Fitbit Web API (its documented URL patterns, units by Accept-Language, error
 * bodies, 401 expired_token and 429 with Retry-After). It accepts only the access tokens the OAuth2 provider
 * issued and still holds live.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer } from '../../helpers.ts';
import type { StrictProvider } from '../../oauthProvider.ts';

export interface FakeFitbit {
  url: string;
  /** Each request: path, Accept-Language, and whether its token was accepted. */
  requests: { path: string; acceptLanguage: string | undefined; authorised: boolean }[];
  /** Answer the next API request with 429 and this Retry-After. */
  rateLimitNext?: number;
  /** Weights in kg by date (the newest measurements of the account). */
  weights: Map<string, number>;
}

const KG_PER_LB = 0.45359237;

function inUnits(kg: number, language: string | undefined): number {
  if (language === 'en_US') return Math.round((kg / KG_PER_LB) * 10) / 10;
  if (language === 'en_GB') return Math.round((kg / (14 * KG_PER_LB)) * 100) / 100; // stone
  return kg;
}

/** What the documented collection resources answer, with the generic top-level names (summary, goals) they share. */
const COLLECTIONS: [RegExp, unknown][] = [
  [
    /^\/1\/user\/-\/activities\/date\/[\w-]+\.json$/,
    { activities: [], goals: { steps: 10000 }, summary: { steps: 6543, caloriesOut: 2100 } },
  ],
  [
    /^\/1\/user\/-\/sleep\/date\/[\w-]+\.json$/,
    {
      sleep: [{ logId: 26315914, dateOfSleep: '2026-11-02', minutesAsleep: 431, minutesAwake: 21, timeInBed: 452 }],
      summary: { totalMinutesAsleep: 431, totalSleepRecords: 1, totalTimeInBed: 452 },
    },
  ],
  [/^\/1\/user\/-\/body\/date\/[\w-]+\.json$/, { body: { bmi: 24.7, fat: 21.3, weight: 80 }, goals: { weight: 78 } }],
  [/^\/1\/user\/-\/heart\/date\/[\w-]+\.json$/, { average: [{ heartRate: 61, tracker: 'Resting Heart Rate' }], heart: [] }],
  [/^\/1\/user\/-\/foods\/log\/date\/[\w-]+\.json$/, { foods: [], goals: { calories: 2200 }, summary: { calories: 1850, water: 1200 } }],
  [/^\/1\/user\/-\/foods\/log\/water\/date\/[\w-]+\.json$/, { water: [{ amount: 500, logId: 7 }], summary: { water: 1200 } }],
  [
    /^\/1\/user\/-\/activities\/heart\/date\/[\w-]+\/[\w-]+\.json$/,
    { 'activities-heart': [{ dateTime: '2026-11-02', value: { restingHeartRate: 58, heartRateZones: [{ name: 'Peak', minutes: 3 }] } }] },
  ],
  [/^\/1\/user\/-\/activities\/steps\/date\/[\w-]+\/[\w-]+\.json$/, { 'activities-steps': [{ dateTime: '2026-11-02', value: '8012' }] }],
  [
    /^\/1\/user\/-\/body\/log\/fat\/date\/[\w-]+(\/[\w-]+)?\.json$/,
    { fat: [{ date: '2026-11-02', fat: 21.3, logId: 3001, time: '07:30:00' }] },
  ],
];

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export async function startFakeFitbit(provider: StrictProvider): Promise<FakeFitbit> {
  const fake: FakeFitbit = { url: '', requests: [], weights: new Map() };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const authorised = provider.liveAccessTokens.has(token);
    const language = req.headers['accept-language'];
    fake.requests.push({ path, acceptLanguage: language, authorised });
    if (!authorised)
      return send(res, 401, {
        errors: [{ errorType: 'expired_token', message: 'Access token expired: ' + token.slice(0, 8) }],
        success: false,
      });
    if (fake.rateLimitNext !== undefined) {
      const seconds = fake.rateLimitNext;
      fake.rateLimitNext = undefined;
      return send(
        res,
        429,
        { errors: [{ errorType: 'request', message: 'Too Many Requests' }], success: false },
        { 'retry-after': String(seconds), 'fitbit-rate-limit-remaining': '0' },
      );
    }
    const sorted = [...fake.weights].sort(([a], [b]) => a.localeCompare(b));
    if (/^\/1\/user\/-\/body\/log\/weight\/date\/([\w-]+)(\/[\w-]+)?\.json$/.test(path)) {
      return send(res, 200, {
        weight: sorted.map(([date, kg], i) => ({
          bmi: Math.round((kg / 3.24) * 100) / 100,
          date,
          logId: 1000 + i,
          source: 'Aria',
          time: '07:30:00',
          weight: inUnits(kg, language),
        })),
      });
    }
    if (/^\/1\/user\/-\/body\/weight\/date\/([\w-]+)\/([\w-]+)\.json$/.test(path)) {
      return send(res, 200, { 'body-weight': sorted.map(([dateTime, kg]) => ({ dateTime, value: String(inUnits(kg, language)) })) });
    }
    for (const [pattern, body] of COLLECTIONS) if (pattern.test(path)) return send(res, 200, body);
    if (path === '/1/user/-/profile.json')
      return send(res, 200, { user: { displayName: 'Jack', weightUnit: language === 'en_US' ? 'en_US' : 'METRIC' } });
    return send(res, 404, { errors: [{ errorType: 'not_found', message: `no resource ${path}` }], success: false });
  };
  const { url } = await startHttpServer(handler);
  fake.url = url;
  return fake;
}
