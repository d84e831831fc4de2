/** Findings of the control-plane hardening check (ids from the CPH catalogue, never renumbered). */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Status = 'pass' | 'fail' | 'warn' | 'skip';

export interface Finding {
  id: string;
  status: Status;
  severity: Severity;
  /** where the verdict comes from: file + flag/key and the value read (never a secret value) */
  evidence: string;
  fix: string;
}

export const SEVERITY_ORDER: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/**
 * Exit code by the worst severity among failed findings. 1 and 2 keep their CLI-wide meaning
 * (usage error, runtime error), so severities start at 3. `warn` and `skip` never change it.
 */
export const EXIT_BY_SEVERITY: Readonly<Record<Severity, number>> = { info: 0, low: 3, medium: 4, high: 5, critical: 6 };

export function worstFailure(findings: readonly Finding[]): Severity | undefined {
  let worst = -1;
  for (const f of findings) if (f.status === 'fail') worst = Math.max(worst, SEVERITY_ORDER.indexOf(f.severity));
  return worst < 0 ? undefined : SEVERITY_ORDER[worst];
}

export function exitCodeFor(findings: readonly Finding[]): number {
  const w = worstFailure(findings);
  return w ? EXIT_BY_SEVERITY[w] : 0;
}
