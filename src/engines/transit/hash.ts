/** `hash(/:algorithm)`: Vault's keyless hash helper (path_hash.go), and the algorithm names hmac and verify share. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { withIgnoredFields } from '../fields.ts';
import type { EngineRequest, EngineResponse } from '../types.ts';
import { b64Field, invalid, parseBody } from './request.ts';

const ALGORITHMS: Record<string, string> = {
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  'sha3-224': 'sha3-224',
  'sha3-256': 'sha3-256',
  'sha3-384': 'sha3-384',
  'sha3-512': 'sha3-512',
};

/** Node's name for one of Vault's hash algorithms (hash, hmac, verify); absent = sha2-256. */
export function hashAlgorithm(name: string | undefined): string {
  const nodeAlg = ALGORITHMS[name ?? 'sha2-256'];
  if (!nodeAlg) throw invalid(`unsupported algorithm: use one of ${Object.keys(ALGORITHMS).join(', ')}`);
  return nodeAlg;
}

const schema = z.object({ input: z.string().optional(), algorithm: z.string().optional(), format: z.string().optional() });

export async function hash(req: EngineRequest, urlAlgorithm: string | undefined): Promise<EngineResponse> {
  const b = parseBody(schema, req.data);
  if (b.input === undefined) throw invalid('missing input to process');
  const input = b64Field(b.input, 'input')!;
  const nodeAlg = hashAlgorithm(urlAlgorithm ?? b.algorithm);
  const format = b.format ?? 'hex';
  if (format !== 'hex' && format !== 'base64') throw invalid('unsupported encoding format; must be "hex" or "base64"');
  return withIgnoredFields<EngineResponse>({ data: { sum: createHash(nodeAlg).update(input).digest(format) } }, schema, req.data);
}
