/**
 * Command-line flags read with pflag semantics (control-plane-hardening.md §1.2): `--n=v`, `--n v`
 * (non-bool only), bare `--n` for booleans; the last scalar wins; string-slice flags accumulate and
 * split on commas; string-array flags accumulate without splitting.
 */

export interface FlagSpec {
  /** flags that take no separate value (`--n false` is true plus a stray argument) */
  bools: ReadonlySet<string>;
  slices: ReadonlySet<string>;
  arrays: ReadonlySet<string>;
}

export const APISERVER_FLAGS: FlagSpec = {
  bools: new Set([
    'anonymous-auth', 'profiling', 'contention-profiling', 'service-account-lookup', 'service-account-extend-token-expiration',
    'encryption-provider-config-automatic-reload', 'allow-privileged', 'enable-kubelet-cert-cn-validation',
  ]),
  slices: new Set(['enable-admission-plugins', 'disable-admission-plugins', 'authorization-mode', 'tls-cipher-suites', 'etcd-servers', 'api-audiences']),
  arrays: new Set(['service-account-key-file', 'service-account-issuer']),
};

export const CMS_FLAGS: FlagSpec = {
  bools: new Set(['profiling', 'contention-profiling', 'use-service-account-credentials', 'leader-elect']),
  slices: new Set(['controllers', 'tls-cipher-suites']),
  arrays: new Set(),
};

export const ETCD_FLAGS: FlagSpec = {
  bools: new Set(['client-cert-auth', 'peer-client-cert-auth', 'auto-tls', 'peer-auto-tls', 'enable-v2', 'debug', 'strict-reconfig-check']),
  slices: new Set(['cipher-suites']),
  arrays: new Set(),
};

export const KUBELET_FLAGS: FlagSpec = {
  bools: new Set(['anonymous-auth', 'authentication-token-webhook', 'rotate-certificates', 'protect-kernel-defaults', 'seccomp-default', 'rotate-server-certificates']),
  slices: new Set(['tls-cipher-suites']),
  arrays: new Set(),
};

export interface ParsedFlags {
  /** scalar: the last value; slice/array: every value in order */
  values: Map<string, string[]>;
  /** arguments that are not flags (e.g. the `false` of `--bool false`), with the flag before them */
  stray: { arg: string; after?: string }[];
  /** argv[0] if it is not a flag (the binary) */
  command?: string;
}

export function parseFlags(argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const values = new Map<string, string[]>();
  const stray: ParsedFlags['stray'] = [];
  const put = (name: string, v: string) => {
    if (spec.slices.has(name)) {
      const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
      values.set(name, [...(values.get(name) ?? []), ...parts]);
    } else if (spec.arrays.has(name)) values.set(name, [...(values.get(name) ?? []), v]);
    else values.set(name, [v]);
  };
  let command: string | undefined;
  let prevBool: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-' || a === '--') {
      if (i === 0) command = a;
      else stray.push(prevBool === undefined ? { arg: a } : { arg: a, after: prevBool });
      prevBool = undefined;
      continue;
    }
    prevBool = undefined;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) {
      put(body.slice(0, eq), body.slice(eq + 1));
      continue;
    }
    if (spec.bools.has(body)) {
      put(body, 'true');
      prevBool = body;
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      put(body, next);
      i++;
    } else put(body, '');
  }
  const r: ParsedFlags = { values, stray };
  if (command !== undefined) r.command = command;
  return r;
}

/** Read access to one component's effective flags. */
export class Flags {
  constructor(
    readonly parsed: ParsedFlags,
    /** where they came from, for evidence (`kube-apiserver.yaml`) */
    readonly source: string,
  ) {}

  has(name: string): boolean {
    return this.parsed.values.has(name);
  }
  get(name: string): string | undefined {
    const v = this.parsed.values.get(name);
    return v === undefined ? undefined : v[v.length - 1];
  }
  list(name: string): string[] {
    return this.parsed.values.get(name) ?? [];
  }
  /** a boolean flag with its default when absent (Go's strconv.ParseBool spellings) */
  bool(name: string, dflt: boolean): boolean {
    const v = this.get(name);
    if (v === undefined) return dflt;
    return ['1', 't', 'T', 'true', 'TRUE', 'True', ''].includes(v);
  }
  /** `kube-apiserver.yaml --flag=value` (or `(absent)`) for evidence */
  ev(name: string): string {
    const v = this.parsed.values.get(name);
    if (!v) return `${this.source}: --${name} absent`;
    return `${this.source}: --${name}=${v.join(',')}`;
  }
}
