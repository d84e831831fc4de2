/**
 * One HTTP figure: Arca vs a bare node:http server returning the same body, both loaded by the same
 * wrk command from a separate process, back to back, ≥3 pairs, median ratio (see ../shared/BENCH.md).
 * The bare server's rate is also the generator's ceiling on this machine in this run: it is printed as
 * `generatorCeiling`, with wrk's CPU use during that run (`generatorCpu`, 1.0 = wrk saturated).
 */
import { comparePairs, type Figure } from './report.ts';
import { type WrkRequest, type WrkResult, wrk } from './wrk.ts';

/** Short runs, more pairs: on this shared machine other loads come in bursts of seconds; a median of 5
 * one-second pairs rides them out better than 3 longer ones. */
export const WRK_SECONDS = 1;
export const WRK_ROUNDS = 5;

export async function compareHttp(opts: {
  name: string;
  arca: WrkRequest;
  bare: WrkRequest;
  connections: number;
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
    baseline: 'bare-node-http',
    ...(opts.goal === undefined ? {} : { goal: opts.goal }),
    rounds: opts.rounds ?? WRK_ROUNDS,
    pair: async () => {
      const b = await wrk(opts.bare, opts.connections, seconds);
      const a = await wrk(opts.arca, opts.connections, seconds);
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
          ...opts.extra,
          ...(opts.check ? opts.check(a, b) : {}),
        },
      };
    },
  });
}
