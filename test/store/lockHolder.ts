/**
 * A process of its own that takes a database directory's lock (test/store/lock.test.ts): it prints `locked PID`
 * or `refused MESSAGE`, then holds on until its standard input closes, so that a test decides when it lets go
 * (with `--forever`, until it is killed).
 */
import { lockDirectory } from '../../src/store/lock.ts';

const dir = process.argv[2]!;
try {
  const lock = await lockDirectory(dir);
  process.stdout.write(`locked ${process.pid}\n`);
  if (process.argv[3] === '--forever') setInterval(() => {}, 1 << 30);
  else {
    process.stdin.resume();
    process.stdin.on('end', () => void lock.release());
  }
} catch (err) {
  process.stdout.write(`refused ${(err as Error).message}\n`);
}
