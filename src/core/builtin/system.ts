/**
 * `sys/` logical endpoints (authenticated, audited): mounts, barrier rotation and key status,
 * capabilities. Raw status endpoints (init, unseal, seal-status, health, metrics) live in the HTTP
 * adapter because Vault serves them outside the logical envelope.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { type Engine, type EngineRequest, EngineRouter, ignoredFieldsResponse, outOfRange, parseFields, vDuration, vStringList } from '../../engines/index.ts';
import { hash, random } from '../../engines/transit/index.ts';
import { capabilityNames } from '../../policy/index.ts';
import type { Core } from '../core.ts';
import type { TokenEntry } from '../tokens.ts';
import { SYSTEM_MAX_TTL } from '../token-ttl.ts';
import { MOUNT_TOKEN_TYPES, type MountChange, type MountConfig, type MountEntry, type MountTokenType, normalizeMountPath } from '../mounts.ts';

// Built once: a zod v4 schema built per request costs ~40 µs to compile on first use.
const CapabilitiesFields = z.object({ paths: vStringList.optional(), path: vStringList.optional() }).transform((x) => ({ paths: x.paths ?? x.path ?? [] }));

/** `sys/capabilities*`: per path the sorted capabilities the policies grant (`["root"]` for root, as Vault; `["deny"]` for none). */
async function capabilities(core: Core, policies: string[], paths: string[]): Promise<Record<string, unknown>> {
  const root = policies.includes('root');
  const az = await core.authorizerFor(policies);
  const data: Record<string, unknown> = {};
  for (const p of paths) data[p] = capabilityNames(az.capabilities(p), root);
  if (paths.length === 1) data['capabilities'] = data[paths[0]!];
  return data;
}

const RemountFields = z.object({
  from: z.string({ message: "'from' must be the mount to move, e.g. secret/" }).min(1, "'from' must be the mount to move, e.g. secret/"),
  to: z.string({ message: "'to' must be the new mount path, e.g. kv/" }).min(1, "'to' must be the new mount path, e.g. kv/"),
});

// Built once (a zod schema built per request costs its compile on every call).
const TokenCapabilities = CapabilitiesFields.and(z.object({ token: z.string().min(1, 'token must be the token whose capabilities to read') }));
const AccessorCapabilities = CapabilitiesFields.and(z.object({ accessor: z.string().min(1, 'accessor must be the accessor of the token whose capabilities to read') }));

/** `sys/capabilities` and `sys/capabilities-accessor`: the token found by `find`, with its entity's policies. */
function othersCapabilities(
  core: Core,
  schema: typeof TokenCapabilities | typeof AccessorCapabilities,
  find: (f: { paths: string[]; token?: string; accessor?: string }) => Promise<TokenEntry | undefined>,
  unknown: string,
) {
  return async (r: EngineRequest) => {
    const f = parseFields(schema, r.data);
    const e = await find(f);
    if (!e) throw new ArcaError('ERR_INVALID_REQUEST', unknown);
    return { data: await capabilities(core, await core.effectivePolicies(e), f.paths) };
  };
}

/** Revokes the stored tokens issued under a path prefix (see `leases/revoke-prefix`); 204, as Vault. */
async function revokePrefix(core: Core, prefix: string): Promise<undefined> {
  const p = prefix.replace(/^\/+/, '');
  if (p === '' || !/^[A-Za-z0-9._\-/]+$/.test(p) || p.split('/').includes('..')) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'the prefix must be a path such as auth/kubernetes/login (letters, digits, ".", "_", "-" and "/")');
  }
  const revoked = await core.tokens.revokeIssuedUnder(p);
  core.log.info({ prefix: p, revoked }, 'tokens revoked by prefix');
  return undefined;
}

export interface SystemExtension {
  /** Extra routes contributed by other modules (policies, audit), added before the built-ins. */
  register(router: EngineRouter): void;
}

/** Vault's mount entry JSON (`sys/mounts`, `sys/auth`); `extraConfig` adds per-table config keys. */
export function mountInfo(m: MountEntry, extraConfig: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accessor: m.accessor,
    config: { default_lease_ttl: m.config?.defaultLeaseTtl ?? 0, force_no_cache: false, max_lease_ttl: m.config?.maxLeaseTtl ?? 0, ...extraConfig },
    description: m.description,
    external_entropy_access: false,
    local: m.local,
    options: Object.keys(m.options).length ? m.options : null,
    plugin_version: '',
    running_plugin_version: '',
    running_sha256: '',
    seal_wrap: m.sealWrap,
    type: m.type,
    uuid: m.uuid,
  };
}

/** Vault's "system" means the system default, which Arca stores as 0. */
const leaseTtl = z.preprocess((v) => (v === 'system' ? 0 : v), vDuration).optional();

const tokenType = z.enum(MOUNT_TOKEN_TYPES, 'token_type must be default-service, default-batch, service or batch');

/**
 * The lease TTLs and (auth mounts only) Vault's `token_type`, of `config` (enable) or the body
 * (tune); other Vault keys are accepted and ignored.
 */
