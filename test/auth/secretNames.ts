/**
 * The names README says are secrets, written out for the property tests rather than imported from
 * src/auth/visibility.ts: a name dropped there must turn those tests red.
 */
const NAMED = new Set([
  'encryptedPassword',
  'password',
  'client_secret',
  'secret',
  'token',
  'token_id',
  'access_token',
  'refresh_token',
  'apiTokens',
  'loginSessions',
]);

/** The secrets: the names above, and any name that says it is one (ending in Secret or _secret). */
export const SECRETS: { has(name: string): boolean } = {
  has: (name) => NAMED.has(name) || name.endsWith('Secret') || name.endsWith('_secret'),
};
