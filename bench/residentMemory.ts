/**
 * A process's resident memory as /proc/PID/status tells it, in MB, in two parts: anonymous (V8's heap, C's heap,
 * stacks: the process's own) and file pages (the node binary's code and read-only data, shared libraries: shared
 * with every Node process, and the kernel may drop them and read them again). Linux only, as the benches are.
 */
import { readFile } from 'node:fs/promises';

export interface ResidentMemory {
  rss: number;
  anon: number;
  file: number;
}

export async function residentMemory(pid: number): Promise<ResidentMemory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const MB = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
  return { rss: MB('VmRSS'), anon: MB('RssAnon'), file: MB('RssFile') + MB('RssShmem') };
}
