/**
 * /internal/updateStatus/REPRESENTING (igor-reference, "Internal commands"): how Igor's scripts, plugins and
 * clients report on a service, sensor or device. Igor takes it in every form its callers use: a GET with the query
 * (`?alive=1`), a POST with a JSON object (its actions) or a form (its timemachine plugin, which puts
 * `representing` in the body too). `lastActivity` defaults to now and a given `lastSuccess` is kept; a dict
 * `resultData` becomes fields of its own, a string one the errorMessage of a failure.
 */
import type { Request, Response, Router } from 'express';
import { BadRequestError } from '../errors.ts';
import { recordStatus, type Outcome } from '../status.ts';
import { getOwn, setOwn, type Json } from '../tree/jsonxml.ts';
import { formObject, jsonObjectOf } from '../tree/payload.ts';
import { hasBody, readBody } from './body.ts';
import type { HostContext } from './context.ts';
import { answerText, queryOf } from './negotiate.ts';

/** What this route uses of the host. */
type Deps = Pick<HostContext, 'config' | 'db'>;

type Report = { [key: string]: Json };

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

/** The report: query parameters, with a body's fields (JSON object or form) over them. */
async function reportOf(ctx: Deps, req: Request): Promise<Report> {
  const report: Report = formObject(queryOf(req));
  if (!hasBody(req)) return report;
  const raw = await readBody(req, ctx.config.maxBodyBytes);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const body = type.startsWith('application/x-www-form-urlencoded')
    ? formObject(new URLSearchParams(raw.toString('utf8')))
    : jsonObjectOf(raw, 'a JSON object {alive, resultData, errorMessage}, or a form');
  // Own properties only, as everywhere: a field named __proto__ is a field, never the report's prototype.
  for (const [key, value] of Object.entries(body)) setOwn(report, key, value);
  return report;
}

/** `alive` as Igor's callers send it: a JSON boolean, or text (`1`, `true`; `0`, `false`, empty). */
function aliveOf(value: Json | undefined): boolean {
  if (typeof value === 'boolean') return value;
  if (value === undefined || value === null) return false;
  const text = String(value).trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new BadRequestError(`alive=${String(value)}: say true or false (1 or 0)`);
}

/** A time in seconds since the epoch, if given. */
function secondsOf(value: Json | undefined, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (typeof value === 'object' || !Number.isFinite(n) || n < 0)
    throw new BadRequestError(`${name} must be seconds since 1970, not ${JSON.stringify(value)}`);
  return n;
}

/** Which status the report is about: the path (Igor's subcommand) or `representing`, without a leading /data/. */
function representingOf(req: Request, report: Report): string {
  const fromPath = (req.params as { representing?: string | string[] }).representing;
  const given = fromPath !== undefined ? ([] as string[]).concat(fromPath).join('/') : getOwn(report, 'representing');
  if (typeof given !== 'string' || given === '')
    throw new BadRequestError('say which status: /internal/updateStatus/REPRESENTING, or representing= (e.g. sensors/thermometer)');
  return given.replace(/^\/?data\//, '');
}

async function updateStatus(ctx: Deps, req: Request, res: Response): Promise<void> {
  const report = await reportOf(ctx, req);
  const representing = representingOf(req, report);
  const data = getOwn(report, 'resultData');
  const fields = data && typeof data === 'object' && !Array.isArray(data) ? data : {};
  const said = getOwn(report, 'errorMessage');
  const outcome: Outcome = {
    ok: aliveOf(getOwn(report, 'alive')),
    message: typeof said === 'string' && said ? said : typeof data === 'string' ? data : undefined,
    lastActivity: secondsOf(getOwn(report, 'lastActivity'), 'lastActivity'),
    lastSuccess: secondsOf(getOwn(report, 'lastSuccess'), 'lastSuccess'),
  };
  await recordStatus(ctx.db, representing, outcome, fields);
  // Igor answers nothing; our clients have always had OK.
  answerText(req, res, 'OK');
}

export function updateStatusRoutes(router: Router, ctx: Deps): void {
  router.all(['/internal/updateStatus', '/internal/updateStatus/*representing'], (req, res) => updateStatus(ctx, req, res));
}
