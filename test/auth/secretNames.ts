/**
 * The names README says are secrets, written out for the property tests rather than imported from
 * src/auth/visibility.ts: a name dropped there must turn those tests red.
 */
export const SECRETS: ReadonlySet<string> = new Set([
  'encryptedPassword',
  'password',
  'client_secret',
  'secret',
  'token',
  'token_id',
  'access_token',
  'refresh_token',
  'apiTokens',
]);
