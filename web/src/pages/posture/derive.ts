// Pure parts of the Posture page: the report shapes of src/k8s/report/shapes.ts (the one definition,
// shared with the writers) read defensively (any token with the writer policy can store anything
// under posture/), the verdicts, and the plugin staleness rule. No DOM, no fetch: unit-tested from
// test/ui/posture.test.ts.
import { type CheckSummary, type PluginSummary, type ScanSummary, VALUE_STATES, type ValueState } from '../../../../src/k8s/report/shapes.ts';

/** The scan's state names, worst first: the order of every table. */
export const STATES = VALUE_STATES;
export type ScanState = ValueState;

export const STATE_TEXT: Record<ScanState, { label: string; tone: Tone; meaning: string }> = {
  plaintext: { label: 'Plaintext', tone: 'bad', meaning: 'stored unencrypted in etcd' },
  undecryptable: { label: 'Undecryptable', tone: 'bad', meaning: 'no configured key can decrypt it' },
  stale: { label: 'Stale key', tone: 'warn', meaning: 'encrypted, but not with the current key (arca etcd rewrite)' },
  current: { label: 'Current key', tone: 'ok', meaning: 'encrypted with the first provider’s current key' },
};

/** The state column headers, in STATES order. */
export const STATE_LABELS = STATES.map((s) => STATE_TEXT[s].label);

export type Tone = 'bad' | 'warn' | 'ok' | 'neutral';
export type Counts = Record<ScanState, number>;

/** What the page reads of each report: the writers' shape, with every count present and checked. */
export type ScanReport = Omit<ScanSummary, 'kind' | 'byState' | 'byResource'> & { byState: Counts; byResource: Record<string, Counts> };
export type CheckFinding = Omit<CheckSummary['findings'][number], 'evidence'>;
export type CheckReport = Omit<CheckSummary, 'kind' | 'findings'> & { findings: CheckFinding[] };
export type PluginReport = Omit<PluginSummary, 'kind'>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

function numbers(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObj(v)) for (const [k, n] of Object.entries(v)) out[k] = num(n);
  return out;
}

export function counts(v: unknown): Counts {
  const n = numbers(v);
  return { plaintext: n['plaintext'] ?? 0, undecryptable: n['undecryptable'] ?? 0, stale: n['stale'] ?? 0, current: n['current'] ?? 0 };
}

export function parseScan(v: unknown): ScanReport | undefined {
  if (!isObj(v) || v['kind'] !== 'etcd-scan') return undefined;
  const byResource: Record<string, Counts> = {};
  if (isObj(v['byResource'])) for (const [r, c] of Object.entries(v['byResource'])) byResource[r] = counts(c);
  const byProvider: Record<string, Record<string, number>> = {};
  if (isObj(v['byProvider'])) for (const [p, c] of Object.entries(v['byProvider'])) byProvider[p] = numbers(c);
  const s: ScanReport = { at: str(v['at']), total: num(v['total']), byState: counts(v['byState']), byProvider, byResource };
  if (Array.isArray(v['objects'])) s.objects = v['objects'].filter(isObj).map((o) => ({ key: str(o['key']), state: str(o['state']) }));
  return s;
}

export function parseCheck(v: unknown): CheckReport | undefined {
  if (!isObj(v) || v['kind'] !== 'check') return undefined;
  const findings = Array.isArray(v['findings'])
    ? v['findings'].filter(isObj).map((f) => ({ id: str(f['id']), status: str(f['status']), severity: str(f['severity']) }))
    : [];
  return { at: str(v['at']), byStatus: numbers(v['byStatus']), failedBySeverity: numbers(v['failedBySeverity']), findings };
}

