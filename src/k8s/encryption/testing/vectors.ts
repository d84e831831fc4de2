/**
 * Loads Kubernetes transformer test vectors (schema k8s-encryption-at-rest-vectors/v1): every *.json
 * in src/k8s/testdata/vectors (copied into the repo; its README says from where), plus every file (or directory) named in ARCA_K8S_VECTORS
 * (separated by the path delimiter), so held-back sets can be dropped in.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FakeKmsSpec } from './fake-kms.ts';

export const VECTORS_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../testdata/vectors');

const Blob = z.object({
  base64: z.string().optional(),
  utf8: z.string().optional(),
  size: z.number().int(),
  sha256: z.string(),
  pattern: z.string().optional(),
});
type Blob = z.infer<typeof Blob>;

const Vector = z.object({
  id: z.string(),
  provider: z.string(),
  source: z.string(),
  layer: z.string(),
  description: z.string().optional(),
  etcdKey: z.string(),
  readConfig: z.unknown().optional(),
  writeConfig: z.unknown().optional(),
  fakeKms: z.record(z.string(), FakeKmsSpec).optional(),
  raw: z.object({ algorithm: z.string(), keyHex: z.string() }).optional(),
  plaintext: Blob,
  stored: Blob,
  expected: z.object({ decryptOk: z.boolean(), stale: z.boolean().optional(), errorContains: z.string().optional() }),
  aadCheck: z.object({ etcdKey: z.string(), decryptOk: z.boolean() }).optional(),
});
export type Vector = z.infer<typeof Vector>;

const GrpcMessage = z.object({
  id: z.string(),
  service: z.string(),
  method: z.string(),
  message: z.string(),
  fields: z.record(z.string(), z.unknown()),
  protobufHex: z.string(),
});
export type GrpcMessage = z.infer<typeof GrpcMessage>;

const VectorFile = z.object({
  schema: z.string().startsWith('k8s-encryption-at-rest-vectors/v1'),
  vectors: z.array(Vector),
  kmsGrpcMessages: z.array(GrpcMessage).optional(),
});

export interface LoadedVectors {
  files: string[];
  vectors: (Vector & { file: string })[];
  grpcMessages: GrpcMessage[];
}

function expand(p: string): string[] {
  if (statSync(p).isDirectory()) {
    return readdirSync(p)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => join(p, f));
  }
  return [p];
}

export function loadVectors(): LoadedVectors {
  const files = [...expand(VECTORS_DIR)];
  for (const p of (process.env['ARCA_K8S_VECTORS'] ?? '').split(delimiter).filter(Boolean)) {
    for (const f of expand(resolve(p))) if (!files.includes(f)) files.push(f);
  }
  const out: LoadedVectors = { files, vectors: [], grpcMessages: [] };
  for (const f of files) {
    const parsed = VectorFile.parse(JSON.parse(readFileSync(f, 'utf8')));
    out.vectors.push(...parsed.vectors.map((v) => ({ ...v, file: f })));
    out.grpcMessages.push(...(parsed.kmsGrpcMessages ?? []));
  }
  return out;
}

/** Blob bytes: inline base64, or the documented pattern byte[i] = (i*31 + 17) mod 256. */
export function blobBytes(b: Blob): Buffer {
  if (b.base64 !== undefined) return Buffer.from(b.base64, 'base64');
  const out = Buffer.alloc(b.size);
  for (let i = 0; i < b.size; i++) out[i] = (i * 31 + 17) % 256;
  return out;
}
