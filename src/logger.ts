/** The one logger: structured JSON lines (pino) on stderr, so stdout stays for what commands print. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/** For tests and library use: a logger that drops everything below `level` (default: silent). */
export function quietLogger(level = 'silent'): Logger {
  return pino({ level });
}