export function parsePlugin(v: unknown): PluginReport | undefined {
  if (!isObj(v) || v['kind'] !== 'kms-plugin') return undefined;
  return { at: str(v['at']), node: str(v['node']), source: str(v['source']), version: str(v['version']), healthz: str(v['healthz']), keyId: str(v['keyId']) };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Resources holding values in a state, most first: "configmaps (3), secrets (1)". */
export function resourcesIn(scan: ScanReport, state: ScanState): string {
  return Object.entries(scan.byResource)
    .filter(([, c]) => c[state] > 0)
    .sort((a, b) => b[1][state] - a[1][state] || a[0].localeCompare(b[0]))
    .map(([r, c]) => `${r} (${c[state]})`)
    .join(', ');
}

export interface Verdict {
  tone: Tone;
  text: string;
}

/** Words for what a scan counted: "secrets" when it covered only secrets (the usual --resources), else "objects". */
const NOUNS: Record<string, [string, string]> = { secrets: ['secret', 'secrets'], configmaps: ['configmap', 'configmaps'] };

/** What the latest scan means, worst first; the first line is the cluster's headline. */
export function scanVerdicts(scan: ScanReport | undefined): Verdict[] {
  if (!scan) return [{ tone: 'neutral', text: 'No etcd scan reported: the encryption of stored data is unknown.' }];
  const resources = Object.keys(scan.byResource);
  const single = resources.length === 1 ? NOUNS[resources[0]!] : undefined;
  const [one, many] = single ?? ['object', 'objects'];
  const n = (k: number) => plural(k, one, many);
  // With one resource the per-resource list would only repeat the noun.
  const where = (st: ScanState) => (single ? '.' : `: ${resourcesIn(scan, st)}.`);
  const s = scan.byState;
  const out: Verdict[] = [];
  if (s.plaintext > 0) out.push({ tone: 'bad', text: `${n(s.plaintext)} stored in plaintext${where('plaintext')}` });
  if (s.undecryptable > 0) out.push({ tone: 'bad', text: `${n(s.undecryptable)} cannot be decrypted with any configured key${where('undecryptable')}` });
  if (s.stale > 0) out.push({ tone: 'warn', text: `${n(s.stale)} encrypted with an old key (stale)${where('stale')}` });
  if (out.length === 0) {
    out.push(scan.total === 0 ? { tone: 'neutral', text: 'The last etcd scan found no objects.' } : { tone: 'ok', text: `All ${n(scan.total)} encrypted with the current key.` });
  }
  return out;
}

/** The severities of arca check, worst first (src/k8s/check/types.ts). */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;

export function severityTone(sev: string): Tone {
  return sev === 'critical' || sev === 'high' ? 'bad' : sev === 'medium' ? 'warn' : 'neutral';
}

export function failedFindings(check: CheckReport): CheckFinding[] {
  const rank = (s: string) => {
    const i = (SEVERITIES as readonly string[]).indexOf(s);
    return i < 0 ? SEVERITIES.length : i;
  };
  return check.findings.filter((f) => f.status === 'fail').sort((a, b) => rank(a.severity) - rank(b.severity) || a.id.localeCompare(b.id));
}

/**
 * A plugin report is stale after STALE_AFTER missed intervals. The report does not carry its
 * interval, so it is estimated from the gaps between the report's stored versions (the plugin
 * writes one per interval); with a single version the documented example (1m) is assumed.
 */
export const STALE_AFTER = 3;
export const DEFAULT_INTERVAL_MS = 60_000;

/** Median gap between consecutive times (ISO strings), or undefined with fewer than two. */
export function estimateInterval(times: string[]): number | undefined {
  const ms = times
    .map((t) => Date.parse(t))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < ms.length; i++) gaps.push(ms[i]! - ms[i - 1]!);
  const pos = gaps.filter((g) => g > 0).sort((a, b) => a - b);
  if (pos.length === 0) return undefined;
  return pos[Math.floor((pos.length - 1) / 2)]!;
}

export interface Freshness {
  ageMs: number;
  intervalMs: number;
  estimated: boolean;
  thresholdMs: number;
  stale: boolean;
}

export function freshness(at: string, versionTimes: string[], now: number): Freshness {
  const est = estimateInterval(versionTimes);
  const intervalMs = est ?? DEFAULT_INTERVAL_MS;
  const thresholdMs = STALE_AFTER * intervalMs;
  const t = Date.parse(at);
  // A report without a readable time counts as stale: nothing says the plugin is alive.
  const ageMs = Number.isFinite(t) ? Math.max(0, now - t) : Number.POSITIVE_INFINITY;
  return { ageMs, intervalMs, estimated: est !== undefined, thresholdMs, stale: ageMs > thresholdMs };
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}

/** "transit/k8s-kek" → the transit key the plugin uses; HSM sources ("pkcs11/…") have no server record. */
export function transitKeyOf(source: string): { mount: string; key: string } | undefined {
  if (!source || source.startsWith('pkcs11/')) return undefined;
  const i = source.lastIndexOf('/');
  if (i <= 0 || i === source.length - 1) return undefined;
  return { mount: source.slice(0, i), key: source.slice(i + 1) };
}

export interface KeyVersions {
  latest: number;
  /** version → creation time (unix seconds, Vault's `keys` map) */
  created: Record<string, number>;
  /** version → KMS key_id (Arca's `version_ids`) */
  ids: Record<string, string>;
  minDecryption: number;
}

export function parseKeyRead(v: unknown): KeyVersions | undefined {
  if (!isObj(v)) return undefined;
  const ids: Record<string, string> = {};
  if (isObj(v['version_ids'])) for (const [n, id] of Object.entries(v['version_ids'])) ids[n] = str(id);
  return { latest: num(v['latest_version']), created: numbers(v['keys']), ids, minDecryption: num(v['min_decryption_version']) };
}

/** The transit version a plugin's key_id names, if any. */
export function versionOfKeyId(k: KeyVersions, keyId: string): number | undefined {
  const hit = Object.entries(k.ids).find(([, id]) => id === keyId);
  return hit ? Number(hit[0]) : undefined;
}

/** A report time for auditors: UTC, to the minute, the same in every browser. */
export function formatTime(iso: string | number): string {
  const t = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(t)) return 'unknown time';
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
