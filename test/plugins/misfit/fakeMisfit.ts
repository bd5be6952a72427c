/**
 * A local stand-in for Misfit's cloud: the Resource API (python-misfit's fixtures, its date-range rule, its
 * error bodies, 401 for tokens it does not know, 429 with x-ratelimit headers), with /auth/* passed on to the
 * OAuth2 server, as api.misfitwearables.com served both.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startHttpServer } from '../../helpers.ts';
import type { StrictProvider } from '../../oauthProvider.ts';

export interface FakeMisfit {
  url: string;
  requests: string[];
  rateLimitNext: boolean;
  goals: Map<string, { id: string; date: string; points: number; targetPoints: number; timeZoneOffset: number }>;
  /** While set, fetching one goal by id waits for it (to show a notification is answered before it is processed). */
  holdGoalFetch?: Promise<void>;
}

export const PROFILE = { userId: 'misfitjack01', name: 'Jack', birthday: '1981-07-18', gender: 'male', email: 'jack@example.org' };
const DEVICE = {
  id: '51a4189acf12e53f80000001',
  deviceType: 'shine',
  serialNumber: 'XXXXXV0011',
  firmwareVersion: '0.0.50r',
  batteryLevel: 40,
};
const SUMMARY = [
  { date: '2014-10-05', points: 394.4, steps: 3650, calories: 1687.4735, activityCalories: 412.3124, distance: 1.18 },
  { date: '2014-10-06', points: 459.6, steps: 4330, calories: 1707.8484, activityCalories: 412.3124, distance: 1.3982 },
];
const SESSIONS = [
  {
    id: '51a4189acf12e53f82000001',
    activityType: 'Cycling',
    startTime: '2014-05-19T10:26:54-04:00',
    duration: 900,
    points: 210.8,
    steps: 1406,
    calories: 25.7325,
    distance: 0.5125,
  },
];
const SLEEPS = [
  {
    id: '51a4189acf12e53f80000003',
    autoDetected: false,
    startTime: '2014-05-19T23:26:54+07:00',
    duration: 0,
    sleepDetails: [{ datetime: '2014-05-19T23:26:54+07:00', value: 2 }],
  },
];

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function forward(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
  const answer = await fetch(target, {
    method: req.method,
    headers,
    body: chunks.length ? Buffer.concat(chunks) : undefined,
    redirect: 'manual',
  });
  const out: Record<string, string> = {};
  answer.headers.forEach((v, k) => {
    if (k !== 'content-encoding' && k !== 'transfer-encoding' && k !== 'content-length') out[k] = v;
  });
  res.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
}

export async function startFakeMisfit(provider: StrictProvider): Promise<FakeMisfit> {
  const fake: FakeMisfit = {
    url: '',
    requests: [],
    rateLimitNext: false,
    goals: new Map(
      [
        { id: '51a4189acf12e53f81000001', date: '2014-10-05', points: 500, targetPoints: 1000, timeZoneOffset: -8 },
        { id: '51a4189acf12e53f81000002', date: '2014-10-06', points: 600, targetPoints: 1000, timeZoneOffset: -8 },
        { id: '51a4189acf12e53f81000003', date: '2014-10-07', points: 700, targetPoints: 1000, timeZoneOffset: -8 },
      ].map((g) => [g.id, g]),
    ),
  };
  const { url } = await startHttpServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname.startsWith('/auth/')) return void forward(req, res, provider.url + u.pathname + u.search);
    fake.requests.push(u.pathname + u.search);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!provider.liveAccessTokens.has(token)) return send(res, 401, { code: 401, message: 'Invalid Access Token' });
    if (fake.rateLimitNext) {
      fake.rateLimitNext = false;
      const reset = Math.floor(Date.now() / 1000) + 2577;
      return send(
        res,
        429,
        { error_code: 429, error_message: 'Rate limit exceeded' },
        { 'x-ratelimit-limit': '150', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      );
    }
    const path = u.pathname.replace(/^\/move\/resource\/v1\/user\/me\//, '');
    const start = u.searchParams.get('start_date');
    const end = u.searchParams.get('end_date');
    if (start && end && (start > end || (Date.parse(end) - Date.parse(start)) / 86_400_000 > 30))
      return send(res, 400, { error_message: 'Invalid parameters' });
    let m: RegExpExecArray | null;
    if (path === 'profile/') return send(res, 200, PROFILE);
    if (path === 'device/') return send(res, 200, DEVICE);
    if (path === 'activity/goals/') return send(res, 200, { goals: [...fake.goals.values()] });
    if ((m = /^activity\/goals\/([\w-]+)\/$/.exec(path))) {
      const goal = fake.goals.get(m[1]!);
      const answer = () => (goal ? send(res, 200, goal) : send(res, 404, 'Cannot GET ' + u.pathname));
      if (fake.holdGoalFetch) return void fake.holdGoalFetch.then(answer);
      return answer();
    }
    if (path === 'activity/summary/') {
      return u.searchParams.get('detail') === 'true'
        ? send(res, 200, { summary: SUMMARY })
        : send(res, 200, { activityCalories: 1449.2, calories: 16310.24, distance: 13.5227, points: 3550, steps: 34030 });
    }
    if (path === 'activity/sessions/') return send(res, 200, { sessions: SESSIONS });
    if (path === 'activity/sleeps/') return send(res, 200, { sleeps: SLEEPS });
    return send(res, 404, `Cannot GET ${u.pathname}`);
  });
  fake.url = url;
  return fake;
}
