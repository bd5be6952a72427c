/**
 * What went wrong at a provider, in the plugin's own vocabulary: each protocol client translates its
 * provider's errors into one of these (once), and sync.ts turns them into what the host and a person
 * understand (re-authorise, try later, a refused request), always as one sentence, never the provider's JSON.
 */
export type Problem =
  /** Only the person can fix it: a scope they did not grant (missingScope), an account the provider does not know. */
  | { kind: 'reauthorise'; why: string; missingScope?: boolean }
  /** The provider asks us to slow down; retryAfter in seconds when it said. */
  | { kind: 'rateLimited'; retryAfter?: number }
  /** The provider failed or could not be reached: the next fetch tries again. */
  | { kind: 'later'; why: string }
  /** The provider refused what we asked (a bug here, or an argument the caller gave). */
  | { kind: 'refused'; why: string };

export class ProviderProblem extends Error {
  constructor(readonly problem: Problem) {
    super(
      problem.kind === 'rateLimited'
        ? `rate limited${problem.retryAfter !== undefined ? ` for ${problem.retryAfter} s` : ''}`
        : problem.why,
    );
  }
}

/** Retry-After as seconds (a number or an HTTP date), or undefined. */
export function retryAfterSeconds(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}
