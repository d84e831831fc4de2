/**
 * One HTTP figure: Arca vs a bare node:http server returning the same body, both loaded by the same
 * wrk command from a separate process, back to back, ≥3 pairs, median ratio (see docs/benchmarks.md).
 * The bare server's rate is also the generator's ceiling on this machine in this run: it is printed as
 * `generatorCeiling`, with wrk's CPU use during that run (`generatorCpu`, 1.0 = wrk saturated).
 *
 * Each side's server CPU time per request (user+sys from /proc/PID/stat, all threads) is printed too,
 * with `cpuRatio` = bare µs / Arca µs and its median over the pairs. On this shared 2-core machine the
 * request rate follows the scheduler as much as the server; CPU per request does not, so it says what
 * the throughput ratio would be on an otherwise idle core. The event loop's own CPU µs per request
 * (`mainUsPerReq`, the main thread's on-CPU time from schedstat) and `mainRatio` = bare / Arca say what
 * bounds the ratio when a server's event loop is saturated (c16): it cannot exceed `mainRatio`.
 */
import { comparePairs, type Figure } from './report.ts';
import { mainThreadCpuUs, procCpu } from './proc.ts';
import { type WrkRequest, type WrkResult, wrk } from './wrk.ts';

/** One wrk run and the server's CPU µs per request during it: all threads, and the event loop's own. */
async function measured(r: WrkRequest, pid: number, connections: number, seconds: number): Promise<WrkResult & { cpuUs: number; mainUs: number }> {
  const busy = () => {
    const c = procCpu(pid);
    return c.userUs + c.sysUs;
  };
  const c0 = busy();
  const m0 = mainThreadCpuUs(pid);
  const w = await wrk(r, connections, seconds);
  const per = (us: number) => Math.round((us / w.requests) * 10) / 10;
  return { ...w, cpuUs: per(busy() - c0), mainUs: per(mainThreadCpuUs(pid) - m0) };
}

/** Short runs, more pairs: on this shared machine other loads come in bursts of seconds; a median of 5
 * one-second pairs rides them out better than 3 longer ones. */
export const WRK_SECONDS = 1;
export const WRK_ROUNDS = 5;

export async function compareHttp(opts: {
  name: string;
  arca: WrkRequest;
  bare: WrkRequest;
  /** PIDs of the two servers, for their CPU time. */
  arcaPid: number;
  barePid: number;
  connections: number;
  /** Name of the baseline in the figure; default bare-node-http. */
  baseline?: string;
  goal?: number;
  rounds?: number;
  seconds?: number;
  extra?: Record<string, unknown>;
  /** Extra fields computed from each pair (e.g. a p99 goal). */
  check?: (arca: WrkResult, bare: WrkResult) => Record<string, unknown>;
}): Promise<Figure> {
  const seconds = opts.seconds ?? WRK_SECONDS;
  // Warm-up both (JIT, connection pools) outside the measured pairs.
  await wrk(opts.bare, opts.connections, 1);
  await wrk(opts.arca, opts.connections, 1);
  return comparePairs({
    name: opts.name,
    unit: 'req/s',
    baseline: opts.baseline ?? 'bare-node-http',
    ...(opts.goal === undefined ? {} : { goal: opts.goal }),
    rounds: opts.rounds ?? WRK_ROUNDS,
    medians: ['cpuRatio', 'mainRatio'],
    pair: async () => {
      const b = await measured(opts.bare, opts.barePid, opts.connections, seconds);
      const a = await measured(opts.arca, opts.arcaPid, opts.connections, seconds);
      return {
        value: a.rps,
        baselineValue: b.rps,
        extra: {
          generator: `wrk -t1 -c${opts.connections} -d${seconds}s (separate process)`,
          generatorCeiling: Math.round(b.rps),
          generatorCpu: b.generatorCpu,
          connections: opts.connections,
          p50Ms: a.p50Ms,
          p99Ms: a.p99Ms,
          baselineP50Ms: b.p50Ms,
          baselineP99Ms: b.p99Ms,
          cpuUsPerReq: a.cpuUs,
          baselineCpuUsPerReq: b.cpuUs,
          cpuRatio: Math.round((b.cpuUs / a.cpuUs) * 1000) / 1000,
          mainUsPerReq: a.mainUs,
          baselineMainUsPerReq: b.mainUs,
          mainRatio: Math.round((b.mainUs / a.mainUs) * 1000) / 1000,
          ...opts.extra,
          ...(opts.check ? opts.check(a, b) : {}),
        },
      };
    },
  });
}
