/**
 * Vault's control-group policy syntax (Enterprise in Vault, open here), on a path stanza:
 *
 *   control_group = {
 *     ttl = "4h"                        # how long a request waits for approval (default 24h)
 *     factor "key-admins" {
 *       identity { group_names = ["key-admins"]  approvals = 2 }
 *       controlled_capabilities = ["update", "delete"]   # optional: only these operations
 *       require_mfa_within = "15m"   # Arca: approvers must have logged in with MFA this recently
 *     }
 *   }
 *
 * Every factor must be satisfied. `approvals = 0` or no group names parse, but the core refuses such a
 * request outright: zero approvers means denied, never allowed.
 */
import { ArcaError } from '../errors/index.ts';
import { parseDuration } from '../units/duration.ts';
import { type Capability, isCapability } from './types.ts';

export interface ControlGroupFactor {
  readonly name: string;
  readonly groupNames: readonly string[];
  readonly approvals: number;
  /** Operations the factor applies to; empty = all. */
  readonly capabilities: readonly Capability[];
  /** Arca extension `require_mfa_within`: approvers' tokens must come from an MFA login this recent (seconds; 0 = no). */
  readonly mfaWithin: number;
}

export interface ControlGroup {
  /** Seconds a request may wait for approval. */
  readonly ttl: number;
  readonly factors: readonly ControlGroupFactor[];
}

export const DEFAULT_CONTROL_GROUP_TTL = 24 * 3600;
/** Upper bound on approvals: larger quorums are almost certainly typos. */
export const MAX_APPROVALS = 100;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const one = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : v);

function invalid(where: string, what: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', `failed to parse policy: ${where}: control_group: ${what}`);
}

export function parseControlGroup(raw: unknown, where: string): ControlGroup {
  const cg = one(raw);
  if (!isRecord(cg)) throw invalid(where, 'must be a block with factor "<name>" { ... }');
  for (const k of Object.keys(cg)) if (k !== 'ttl' && k !== 'factor' && k !== 'max_ttl') throw invalid(where, `unknown key "${k.slice(0, 64)}"`);
  let ttl = DEFAULT_CONTROL_GROUP_TTL;
  const t = cg['ttl'] ?? cg['max_ttl'];
  if (t !== undefined) {
    try {
      ttl = parseDuration(t, { field: 'control_group.ttl', min: 1, max: 30 * 86400 });
    } catch {
      throw invalid(where, 'ttl must be a duration from 1s to 720h');
    }
  }
  const factorsRaw = one(cg['factor']);
  if (!isRecord(factorsRaw) || Object.keys(factorsRaw).length === 0) throw invalid(where, 'needs at least one factor "<name>" { identity { ... } }');
  const factors: ControlGroupFactor[] = [];
  for (const [name, body0] of Object.entries(factorsRaw)) {
    const body = one(body0);
    const id = isRecord(body) ? one(body['identity']) : undefined;
    if (!isRecord(body) || !isRecord(id)) throw invalid(where, `factor "${name.slice(0, 64)}" needs an identity { group_names = [...], approvals = N } block`);
    const groups = id['group_names'] ?? [];
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) throw invalid(where, `factor "${name.slice(0, 64)}": group_names must be a list of strings`);
    const approvals = id['approvals'] ?? 0;
    if (typeof approvals !== 'number' || !Number.isInteger(approvals) || approvals < 0 || approvals > MAX_APPROVALS) {
      throw invalid(where, `factor "${name.slice(0, 64)}": approvals must be an integer from 0 to ${MAX_APPROVALS}`);
    }
    for (const k of Object.keys(body)) if (!['identity', 'controlled_capabilities', 'require_mfa_within'].includes(k)) throw invalid(where, `factor "${name.slice(0, 64)}": unknown key "${k.slice(0, 64)}"`);
    const capsRaw = body['controlled_capabilities'] ?? [];
    if (!Array.isArray(capsRaw) || !capsRaw.every((c) => typeof c === 'string' && isCapability(c.toLowerCase()))) {
      throw invalid(where, `factor "${name.slice(0, 64)}": controlled_capabilities must be a list of capabilities`);
    }
    let mfaWithin = 0;
    if (body['require_mfa_within'] !== undefined) {
      try {
        mfaWithin = parseDuration(body['require_mfa_within'], { field: 'require_mfa_within', min: 1, max: 7 * 86400 });
      } catch {
        throw invalid(where, `factor "${name.slice(0, 64)}": require_mfa_within must be a duration from 1s to 168h`);
      }
    }
    factors.push({ name, groupNames: groups as string[], approvals, capabilities: (capsRaw as string[]).map((c) => c.toLowerCase() as Capability), mfaWithin });
  }
  return { ttl, factors };
}

/** The factors of several policies' control groups on one rule: all apply; the shortest ttl wins. */
export function mergeControlGroups(a: ControlGroup | undefined, b: ControlGroup): ControlGroup {
  if (!a) return b;
  return { ttl: Math.min(a.ttl, b.ttl), factors: [...a.factors, ...b.factors] };
}

/** The control group that governs an operation needing `cap`, or undefined when no factor applies to it. */
export function controlGroupFor(cg: ControlGroup | undefined, cap: Capability): ControlGroup | undefined {
  if (!cg) return undefined;
  const factors = cg.factors.filter((f) => f.capabilities.length === 0 || f.capabilities.includes(cap));
  return factors.length ? { ttl: cg.ttl, factors } : undefined;
}
