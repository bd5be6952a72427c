/**
 * A time limit for XPath evaluation. The engine is synchronous and cannot be interrupted from outside, so it
 * counts its own work — every node added to a node-set, every predicate tested — and checks the clock every
 * few thousand steps: an expression such as //*[count(//*) > 0] over a large tree is stopped with a clear
 * error instead of freezing the server. Actions' conditions and triggers run under the same limit.
 */
import { BadRequestError } from '../errors.ts';

/** The longest one evaluation may take (ms); set from --xpath-timeout-ms. */
let limitMs = 2000;
let deadline = Infinity;
let steps = 0;
let depth = 0;

export class XPathTooCostlyError extends BadRequestError {
  constructor(message: string) {
    super(message, 'xpath_too_costly');
  }
}

export function setXPathTimeLimit(ms: number): void {
  limitMs = ms;
}

/** Counts one step of work; throws when the evaluation under way is over its time. */
export function tick(): void {
  if ((++steps & 4095) === 0 && Date.now() > deadline) {
    throw new XPathTooCostlyError(
      `the XPath expression took more than ${limitNow} ms to evaluate; ask for less (a narrower path, fewer predicates)`,
    );
  }
}

let limitNow = limitMs;

/** Runs an evaluation under the time limit, or a shorter one given (nested evaluations share the outer deadline). */
export function withinTimeLimit<T>(work: () => T, ms = limitMs): T {
  if (depth++ === 0) {
    limitNow = ms;
    deadline = Date.now() + ms;
    steps = 0;
  }
  try {
    return work();
  } finally {
    if (--depth === 0) deadline = Infinity;
  }
}
