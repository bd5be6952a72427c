/**
 * The one logger: structured JSON lines (pino) on stderr, so stdout stays for what commands print. The newest
 * lines are also kept in memory for /internal/log (Igor shows its igor.log there), so an admin can read them
 * from a browser without a shell on the machine.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactUrls } from './http/redact.ts';

export type { Logger };

const KEPT = 500;

/** Log lines never carry the credentials a URL held, whichever message or field put the URL there. */
function scrubbed(stream: DestinationStream): DestinationStream {
  return { write: (line: string) => stream.write(redactUrls(line)) };
}
const recent: string[] = [];

const memory: DestinationStream = scrubbed({
  write(line: string) {
    recent.push(line.endsWith('\n') ? line.slice(0, -1) : line);
    if (recent.length > KEPT * 2) recent.splice(0, recent.length - KEPT);
  },
});

/** The newest `count` log lines of this process, oldest first. */
export function recentLogLines(count = 100): string[] {
  return recent.slice(-Math.max(0, Math.min(count, KEPT)));
}

export function createLogger(level = 'info'): Logger {
  return pino(
    { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    // The logger's level chooses what is written; each stream takes all of it.
    pino.multistream([
      { level: 'trace', stream: scrubbed(pino.destination(2)) },
      { level: 'trace', stream: memory },
    ]),
  );
}

/** For tests and library use: a logger that keeps only what /internal/log shows (default: nothing). */
export function quietLogger(level = 'silent'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, memory);
}
