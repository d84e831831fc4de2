/**
 * `encryption-config validate --lint`: warnings about configs kube-apiserver accepts but that protect
 * less than people think. Each warning has a stable code; docs/encryption-at-rest.md explains them.
 */
import type { EncryptionConfiguration, ProviderConfig } from './config.ts';
import { parseGroupResource } from './validate.ts';

export type LintCode =
  | 'IDENTITY_FIRST'
  | 'NO_IDENTITY_FALLBACK'
  | 'AESCBC_PADDING_ORACLE'
  | 'AESGCM_ROTATION'
  | 'KEYS_ON_DISK'
  | 'KMS_V1_DEPRECATED'
  | 'SECRETS_NOT_COVERED'
  | 'FILE_READABLE_BY_OTHERS';

export interface LintWarning {
  code: LintCode;
  path: string;
  message: string;
}

function kindOf(p: ProviderConfig): string {
  if (p.kms) return p.kms.apiVersion === 'v1' ? 'kms-v1' : 'kms';
  if (p.aescbc) return 'aescbc';
  if (p.aesgcm) return 'aesgcm';
  if (p.secretbox) return 'secretbox';
  return 'identity';
}

/** `mode` is the file's st_mode when linting a file on disk. */
export function lintEncryptionConfig(c: EncryptionConfiguration, mode?: number): LintWarning[] {
  const w: LintWarning[] = [];
  c.resources.forEach((rc, i) => {
    const base = `resources[${i}]`;
    const kinds = rc.providers.map(kindOf);
    if (kinds[0] === 'identity') {
      w.push({ code: 'IDENTITY_FIRST', path: `${base}.providers[0]`, message: `identity is first: ${rc.resources.join(', ')} are written to etcd in plaintext` });
    } else if (!kinds.includes('identity')) {
      w.push({
        code: 'NO_IDENTITY_FALLBACK',
        path: `${base}.providers`,
        message: 'no identity provider: objects still stored in plaintext cannot be read (add `identity: {}` last until every object has been rewritten)',
      });
    }
    rc.providers.forEach((_p, j) => {
      const path = `${base}.providers[${j}]`;
      const k = kinds[j];
      if (k === 'aescbc') {
        w.push({ code: 'AESCBC_PADDING_ORACLE', path, message: 'aescbc is unauthenticated (padding-oracle prone, values can be moved between keys); prefer kms v2 or aesgcm' });
      }
      if (k === 'aesgcm' && j === 0) {
        w.push({ code: 'AESGCM_ROTATION', path, message: 'aesgcm uses random 96-bit nonces: rotate the key well before 2^32 writes (Kubernetes docs: every 200k writes) — see `arca encryption-config rotate`' });
      }
      if ((k === 'aescbc' || k === 'aesgcm' || k === 'secretbox') && j === 0) {
        w.push({ code: 'KEYS_ON_DISK', path, message: `${k} keys are stored in this file on every control-plane node; a KMS v2 plugin keeps the key encryption key out of the file` });
      }
      if (k === 'kms-v1') {
        w.push({ code: 'KMS_V1_DEPRECATED', path: `${path}.kms`, message: 'KMS v1 is deprecated and disabled by default since Kubernetes 1.29 (KMSv1 feature gate); migrate to apiVersion: v2' });
      }
    });
  });
  const covers = c.resources.find((rc) =>
    rc.resources.some((r) => {
      const gr = parseGroupResource(r);
      return (gr.group === '' && (gr.resource === 'secrets' || gr.resource === '*')) || (gr.group === '*' && gr.resource === '*');
    }),
  );
  if (!covers) w.push({ code: 'SECRETS_NOT_COVERED', path: 'resources', message: 'no rule covers secrets: they are stored in plaintext' });
  else if (covers.providers[0]?.identity) {
    w.push({ code: 'SECRETS_NOT_COVERED', path: `resources[${c.resources.indexOf(covers)}]`, message: 'the rule that covers secrets writes them with identity (plaintext)' });
  }
  if (mode !== undefined && (mode & 0o077) !== 0) {
    w.push({ code: 'FILE_READABLE_BY_OTHERS', path: '(file)', message: `file mode ${(mode & 0o777).toString(8)} lets group/others read the keys; chmod 600 it` });
  }
  return w;
}