const TtlFields = z.object({ default_lease_ttl: leaseTtl, max_lease_ttl: leaseTtl, token_type: tokenType.optional() }).loose();

/** `config` of an enable: JSON null = not set, also inside it (parseFields drops only top-level nulls). */
export const MountConfigField = z.record(z.string(), z.unknown()).transform((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null))).pipe(TtlFields);

const MountFields = z.object({
  type: z.string().min(1, 'missing type'),
  description: z.string().optional(),
  options: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).optional(),
  config: MountConfigField.optional(),
});

const TuneFields = TtlFields.extend({ description: z.string().optional() });

/** Vault's refusals of a token_type where it has no meaning (vault/logical_system.go). */
function checkTokenType(path: string, type: string, t: MountTokenType | undefined): void {
  if (t === undefined) return;
  if (!path.startsWith('auth/')) throw new ArcaError('ERR_INVALID_REQUEST', "'token_type' can only be modified on auth mounts", { details: { field: 'token_type' } });
  if (type === 'token') throw new ArcaError('ERR_INVALID_REQUEST', "'token_type' cannot be set for 'token' auth mounts: auth/token/create takes the type per token", { details: { field: 'token_type' } });
}

/**
 * What an enable's `config` sets on the new mount (TTLs, token_type) as a tune of it, checked before
 * anything is stored so a refused config leaves no mount behind.
 */
export function enableConfig(path: string, type: string, config: z.output<typeof MountConfigField> | undefined): MountChange {
  checkTokenType(path, type, config?.token_type);
  const ttls = config ? leaseConfig(undefined, config) : undefined;
  return { ...(ttls ? { config: ttls } : {}), ...(config?.token_type ? { tokenType: config.token_type } : {}) };
}

/** `sys/mounts/<path>/tune` and `sys/auth/<path>/tune`: the one tune of a mount. */
export async function tuneMount(core: Core, m: MountEntry, data: Record<string, unknown>): Promise<undefined> {
  const f = parseFields(TuneFields, data);
  const config = leaseConfig(m.config, f);
  checkTokenType(m.path, m.type, f.token_type);
  await core.mounts.tune(m.path, {
    ...(config ? { config } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.token_type !== undefined ? { tokenType: f.token_type } : {}),
  });
  return undefined;
}

/**
 * The body fields Vault's `sys/mounts/<path>` and `sys/auth/<path>` take. Arca uses type,
 * description, options (secrets engines only) and the config's TTLs and token_type (auth mounts
 * only); Vault clients also send the others (e.g. `local`, `seal_wrap`), which it ignores without a
 * warning, as Vault would warn only about a field it does not know.
 */
export const VAULT_MOUNT_FIELDS = ['type', 'description', 'config', 'options', 'local', 'seal_wrap', 'external_entropy_access', 'plugin_name', 'plugin_version'] as const;

/** Merges requested TTLs over the current ones; a default above a non-zero max is refused as Vault does. */
function leaseConfig(cur: MountConfig | undefined, f: { default_lease_ttl?: number | undefined; max_lease_ttl?: number | undefined }): MountConfig | undefined {
  if (f.default_lease_ttl === undefined && f.max_lease_ttl === undefined) return undefined;
  const next = { defaultLeaseTtl: f.default_lease_ttl ?? cur?.defaultLeaseTtl ?? 0, maxLeaseTtl: f.max_lease_ttl ?? cur?.maxLeaseTtl ?? 0 };
  if (next.maxLeaseTtl !== 0 && next.defaultLeaseTtl > next.maxLeaseTtl) {
    throw outOfRange('default_lease_ttl', 'must not exceed max_lease_ttl');
  }
  return next;
}

const TUNE_SUFFIX = '/tune';

function mountOf(core: Core, path: string): MountEntry {
  const m = core.mounts.all.find((x) => x.path === normalizeMountPath(path));
  if (!m) throw new ArcaError('ERR_INVALID_REQUEST', 'no mount at this path');
  return m;
}

/** A tune read, as Vault's: the *effective* TTLs (an unset one is the system's 768h), unlike the mount list's 0. */
export function tuneInfo(m: MountEntry): Record<string, unknown> {
  return {
    default_lease_ttl: m.config?.defaultLeaseTtl || SYSTEM_MAX_TTL,
    max_lease_ttl: m.config?.maxLeaseTtl || SYSTEM_MAX_TTL,
    force_no_cache: false,
    description: m.description,
    options: Object.keys(m.options).length ? m.options : null,
    ...(m.path.startsWith('auth/') ? { token_type: m.tokenType ?? 'default-service' } : {}),
  };
}

