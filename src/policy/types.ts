import type { ControlGroup } from './control-group.ts';

/** Vault's ACL capabilities. `subscribe` and `recover` are accepted (newer Vault) but no Arca operation needs them. */
export const CAPABILITIES = [
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
  'subscribe',
  'recover',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

export function isCapability(v: string): v is Capability {
  return (CAPABILITIES as readonly string[]).includes(v);
}

/**
 * How a rule's path pattern matches:
 * - `exact`: the whole path, nothing else;
 * - `prefix`: trailing `*`, a raw string prefix (`secret/app*` matches `secret/apple/x`);
 * - `segment`: contains a `+` segment (exactly one path segment of any value), optionally with a trailing `*`.
 */
export type RuleKind = 'exact' | 'prefix' | 'segment';

export type ParameterConstraints = Readonly<Record<string, readonly unknown[]>>;

export interface PathRule {
  /** The pattern as written, leading `/` stripped (e.g. `secret/data/+/config*`). */
  readonly pattern: string;
  readonly kind: RuleKind;
  /**
   * Matching key: for `prefix` the pattern without the trailing `*`; for `exact` and `segment` the pattern itself.
   * Rules with the same kind and key are merged across policies.
   */
  readonly key: string;
  /** After parsing, a stanza containing `deny` holds only `deny`. */
  readonly capabilities: ReadonlySet<Capability>;
  /** Parsed for Vault compatibility; not enforced by Arca yet (see docs/policies.md). */
  readonly allowedParameters?: ParameterConstraints;
  readonly deniedParameters?: ParameterConstraints;
  readonly requiredParameters?: readonly string[];
  /** Quorum approval required before the request runs (control-group.ts). */
  readonly controlGroup?: ControlGroup;
}

export interface Policy {
  /** Lower-cased policy name. */
  readonly name: string;
  readonly rules: readonly PathRule[];
  /** The document as submitted (what `sys/policies/acl/:name` reads back). */
  readonly text: string;
}
