/**
 * Benchmark reporting, per docs/benchmarks.md: every figure is a ratio against a baseline measured in
 * the same run, repeated (≥3 pairs), median ratio with min/max, one `BENCH {json}` line per figure,
 * also appended to bench/results/latest.jsonl.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  ratio: number;
  ratioMin?: number;
  ratioMax?: number;
  goal?: number;
  [extra: string]: unknown;
}

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'latest.jsonl');

export function report(fig: Figure): void {
  const line = `BENCH ${JSON.stringify(fig)}`;
  process.stdout.write(`${line}\n`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  appendFileSync(RESULTS, `${JSON.stringify({ ...fig, at: new Date().toISOString() })}\n`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface PairResult {
  value: number;
  baselineValue: number;
  extra?: Record<string, unknown>;
}

/**
 * Runs `rounds` back-to-back pairs (baseline, then subject) and reports the median ratio.
 * `higherIsBetter`: throughput (ratio = value/baseline); otherwise latency (ratio = baseline/value).
 */
export async function comparePairs(opts: {
  name: string;
  unit: string;
  baseline: string;
  goal?: number;
  rounds?: number;
  higherIsBetter?: boolean;
  /** Numeric `extra` fields also reported as their median over all pairs (`<field>Median`). */
  medians?: string[];
  pair: (round: number) => Promise<PairResult>;
}): Promise<Figure> {
  const rounds = opts.rounds ?? 3;
  const hib = opts.higherIsBetter ?? true;
  const results: PairResult[] = [];
  for (let i = 0; i < rounds; i++) results.push(await opts.pair(i));
  const ratios = results.map((r) => (hib ? r.value / r.baselineValue : r.baselineValue / r.value));
  const med = median(ratios);
  const idx = ratios.indexOf(ratios.slice().sort((a, b) => Math.abs(a - med) - Math.abs(b - med))[0]!);
  const chosen = results[idx]!;
  const fig: Figure = {
    name: opts.name,
    value: round3(chosen.value),
    unit: opts.unit,
    baseline: opts.baseline,
    baselineValue: round3(chosen.baselineValue),
    ratio: round3(med),
    ratioMin: round3(Math.min(...ratios)),
    ratioMax: round3(Math.max(...ratios)),
    ...(opts.goal === undefined ? {} : { goal: opts.goal }),
    ...(chosen.extra ?? {}),
  };
  for (const f of opts.medians ?? []) fig[`${f}Median`] = round3(median(results.map((r) => Number(r.extra?.[f]))));
  report(fig);
  return fig;
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
