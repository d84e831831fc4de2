/** `datakey/plaintext|wrapped/:name` and `random(/:source)(/:bytes)` (Vault's path_datakey.go, random_api.go). */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { MAX_INT, outOfRange, toInt, vIntIn, withIgnoredFields } from '../fields.ts';
import type { EngineRequest, EngineResponse } from '../types.ts';
import { encodeB64 } from './encoding.ts';
import { b64Field, checkName, invalid, keyNotFound, parseBody } from './request.ts';
import type { TransitState } from './state.ts';

const datakeySchema = z.object({
  bits: vIntIn(0, MAX_INT).optional(),
  context: z.string().optional(),
  key_version: vIntIn(0, MAX_INT).optional(),
  associated_data: z.string().optional(),
  nonce: z.string().optional(),
});

export async function datakey(s: TransitState, req: EngineRequest, kind: string, rawName: string): Promise<EngineResponse> {
  if (kind !== 'plaintext' && kind !== 'wrapped') throw invalid('invalid data key type: use plaintext or wrapped');
  const name = checkName(rawName);
  const b = parseBody(datakeySchema, req.data);
  const bits = b.bits ?? 256;
  if (bits !== 128 && bits !== 256 && bits !== 512) throw outOfRange('bits', 'must be 128, 256 or 512');
  if (b.nonce !== undefined && b.nonce !== '') throw invalid('nonce provided when not allowed');
  const input = { context: b64Field(b.context, 'context'), associatedData: b64Field(b.associated_data, 'associated_data') };
  const p = await s.store.get(name);
  if (!p) throw keyNotFound();
  // Vault encrypts the raw key bytes, so decrypting the ciphertext yields `plaintext` (base64 of them).
  const dk = new Uint8Array(randomBytes(bits / 8));
  try {
    const r = await s.ops.encrypt(p, dk, b.key_version ?? 0, input);
    const data = { ciphertext: r.ciphertext, key_version: r.version, ...(kind === 'plaintext' ? { plaintext: encodeB64(dk) } : {}) };
    return withIgnoredFields<EngineResponse>({ data }, datakeySchema, req.data);
  } finally {
    dk.fill(0);
  }
}

const randomSchema = z.object({
  bytes: z.union([z.number(), z.string()]).optional(),
  format: z.string().optional(),
  source: z.string().optional(),
});
const SOURCES = new Set(['platform', 'seal', 'all']);
const MAX_RANDOM = 128 * 1024;

/** `seal` and `all` sources are served from the platform CSPRNG: the HSM's RNG is not exposed here. */
export async function random(req: EngineRequest, segs: string[]): Promise<EngineResponse> {
  const b = parseBody(randomSchema, req.data);
  let source = b.source;
  let bytesField: number | string | undefined = b.bytes;
  for (const seg of segs) {
    if (SOURCES.has(seg)) source = seg;
    else if (seg === 'hex' || seg === 'base64') b.format = seg;
    else bytesField = seg;
  }
  if (source !== undefined && !SOURCES.has(source)) throw invalid('unsupported entropy source; must be "platform", "seal" or "all"');
  const bytes = toInt(bytesField ?? 32, 1, MAX_RANDOM);
  if (typeof bytes !== 'number') {
    if (bytes.code === 'ERR_FIELD_OUT_OF_RANGE') throw outOfRange('bytes', bytes.error);
    throw invalid('error parsing the byte length: expected an integer');
  }
  const format = b.format ?? 'base64';
  if (format !== 'hex' && format !== 'base64') throw invalid('unsupported encoding format; must be "hex" or "base64"');
  const buf = randomBytes(bytes);
  return withIgnoredFields<EngineResponse>({ data: { random_bytes: buf.toString(format) } }, randomSchema, req.data);
}