export function createSystemEngine(core: Core, extensions: SystemExtension[] = []): Engine {
  const router = new EngineRouter();
  /** sys/remount's answers, for sys/remount/status (in memory, the last 100). */
  const migrations = new Map<string, { source_mount: string; target_mount: string; status: string }>();
  for (const x of extensions) x.register(router);
  const listMounts = async () => {
    const data: Record<string, unknown> = {};
    for (const m of core.mounts.all) if (!m.path.startsWith('auth/')) data[m.path] = mountInfo(m);
    return { data };
  };
  router
    .add('mounts', { read: listMounts })
    .add('mounts/:path*', {
      update: async (r, p) => {
        const path = p['path']!;
        // sys/mounts/<path>/tune (Vault's path pattern has the same ambiguity for a mount named "tune").
        if (path.endsWith(TUNE_SUFFIX)) return tuneMount(core, mountOf(core, path.slice(0, -TUNE_SUFFIX.length)), r.data);
        const f = parseFields(MountFields, r.data);
        const config = enableConfig(normalizeMountPath(path), f.type, f.config);
        const options = { ...(f.options ?? {}) };
        const [type, ver] = f.type === 'kv-v2' ? ['kv', '2'] : [f.type, options['version']];
        if (type === 'kv') options['version'] = ver ?? '2';
        if (type === 'kv' && options['version'] !== '2') throw new ArcaError('ERR_INVALID_REQUEST', 'only KV version 2 is supported');
        await core.mount(path, type, options, f.description ?? '', config);
        return ignoredFieldsResponse(VAULT_MOUNT_FIELDS, r.data);
      },
      delete: async (_r, p) => {
        await core.unmount(p['path']!);
        return undefined;
      },
      read: async (_r, p) => {
        const path = p['path']!;
        if (path.endsWith(TUNE_SUFFIX)) return { data: tuneInfo(mountOf(core, path.slice(0, -TUNE_SUFFIX.length))) };
        return { data: mountInfo(mountOf(core, path)) };
      },
    })
    // Vault ≥ 1.10 answers a migration id and reports it at remount/status; Arca moves the mount
    // table entry at once (the data is keyed by the mount's uuid), so the status is already final.
    .add('remount', {
      update: async (r) => {
        const f = parseFields(RemountFields, r.data);
        const m = await core.remount(f.from, f.to);
        const id = randomUUID();
        migrations.set(id, { source_mount: normalizeMountPath(f.from), target_mount: m.path, status: 'success' });
        if (migrations.size > 100) migrations.delete(migrations.keys().next().value!);
        return { data: { migration_id: id } };
      },
    })
    .add('remount/status/:id', {
      read: async (_r, p) => {
        const info = migrations.get(p.id!);
        if (!info) throw new ArcaError('ERR_NOT_FOUND', 'no remount with this migration id on this server (the last 100 are kept)');
        return { data: { migration_id: p.id, migration_info: info } };
      },
    })
    // Vault's lease revocation by prefix. Arca's only leases are tokens: a prefix under auth/ revokes
    // every stored token issued by a path starting with it (`vault lease revoke -prefix
    // auth/kubernetes/login`), children included; batch tokens are not revocable (as in Vault) and live to
    // their TTL. Root-protected (sudo). `revoke-force` does the same (nothing to force), and
    // `sys/revoke-prefix` is the old name.
    .add('leases/revoke-prefix/:prefix*', { update: async (_r, p) => revokePrefix(core, p['prefix']!) })
    .add('leases/revoke-force/:prefix*', { update: async (_r, p) => revokePrefix(core, p['prefix']!) })
    .add('revoke-prefix/:prefix*', { update: async (_r, p) => revokePrefix(core, p['prefix']!) })
    .add('internal/ui/mounts/:path*', {
      read: async (_r, p) => {
        const m = core.mounts.match(p['path']!);
        if (!m) throw new ArcaError('ERR_PERMISSION_DENIED', 'permission denied');
        return { data: { ...mountInfo(m), path: m.path } };
      },
    })
    .add('rotate', {
      update: async () => {
        await core.barrier.rotate();
        return undefined;
      },
    })
    .add('key-status', {
      read: async () => {
        const s = core.barrier.keyStatus();
        return { data: { term: s.term, install_time: new Date(s.installedAt).toISOString(), encryptions: null } };
      },
    })
    .add('capabilities-self', { update: async (r) => ({ data: await capabilities(core, r.auth?.policies ?? [], parseFields(CapabilitiesFields, r.data).paths) }) })
    // Another token's capabilities, by the token or by its accessor (both sudo: policy/root-paths.ts).
    .add('capabilities', { update: othersCapabilities(core, TokenCapabilities, (f) => core.tokens.lookup(f.token ?? ''), 'invalid token: it does not exist or has expired') })
    .add('capabilities-accessor', { update: othersCapabilities(core, AccessorCapabilities, (f) => core.tokens.lookupAccessor(f.accessor ?? ''), 'invalid accessor: no live token has it') })
    // Vault's keyless helpers, the same as transit's (hash.ts, datakey-random.ts).
    .add('tools/hash', { update: (r) => hash(r, undefined) })
    .add('tools/hash/:algorithm', { update: (r, p) => hash(r, p.algorithm) })
    .add('tools/random', { update: (r) => random(r, []) })
    .add('tools/random/:a', { update: (r, p) => random(r, [p.a!]) })
    .add('tools/random/:a/:b', { update: (r, p) => random(r, [p.a!, p.b!]) });
  return { type: 'system', sensitiveFields: ['input', 'mfa_payload', 'mfa_request_id', 'random_bytes'], handle: (req) => router.dispatch({ ...req, path: req.path.replace(/\/$/, '') }), routes: () => router.routes() };
}
