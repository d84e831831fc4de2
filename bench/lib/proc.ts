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
