/**
 * Where a form may send the browser back to (`returnTo`, after a log-in or a plugin's form): only a path on
 * this server. `//elsewhere` and `/\elsewhere` (which browsers read as `//elsewhere`) and `https://elsewhere`
 * are not, so no link can turn this server into a way to send people to another site.
 */
export function localPath(returnTo: unknown): string | undefined {
  return typeof returnTo === 'string' && returnTo.startsWith('/') && !returnTo.startsWith('//') && !returnTo.includes('\\')
    ? returnTo
    : undefined;
}
