/** One catalogue check: id, default severity and fix from the reference, and its evaluation. */
import type { CheckContext } from './context.ts';
import type { Severity, Status } from './types.ts';

export interface Verdict {
  status: Status;
  evidence: string;
  /** overrides the check's default severity (e.g. aescbc Medium vs kms v1 High) */
  severity?: Severity;
}

export interface CheckDef {
  id: string;
  title: string;
  severity: Severity;
  fix: string;
  run(ctx: CheckContext): Promise<Verdict> | Verdict;
}

export const pass = (evidence: string): Verdict => ({ status: 'pass', evidence });
export const fail = (evidence: string, severity?: Severity): Verdict => (severity ? { status: 'fail', evidence, severity } : { status: 'fail', evidence });
export const warn = (evidence: string, severity?: Severity): Verdict => (severity ? { status: 'warn', evidence, severity } : { status: 'warn', evidence });
export const skip = (evidence: string): Verdict => ({ status: 'skip', evidence });

export const NO_APISERVER = 'kube-apiserver manifest not found (not a control-plane node, or wrong --manifests)';
export const NO_ETCD = 'etcd manifest not found: etcd is external or on other nodes; run the check on the etcd hosts';
export const NO_KUBELET = 'kubelet inputs not found (give --kubelet-config and/or --kubelet-flags)';
