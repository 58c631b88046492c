/**
 * CPU time read from Linux's /proc, for costs that a throughput ratio alone would blur on a shared machine:
 * the whole machine's busy time, and the PostgreSQL server's (every process named `postgres`: backends,
 * WAL writer, checkpointer; a short-lived autovacuum worker that exits between two readings is only in the
 * machine's figure). Elsewhere (no /proc) every reading is undefined and the report says "not measured".
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

/** CPU time (user + system) of the local PostgreSQL server's processes that are alive now, in microseconds. */
export function postgresMicros(): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  let total = 0;
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const end = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, end) !== 'postgres') continue;
      // After the command name: state is field 3, utime field 14 and stime field 15 (1-based).
      const fields = stat.slice(end + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK;
    } catch {
      // The process ended while we read: its time is gone with it.
    }
  }
  return total;
}
