/**
 * API tokens for scripts and devices: `igor_<id>_<secret>`, sent as `Authorization: Bearer …`. Kept under
 * identities/U/apiTokens/token (id, SHA-256 of the secret, path, rights, expires): the token itself is shown
 * once when made and never stored. A token acts as its user, narrowed to a subtree and some methods.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadRequestError, NotFoundError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { isTagName } from '../tree/xmlNames.ts';
import { elementFromJson } from '../tree/jsonxml.ts';
import { absolutePath } from '../tree/paths.ts';
import { parseSimplePath } from '../tree/simplePath.ts';
import type { Right, TokenScope } from './principal.ts';

const RIGHTS = new Set<Right>(['get', 'put', 'post', 'delete']);
const TOKEN = /^igor_([0-9a-f]{16})_([\w-]{32})$/;

export interface TokenSpec {
  user: string;
  /** A simple path such as /data/sensors/x (no predicates). */
  path: string;
  rights: Right[];
  /** Seconds since the epoch, or undefined for no expiry. */
  expires?: number;
  comment?: string;
}

export function parseRights(list: string): Right[] {
  const rights = list
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .filter(Boolean);
  const bad = rights.filter((r) => !RIGHTS.has(r as Right));
  if (bad.length || rights.length === 0)
    throw new BadRequestError(`rights are a comma-separated list of get, put, post, delete; not "${list}"`);
  return rights as Right[];
}

function scopePath(path: string): string[] {
  const steps = parseSimplePath(absolutePath(path));
  if (!steps || steps[0]?.name !== 'data' || steps.some((s) => s.position !== undefined || s.name === '*')) {
    throw new BadRequestError(`a token's path is a plain path under /data such as /data/sensors/x, not "${path}"`);
  }
  return steps.slice(1).map((s) => s.name);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export async function createToken(db: Database, spec: TokenSpec): Promise<{ id: string; token: string }> {
  if (!isTagName(spec.user) || db.tree.select(`/data/identities/${spec.user}`).length === 0)
    throw new NotFoundError(`there is no user ${spec.user}`);
  const path = scopePath(spec.path);
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const record = {
    id,
    hash: sha256(secret),
    path: '/data/' + path.join('/'),
    rights: spec.rights.join(','),
    created: Math.floor(Date.now() / 1000),
    ...(spec.expires !== undefined ? { expires: spec.expires } : {}),
    ...(spec.comment ? { comment: spec.comment } : {}),
  };
  await db.write((t) => t.post(`/data/identities/${spec.user}/apiTokens/token`, elementFromJson(t.doc, 'token', record)));
  return { id, token: `igor_${id}_${secret}` };
}

export interface TokenInfo {
  id: string;
  user: string;
  path: string;
  rights: string;
  expires?: number;
  comment?: string;
}

export function listTokens(db: Database): TokenInfo[] {
  return (db.tree.select('/data/identities/*/apiTokens/token') as Element[]).map((el) => {
    const field = (n: string) => el.getElementsByTagName(n)[0]?.textContent ?? undefined;
    const expires = field('expires');
    return {
      id: field('id') ?? '',
      user: (el.parentNode!.parentNode as Element).nodeName,
      path: field('path') ?? '',
      rights: field('rights') ?? '',
      ...(expires ? { expires: Number(expires) } : {}),
      ...(field('comment') ? { comment: field('comment') } : {}),
    };
  });
}

export async function revokeToken(db: Database, id: string): Promise<void> {
  if (!/^[0-9a-f]{16}$/.test(id) || db.tree.select(`/data/identities/*/apiTokens/token[id='${id}']`).length === 0) {
    throw new NotFoundError(`there is no token ${id}`);
  }
  await db.write((t) => t.delete(`/data/identities/*/apiTokens/token[id='${id}']`));
}

/** The user and scope of a presented token, or undefined if it is not a valid, unexpired token. */
export function checkToken(db: Database, presented: string, now = Date.now()): { user: string; scope: TokenScope } | undefined {
  const m = TOKEN.exec(presented);
  if (!m) return undefined;
  const [, id, secret] = m;
  const el = db.tree.select(`/data/identities/*/apiTokens/token[id='${id}']`)[0] as Element | undefined;
  if (!el) return undefined;
  const field = (n: string) => el.getElementsByTagName(n)[0]?.textContent ?? '';
  const stored = Buffer.from(field('hash'), 'hex');
  const given = Buffer.from(sha256(secret!), 'hex');
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
  const expires = field('expires');
  if (expires && Number(expires) * 1000 < now) return undefined;
  return {
    user: (el.parentNode!.parentNode as Element).nodeName,
    scope: { path: field('path').split('/').filter(Boolean).slice(1), rights: new Set(parseRights(field('rights'))) },
  };
}
