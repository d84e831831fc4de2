/**
 * Builds the per-resource provider chains of an EncryptionConfiguration, as kube-apiserver does:
 * every resource rule contributes its providers (in order) to each resource it lists; lookup is the
 * exact `resource.group`, else `*.group`, else `*.*`, else plain identity.
 */
import { ArcaError } from '../../errors/index.ts';
import { AesCbcTransformer, AesGcmTransformer, keyedTransformer } from './aes.ts';
import type { EncryptionConfiguration, KeyConfig, ProviderConfig } from './config.ts';
import { grpcKmsV1, grpcKmsV2 } from './kms-grpc.ts';
import type { KmsV1Service, KmsV2Service } from './kms-service.ts';
import { KmsV1Transformer } from './kms-v1.ts';
import { KmsV2Transformer } from './kms-v2.ts';
import { decodeStdBase64 } from './secret.ts';
import { SecretboxTransformer } from './secretbox.ts';
import { type PrefixEntry, PrefixTransformers, type Transformer, identityTransformer, utf8Bytes } from './transformer.ts';
import { type GroupResource, assertValid, grString, parseGroupResource, type ValidateOptions } from './validate.ts';

export interface KmsFactories {
  v1(name: string, endpoint: string, timeoutMs: number): KmsV1Service;
  v2(name: string, endpoint: string, timeoutMs: number): KmsV2Service;
}

export const grpcKmsFactories: KmsFactories = { v1: grpcKmsV1, v2: grpcKmsV2 };

export interface BuildOptions extends ValidateOptions {
  kms?: KmsFactories;
}

/** Describes the provider that writes (entry 0) for display. */
export interface WriterInfo {
  kind: 'identity' | 'aescbc' | 'aesgcm' | 'secretbox' | 'kms-v1' | 'kms-v2';
  name?: string;
}

export interface ResourceChain {
  transformer: Transformer;
  writer: WriterInfo;
}

export class EncryptionTransformers {
  constructor(
    private readonly chains: Map<string, ResourceChain>,
    private readonly closers: (() => void)[],
    private readonly kmsV2: KmsV2Transformer[],
  ) {}

  /** The chain for a resource (`secrets`, `deployments.apps`, or a GroupResource). */
  forResource(r: string | GroupResource): ResourceChain {
    const gr = typeof r === 'string' ? parseGroupResource(r) : r;
    return (
      this.chains.get(grString(gr)) ??
      this.chains.get(grString({ group: gr.group, resource: '*' })) ??
      this.chains.get('*.*') ?? { transformer: identityTransformer, writer: { kind: 'identity' } }
    );
  }

  /** Status probe of every KMS v2 plugin, so `stale` is computed against the current key_id. */
  async refreshKms(): Promise<void> {
    await Promise.all(this.kmsV2.map((t) => t.refresh()));
  }

  close(): void {
    for (const c of this.closers) c();
  }
}

function keyBytes(keys: KeyConfig[]): { name: string; key: Uint8Array }[] {
  return keys.map((k) => {
    const key = decodeStdBase64(k.secret);
    if (!key) throw new ArcaError('ERR_ENCCONFIG_INVALID', `key "${k.name}": secrets must be base64 encoded`);
    return { name: k.name, key };
  });
}

/** The key-based providers, in the order a provider entry is checked for them; each one's cipher. */
const KEYED = {
  aescbc: (k: Uint8Array): Transformer => new AesCbcTransformer(k),
  aesgcm: (k: Uint8Array): Transformer => new AesGcmTransformer(k),
  secretbox: (k: Uint8Array): Transformer => new SecretboxTransformer(k),
} as const;

function providerEntry(p: ProviderConfig, kms: KmsFactories, closers: (() => void)[], v2s: KmsV2Transformer[]): [PrefixEntry, WriterInfo] {
  for (const kind of ['aescbc', 'aesgcm', 'secretbox'] as const) {
    const c = p[kind];
    if (!c) continue;
    const keys = keyBytes(c.keys);
    return [
      { prefix: utf8Bytes(`k8s:enc:${kind}:v1:`), transformer: keyedTransformer(kind, keys, KEYED[kind]) },
      { kind, name: keys[0]!.name },
    ];
  }
  if (p.kms) {
    const { name, endpoint, timeoutMs } = p.kms;
    if (p.kms.apiVersion === 'v2') {
      const svc = kms.v2(name, endpoint, timeoutMs);
      if (svc.close) closers.push(() => svc.close?.());
      const t = new KmsV2Transformer(name, svc);
      v2s.push(t);
      return [{ prefix: utf8Bytes(`k8s:enc:kms:v2:${name}:`), transformer: t }, { kind: 'kms-v2', name }];
    }
    const svc = kms.v1(name, endpoint, timeoutMs);
    if (svc.close) closers.push(() => svc.close?.());
    return [
      { prefix: utf8Bytes(`k8s:enc:kms:v1:${name}:`), transformer: new KmsV1Transformer(name, svc, p.kms.cachesize ?? 1000) },
      { kind: 'kms-v1', name },
    ];
  }
  return [{ prefix: new Uint8Array(0), transformer: identityTransformer }, { kind: 'identity' }];
}

/** Validates (as kube-apiserver would) and builds. KMS clients connect lazily on first use. */
export function buildTransformers(c: EncryptionConfiguration, opts: BuildOptions = {}): EncryptionTransformers {
  assertValid(c, opts);
  const kms = opts.kms ?? grpcKmsFactories;
  const closers: (() => void)[] = [];
  const v2s: KmsV2Transformer[] = [];
  const perResource = new Map<string, { entries: PrefixEntry[]; writer: WriterInfo }>();
  for (const rc of c.resources) {
    const built = rc.providers.map((p) => providerEntry(p, kms, closers, v2s));
    for (const res of rc.resources) {
      const key = grString(parseGroupResource(res));
      const cur = perResource.get(key);
      if (cur) cur.entries.push(...built.map(([e]) => e));
      else perResource.set(key, { entries: built.map(([e]) => e), writer: built[0]![1] });
    }
  }
  const chains = new Map<string, ResourceChain>();
  for (const [k, v] of perResource) {
    chains.set(k, {
      transformer: new PrefixTransformers(v.entries, () => new ArcaError('ERR_TRANSFORM_NO_PROVIDER', 'no matching prefix found')),
      writer: v.writer,
    });
  }
  return new EncryptionTransformers(chains, closers, v2s);
}

/** The provider chain of one providers[] list (used for vectors and single-resource tools). */
export function buildProviderChain(providers: ProviderConfig[], kms: KmsFactories = grpcKmsFactories): PrefixTransformers {
  const entries = providers.map((p) => providerEntry(p, kms, [], [])[0]);
  return new PrefixTransformers(entries, () => new ArcaError('ERR_TRANSFORM_NO_PROVIDER', 'no matching prefix found'));
}
