/**
 * CPU time from /proc/<pid>/stat (Linux): the process's own user/sys time (all threads) and that of
 * its waited-for children, in µs. The kernel counts in USER_HZ ticks, which is 100 on Linux.
 */
import { readFileSync } from 'node:fs';

const TICK_US = 10_000;

export interface ProcCpu {
  userUs: number;
  sysUs: number;
  childrenUs: number;
}

export function procCpu(pid: number | 'self'): ProcCpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)" (which may contain spaces): utime, stime, cutime, cstime are 14–17 in proc(5).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userUs: Number(f[11]) * TICK_US, sysUs: Number(f[12]) * TICK_US, childrenUs: (Number(f[13]) + Number(f[14])) * TICK_US };
}

/**
 * On-CPU time of a process's main thread (Node's event loop: the thread whose id is the PID), in µs,
 * from /proc/<pid>/task/<pid>/schedstat (nanoseconds, first field). A Node server whose event loop is
 * busy all the time cannot answer faster than this allows, however idle the other cores are.
 */
export function mainThreadCpuUs(pid: number): number {
  const [runNs] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ');
  return Number(runNs) / 1000;
}
