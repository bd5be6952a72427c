/** Headers with their names in lower case, as Node and the server's own routes hand them over. */
export function lowerCaseNames<V>(headers: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
