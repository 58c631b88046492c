/**
 * CPU time read from Linux's /proc, for costs that a throughput ratio alone would blur on a shared machine:
 * the whole machine's busy time, and the PostgreSQL server's (every process named `postgres`: backends,
 * WAL writer, checkpointer; a process that exits between two readings, such as an autovacuum worker, is
 * only in the machine's figure for that stretch). Elsewhere (no /proc) every reading is undefined, and the
 * report leaves the figure out.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second: 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;
const MICROS_PER_TICK = 1_000_000 / TICKS_PER_SECOND;

/** Busy CPU time of the whole machine (all cores), in microseconds: user, nice, system, irq, softirq. */
export function machineBusyMicros(): number | undefined {
  try {
    const [cpuLine] = readFileSync('/proc/stat', 'utf8').split('\n');
    const ticks = (cpuLine ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = ticks;
    return (user + nice + system + irq + softirq) * MICROS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) used so far by each live process of the local PostgreSQL server, in microseconds, by pid. */
export type PostgresSample = ReadonlyMap<string, number>;

export function postgresSample(): PostgresSample | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const sample = new Map<string, number>();
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const end = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, end) !== 'postgres') continue;
      // After the command name: state is field 3, utime field 14 and stime field 15 (1-based).
      const fields = stat.slice(end + 2).split(' ');
      sample.set(pid, (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK);
    } catch {
      // The process ended while we read: its time is gone with it.
    }
  }
  return sample;
}

/**
 * The PostgreSQL server's CPU between two samples: each process's growth, a process started in between
 * counted whole. One that ended in between took its last stretch with it (never a negative share).
 */
export function postgresMicrosBetween(before: PostgresSample | undefined, after: PostgresSample | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  let total = 0;
  for (const [pid, micros] of after) total += Math.max(0, micros - (before.get(pid) ?? 0));
  return total;
}
