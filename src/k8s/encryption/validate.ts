/**
 * The accept/reject decisions of kube-apiserver for an EncryptionConfiguration: the rules of
 * validation_encryption.go, plus what fails when transformers are built (rules masked by an earlier
 * wildcard, KMS v1 without the KMSv1 feature gate). Issues name the field path.
 */
import { ArcaError } from '../../errors/index.ts';
import type { EncryptionConfiguration, KeyConfig, KmsConfig, ProviderConfig } from './config.ts';
import { decodeStdBase64 } from './secret.ts';

export interface Issue {
  path: string;
  message: string;
}

export interface ValidateOptions {
  /** --encryption-provider-config-automatic-reload: kms v1 names must then be unique too. */
  reload?: boolean;
  /** KMSv1 feature gate (off by default since Kubernetes 1.29). */
  kmsV1?: boolean;
}

export interface GroupResource {
  group: string;
  resource: string;
}

/** schema.ParseGroupResource: split at the FIRST dot. */
export function parseGroupResource(s: string): GroupResource {
  const i = s.indexOf('.');
  return i >= 0 ? { resource: s.slice(0, i), group: s.slice(i + 1) } : { resource: s, group: '' };
}

export function grString(gr: GroupResource): string {
  if (gr.group === '' && gr.resource === '*') return '*.';
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

const AES_SIZES = [16, 24, 32];
const SECRETBOX_SIZES = [32];

function validateKeys(keys: KeyConfig[], path: string, sizes: number[], out: Issue[]): void {
  if (keys.length === 0) {
    out.push({ path, message: `at least one ${path} is required` });
    return;
  }
  keys.forEach((k, i) => {
    const p = `${path}[${i}]`;
    if (k.name === '') out.push({ path: `${p}.name`, message: 'name is a mandatory field for a key' });
    if (k.secret === '') {
      out.push({ path: `${p}.secret`, message: 'secret is a mandatory field for a key' });
      return;
    }
    const raw = decodeStdBase64(k.secret);
    if (!raw) {
      out.push({ path: `${p}.secret`, message: 'secrets must be base64 encoded' });
      return;
    }
    if (!sizes.includes(raw.length)) {
      out.push({ path: `${p}.secret`, message: `secret is not of the expected length, got ${raw.length}, expected one of [${sizes.join(' ')}]` });
    }
    raw.fill(0);
  });
}

function validateKms(c: KmsConfig, path: string, names: Set<string>, reload: boolean, out: Issue[]): void {
  if (c.name === '') out.push({ path: `${path}.name`, message: 'name is a mandatory field for a provider' });
  if (c.apiVersion !== 'v1' && c.name.includes(':')) {
    out.push({ path: `${path}.name`, message: `invalid KMS provider name ${c.name}, must not contain ':'` });
  }
  if ((reload || c.apiVersion !== 'v1') && names.has(c.name)) {
    out.push({ path: `${path}.name`, message: `duplicate KMS provider name ${c.name}, names must be unique` });
  }
  if (c.timeoutMs <= 0) out.push({ path: `${path}.timeout`, message: 'timeout should be a positive value' });
  if (c.endpoint === '') {
    out.push({ path: `${path}.endpoint`, message: 'endpoint is a mandatory field for a KMS provider' });
  } else {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(c.endpoint);
    const scheme = m ? m[1]!.toLowerCase() : '';
    if ([...c.endpoint].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) out.push({ path: `${path}.endpoint`, message: 'invalid endpoint for kms provider' });
    else if (scheme !== 'unix') {
      out.push({ path: `${path}.endpoint`, message: `unsupported scheme "${scheme}" for KMS provider, only unix is supported` });
    }
  }
  if (c.apiVersion !== 'v1' && c.cachesize !== undefined) {
    out.push({ path: `${path}.cachesize`, message: 'cachesize is not supported in v2' });
  }
  if (c.cachesize === 0) {
    out.push({ path: `${path}.cachesize`, message: 'cachesize should be a positive value, or negative to disable' });
  }
  if (c.apiVersion !== 'v1' && c.apiVersion !== 'v2') {
    out.push({ path: `${path}.apiVersion`, message: `unsupported apiVersion ${c.apiVersion} for KMS provider, only v1 and v2 are supported` });
  }
}

function validateResources(resources: string[], path: string, out: Issue[]): void {
  if (resources.length >= 2) {
    const grs = resources.map(parseGroupResource);
    let dup = false;
    let overlap = false;
    grs.forEach((a, i) => {
      grs.forEach((b, j) => {
        if (i === j) return;
        const same = a.group === b.group && a.resource === b.resource;
        if (same && !dup) {
          dup = true;
          return;
        }
        if (overlap) return;
        if (a.group === '*' && a.resource === '*') overlap = true;
        else if (a.group === b.group && (a.resource === '*' || b.resource === '*')) overlap = true;
      });
    });
    if (dup) out.push({ path, message: 'the same resource cannot be specified multiple times' });
    if (overlap) {
      out.push({
        path,
        message: "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked",
      });
    }
  }
  resources.forEach((r, j) => {
    const p = `${path}[${j}]`;
    const gr = parseGroupResource(r);
    if (r.toLowerCase() !== r) out.push({ path: p, message: 'resource name should not contain capital letters' });
    else if (r === '*') out.push({ path: p, message: "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources" });
    else if (['apiserveripinfo', 'serviceipallocations', 'servicenodeportallocations'].includes(r)) {
      out.push({ path: p, message: 'resources which do not have REST API/s cannot be encrypted' });
    } else if (gr.group === 'events.k8s.io') {
      out.push({ path: p, message: "'*.events.k8s.io' objects are stored using the 'events' API group in etcd and must be specified as 'events'" });
    } else if (gr.group === 'extensions') {
      out.push({ path: p, message: "'extensions' group has been removed and cannot be used for encryption" });
    } else if (gr.group === '*' && gr.resource !== '*') {
      out.push({ path: p, message: 'encrypting the same resource across groups is not supported' });
    }
  });
}

function providerKinds(p: ProviderConfig): string[] {
  return (['kms', 'aesgcm', 'aescbc', 'secretbox', 'identity'] as const).filter((k) => p[k] !== undefined);
}

/** ValidateEncryptionConfiguration. Returns every issue (empty = valid). */
export function validateEncryptionConfig(c: EncryptionConfiguration, opts: ValidateOptions = {}): Issue[] {
  const out: Issue[] = [];
  if (c.resources.length === 0) return [{ path: 'resources', message: 'at least one resources is required' }];
  const kmsNames = new Set<string>();
  c.resources.forEach((rc, i) => {
    const r = `resources[${i}].resources`;
    const p = `resources[${i}].providers`;
    if (rc.resources.length === 0) out.push({ path: r, message: `at least one ${r} is required` });
    validateResources(rc.resources, r, out);
    if (rc.providers.length === 0) out.push({ path: p, message: `at least one ${p} is required` });
    rc.providers.forEach((prov, j) => {
      const path = `${p}[${j}]`;
      const kinds = providerKinds(prov);
      if (kinds.length > 1) {
        out.push({ path, message: 'more than one provider specified in a single element, should split into different list elements' });
      } else if (kinds.length === 0) {
        out.push({ path, message: 'provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity' });
      }
      if (prov.kms) {
        validateKms(prov.kms, `${path}.kms`, kmsNames, opts.reload ?? false, out);
        kmsNames.add(prov.kms.name);
      } else if (prov.aesgcm) validateKeys(prov.aesgcm.keys, `${path}.aesgcm.keys`, AES_SIZES, out);
      else if (prov.aescbc) validateKeys(prov.aescbc.keys, `${path}.aescbc.keys`, AES_SIZES, out);
      else if (prov.secretbox) validateKeys(prov.secretbox.keys, `${path}.secretbox.keys`, SECRETBOX_SIZES, out);
    });
  });
  return out;
}

/** What fails when kube-apiserver builds the transformers from a valid config. */
export function checkBuildable(c: EncryptionConfiguration, opts: ValidateOptions = {}): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  c.resources.forEach((rc, i) => {
    rc.resources.forEach((res, j) => {
      const gr = parseGroupResource(res);
      const anyInGroup = grString({ group: gr.group, resource: '*' });
      if (seen.has(anyInGroup)) {
        out.push({ path: `resources[${i}].resources[${j}]`, message: `resource "${grString(gr)}" is masked by earlier rule "${anyInGroup}"` });
      } else if (seen.has('*.*')) {
        out.push({ path: `resources[${i}].resources[${j}]`, message: `resource "${grString(gr)}" is masked by earlier rule "*.*"` });
      }
      seen.add(grString(gr));
    });
    if (!opts.kmsV1) {
      rc.providers.forEach((prov, j) => {
        if (prov.kms?.apiVersion === 'v1') {
          out.push({
            path: `resources[${i}].providers[${j}].kms`,
            message: 'KMSv1 is deprecated and will only receive security updates going forward. Use KMSv2 instead. Set --feature-gates=KMSv1=true to use the deprecated KMSv1 feature.',
          });
        }
      });
    }
  });
  return out;
}

export function formatIssues(issues: Issue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}

/** Throws ERR_ENCCONFIG_INVALID (issues in details) unless kube-apiserver would accept the config. */
export function assertValid(c: EncryptionConfiguration, opts: ValidateOptions = {}): void {
  const issues = validateEncryptionConfig(c, opts);
  if (issues.length === 0) issues.push(...checkBuildable(c, opts));
  if (issues.length) throw new ArcaError('ERR_ENCCONFIG_INVALID', formatIssues(issues), { details: { issues } });
}
