/**
 * The user name and password a URL may carry (`https://user:secret@host/`) are credentials: no message, log
 * line or status record shows them. One rule, for every text that may hold a URL.
 */

/** Any URL's user information, anywhere in a text. */
const CREDENTIALS_IN_URL = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;

/** `text` with every URL's user name and password replaced by `***`. */
export function redactUrls(text: string): string {
  return text.includes('@') ? text.replace(CREDENTIALS_IN_URL, '$1***@') : text;
}
