/**
 * The wire shapes of posture reports: what `arca check --report`, `arca etcd scan --report` and the
 * KMS plugin write under a KV v2 mount (posture.ts), and what the web UI's Posture page reads back
 * (web/src/pages/posture/derive.ts). No imports, so the UI's build takes this file as it is.
 */

/** A stored value's state in an etcd scan, worst first (the order of every table in the UI). */
export const VALUE_STATES = ['plaintext', 'undecryptable', 'stale', 'current'] as const;
export type ValueState = (typeof VALUE_STATES)[number];

export interface CheckSummary {
  kind: 'check';
  at: string;
  byStatus: Record<string, number>;
  /** failed findings per severity */
  failedBySeverity: Record<string, number>;
  findings: { id: string; status: string; severity: string; evidence?: string }[];
}

export interface ScanSummary {
  kind: 'etcd-scan';
  at: string;
  total: number;
  byState: Record<string, number>;
  /** provider → key name / kms key_id → count (key names and key_ids are not secret) */
  byProvider: Record<string, Record<string, number>>;
  byResource: Record<string, Record<string, number>>;
  /** object keys by state, only with details */
  objects?: { key: string; state: string }[];
}

export interface PluginSummary {
  kind: 'kms-plugin';
  at: string;
  node: string;
  /** where the KEK lives (transit mount/key or HSM label) */
  source: string;
  version: string;
  healthz: string;
  keyId: string;
}
