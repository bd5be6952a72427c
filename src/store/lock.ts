/**
 * One process at a time per database directory: two writers would interleave their journals.
 *
 * A process that opens the directory leaves an entry `igor.lock.PID-START-BOOT` naming itself: its pid, when it
 * started (clock ticks since boot, /proc/PID/stat field 22) and the boot (/proc/sys/kernel/random/boot_id). An
 * entry counts only while that very process runs, so what a crash, a power cut or `kill -9` left behind never
 * keeps a server down: after a reboot the boot differs; a pid handed out again (to a `sleep`, or to the next
 * container's pid 1) belongs to a process that started at another time; a zombie is not running.
 *
 * Each opener first makes its own entry, then looks at the others: a live one means refusal (its own entry goes
 * again), a dead one is removed. Names are never reused, so removing a dead entry cannot remove a live one, and
 * of two processes starting at once at least one sees the other's entry: never two owners, at worst two
 * refusals. Where there is no /proc (macOS, the BSDs), `ps` tells the process's state and age instead.
 *
 * An `igor.lock` holding only a pid is what versions before this one left: it counts while that pid is a
 * running igor.
 */
import { execFile } from 'node:child_process';
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

export class DirectoryLockedError extends Error {}

/** A process, told apart from any other that had or will have its pid. */
export interface ProcessIdentity {
  pid: number;
  /** When it started, in the probe's unit (Linux: clock ticks since boot; elsewhere: seconds since 1970). */
  start: number;
  /** Which boot of the machine (Linux's boot_id; elsewhere "any", the start time telling enough). */
  boot: string;
}

/** How the lock sees processes; one per kind of system. */
export interface ProcessProbe {
  self(): Promise<ProcessIdentity>;
  /** True while the process `who` names is running (not gone, not a zombie, not another process with its pid). */
  running(who: ProcessIdentity): Promise<boolean>;
  /** The command line of a running pid, for the legacy lock file; undefined if it is not running. */
  commandLine(pid: number): Promise<string | undefined>;
}

const LEGACY = 'igor.lock';
const ENTRY = /^igor\.lock\.(\d+)-(\d+)-([0-9a-z-]+)$/;

/** Linux: the state and start time of a pid from /proc, undefined when it is gone. */
async function procStat(pid: number): Promise<{ state: string; start: number } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => undefined);
  if (text === undefined) return undefined;
  // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so count fields from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', start: Number(fields[19]) };
}

export const linuxProbe: ProcessProbe = {
  async self() {
    const stat = await procStat(process.pid);
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'latin1')).trim().toLowerCase();
    return { pid: process.pid, start: stat!.start, boot };
  },
  async running(who) {
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'latin1')).trim().toLowerCase();
    if (who.boot !== boot) return false;
    const stat = await procStat(who.pid);
    return !!stat && stat.start === who.start && stat.state !== 'Z' && stat.state !== 'X';
  },
  async commandLine(pid) {
    const stat = await procStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
    return cmdline?.replaceAll('\0', ' ');
  },
};

const run = promisify(execFile);

/** Elsewhere: `ps -o stat=,etime=,args=` (POSIX's elapsed time; every ps has stat) for a pid. */
async function ps(pid: number): Promise<{ state: string; start: number; args: string } | undefined> {
  const { stdout } = await run('ps', ['-o', 'stat=,etime=,args=', '-p', String(pid)]).catch(() => ({ stdout: '' }));
  const m = /^\s*(\S+)\s+(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)\s+(.*)$/.exec(stdout.trim());
  if (!m) return undefined;
  const [, state = '', days = '0', hours = '0', minutes = '0', seconds = '0', args = ''] = m;
  const elapsed = ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
  return { state, start: Math.round(Date.now() / 1000) - elapsed, args };
}

export const psProbe: ProcessProbe = {
  async self() {
    return { pid: process.pid, start: Math.round(Date.now() / 1000 - process.uptime()), boot: 'any' };
  },
  async running(who) {
    const found = await ps(who.pid);
    // ps says the age to the second, and its clock and ours may be read a second apart.
    return !!found && !found.state.startsWith('Z') && Math.abs(found.start - who.start) <= 2;
  },
  async commandLine(pid) {
    const found = await ps(pid);
    return found && !found.state.startsWith('Z') ? found.args : undefined;
  },
};

export const defaultProbe: ProcessProbe = process.platform === 'linux' ? linuxProbe : psProbe;

/** Directories this process holds: a second opening from within it is refused too. */
const held = new Set<string>();

export interface DirectoryLock {
  /** Removes this process's entry. */
  release(): Promise<void>;
  /** Leaves the entry as a crash would, and lets this process take the directory again (for crash tests). */
  abandon(): void;
}

function entryName(who: ProcessIdentity): string {
  return `igor.lock.${who.pid}-${who.start}-${who.boot}`;
}

function parseEntry(name: string): ProcessIdentity | undefined {
  const m = ENTRY.exec(name);
  return m ? { pid: Number(m[1]), start: Number(m[2]), boot: m[3]! } : undefined;
}

/** The pid of a live process another entry names (or the legacy file does), removing the entries of dead ones. */
async function liveOwner(dir: string, mine: string, probe: ProcessProbe): Promise<number | undefined> {
  let owner: number | undefined;
  for (const name of await readdir(dir)) {
    if (name === mine) continue;
    if (name === LEGACY) {
      const pid = Number((await readFile(resolve(dir, name), 'utf8').catch(() => '')).trim());
      const command = pid && pid !== process.pid ? await probe.commandLine(pid) : undefined;
      if (command && /igor/.test(command)) owner = pid;
      else await unlink(resolve(dir, name)).catch(() => {});
      continue;
    }
    const who = parseEntry(name);
    if (!who) continue;
    if (await probe.running(who)) owner = who.pid;
    else await unlink(resolve(dir, name)).catch(() => {});
  }
  return owner;
}

export async function lockDirectory(dir: string, probe: ProcessProbe = defaultProbe): Promise<DirectoryLock> {
  const key = resolve(dir);
  if (held.has(key)) throw new DirectoryLockedError(`${dir} is in use by this process already`);
  held.add(key);
  const mine = entryName(await probe.self());
  const path = resolve(dir, mine);
  try {
    // 'w', not 'wx': an entry by this very name is one this process abandoned (crash tests), and is ours again.
    const handle = await open(path, 'w', 0o644);
    await handle.writeFile(`${process.pid}\n`).finally(() => handle.close());
    const owner = await liveOwner(dir, mine, probe);
    if (owner !== undefined) {
      await unlink(path).catch(() => {});
      throw new DirectoryLockedError(`${dir} is in use by process ${owner} (an igor server?); stop it first`);
    }
  } catch (err) {
    held.delete(key);
    throw err;
  }
  return {
    release: () => {
      held.delete(key);
      return unlink(path).catch(() => {});
    },
    abandon: () => held.delete(key),
  };
}
