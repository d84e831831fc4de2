/**
 * ObjectVersion strings: HMAC-SHA256 (base64url) over the object's config and the versions of the
 * secrets it was built from. The driver stores them in SecretProviderClassPodStatus (readable by
 * anyone who can read that object), so they must reveal nothing about the value: they are keyed,
 * and they cover the value's bytes only when no secret version number exists (non-KV paths).
 *
 * The key is per provider process unless --hmac-key-file gives one: a restart then changes every
 * version once, which only makes the driver record new versions.
 */
import { createHmac } from 'node:crypto';
import type { ObjectSpec } from './params.ts';

export interface SourceVersion {
  path: string;
  /** KV v2 metadata.version; undefined for engines that have none. */
  version: number | undefined;
}

export function objectVersion(key: Uint8Array, spec: ObjectSpec, sources: readonly SourceVersion[], contents: Uint8Array): string {
  const h = createHmac('sha256', key);
  // Canonical: fixed key order, so the same config always hashes the same.
  const config = [spec.objectName, spec.secretPath, spec.secretKey ?? null, spec.version ?? null, spec.encoding, spec.filePermission ?? null, spec.template ?? null, spec.format ?? null];
  // Appended only when set, so the versions of objects without secretPaths did not change with it.
  if (spec.secretPaths) config.push(JSON.stringify(spec.secretPaths));
  h.update(JSON.stringify({ config, sources: sources.map((s) => [s.path, s.version ?? null]) }));
  if (sources.some((s) => s.version === undefined)) {
    h.update('\0content\0');
    h.update(contents);
  }
  return h.digest('base64url');
}
