/**
 * `hmac/:name(/:algorithm)` and `verify/:name(/:algorithm)` with `hmac` (Vault's path_hmac.go and
 * the HMAC branch of path_sign_verify.go). The HMAC key is the version's own random 32-byte key, not
 * the encryption key; the result is `vault:v<version>:<base64 HMAC>`.
 *
 * Batches answer 200 whatever their items do, each item carrying `valid` (false unless verified) and
 * `error` when it failed — Vault's wire shape for these two paths, unlike encrypt's 400.
 * Arca's transit keys do not sign: a `signature` to verify is refused with Vault's message, and
 * HSM keys keep no HMAC key outside the HSM, so `hmac` on them is refused too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { MAX_INT, vIntIn, withIgnoredFields } from '../fields.ts';
import type { EngineRequest, EngineResponse } from '../types.ts';
import { parseBatch, runBatch } from './batch.ts';
import { decodeB64, encodeB64 } from './encoding.ts';
import { hashAlgorithm } from './hash.ts';
import { withLatestHmacKey } from './key-lifecycle.ts';
import { hmacKeyToSign, hmacKeyToVerify, type KeyPolicy } from './policy.ts';
import { checkName, invalid, keyNotFound, parseBody } from './request.ts';
import type { TransitState } from './state.ts';

const item = z.object({ input: z.string().optional(), hmac: z.string().optional(), signature: z.string().optional(), reference: z.string().optional(), context: z.string().optional() });
type Item = z.output<typeof item>;
const batchInput = z.array(z.unknown()).optional();
const hmacBody = z.object({ input: z.string().optional(), algorithm: z.string().optional(), key_version: vIntIn(0, MAX_INT).optional(), batch_input: batchInput });
const verifyBody = item.omit({ reference: true }).extend({
  algorithm: z.string().optional(),
  hash_algorithm: z.string().optional(),
  batch_input: batchInput,
  // Signature options Vault takes; refused below with the signature itself.
  prehashed: z.unknown().optional(),
  signature_algorithm: z.unknown().optional(),
  marshaling_algorithm: z.unknown().optional(),
  salt_length: z.unknown().optional(),
});

/** The fields every hmac/verify batch item carries, failed ones included (see the module comment). */
const ITEM_VALID = { okWith: { valid: false } };
const PREFIX = 'vault:v';

async function loadKey(s: TransitState, rawName: string): Promise<KeyPolicy> {
  const p = await s.store.get(checkName(rawName));
  if (!p) throw keyNotFound();
  return p;
}

/** The key, with its latest version's HMAC key (HSM keys have none). */
async function loadHmacKey(s: TransitState, rawName: string): Promise<KeyPolicy> {
  const p = await loadKey(s, rawName);
  if (p.type !== 'aes256-gcm96') {
    throw invalid(`key type ${p.type} does not support HMAC: its versions live in the HSM, and Arca keeps no HMAC key outside it; use an aes256-gcm96 key`);
  }
  return withLatestHmacKey(s, p);
}

/** The HMAC of a base64 `input` (Vault's message for bad base64); the decoded input is wiped after. */
function mac(nodeAlg: string, key: Uint8Array, inputB64: string): Buffer {
  const input = decodeB64(inputB64);
  if (!input.ok) throw new ArcaError('ERR_INVALID_REQUEST', `unable to decode input as base64: ${input.error}`, { details: { field: 'input' } });
  try {
    return createHmac(nodeAlg, key).update(input.bytes).digest();
  } finally {
    input.bytes.fill(0);
  }
}

export async function hmac(s: TransitState, req: EngineRequest, rawName: string, urlAlgorithm: string | undefined): Promise<EngineResponse> {
  const b = parseBody(hmacBody, req.data);
  const items: Item[] = b.batch_input ? parseBatch(item, b.batch_input) : [];
  if (!b.batch_input && b.input === undefined) throw invalid('missing input for HMAC');
  const p = await loadHmacKey(s, rawName);
  const { version, key } = hmacKeyToSign(p, b.key_version ?? 0);
  const nodeAlg = hashAlgorithm(urlAlgorithm ?? b.algorithm);
  const one = async (it: { input?: string | undefined }) => {
    if (it.input === undefined) throw invalid('missing input for HMAC');
    return { hmac: `${PREFIX}${version}:${encodeB64(mac(nodeAlg, key, it.input))}` };
  };
  if (!b.batch_input) return withIgnoredFields<EngineResponse>({ data: await one(b) }, hmacBody, req.data);
  // Vault's batch items carry `valid: false` beside the HMAC (one struct for both paths).
  return withIgnoredFields(await runBatch(items, undefined, async (it) => ({ ...(await one(it)), valid: false }), ITEM_VALID), hmacBody, req.data);
}

export async function verify(s: TransitState, req: EngineRequest, rawName: string, urlAlgorithm: string | undefined): Promise<EngineResponse> {
  const b = parseBody(verifyBody, req.data);
  const batch = b.batch_input !== undefined;
  // A single request is one item; its input may be absent (an empty input, as in Vault).
  const items: Item[] = batch ? parseBatch(item, b.batch_input!) : [{ input: b.input ?? '', hmac: b.hmac, signature: b.signature }];
  if (checkVerifyItems(items, batch) === 'signature') {
    throw invalid(`key type ${(await loadKey(s, rawName)).type} does not support verification`);
  }
  const p = await loadHmacKey(s, rawName);
  const nodeAlg = hashAlgorithm(urlAlgorithm ?? b.hash_algorithm ?? b.algorithm);
  const one = async (it: Item) => {
    if (it.input === undefined) throw invalid('missing input');
    const { version, sum } = parseHmac(it.hmac!);
    const expected = mac(nodeAlg, hmacKeyToVerify(p, version), it.input);
    return { valid: expected.length === sum.length && timingSafeEqual(expected, sum) };
  };
  if (!batch) return withIgnoredFields<EngineResponse>({ data: await one(items[0]!) }, verifyBody, req.data);
  return withIgnoredFields(await runBatch(items, undefined, one, ITEM_VALID), verifyBody, req.data);
}

/** Vault's checks of what is to be verified (all items alike): which of the two it is. */
function checkVerifyItems(items: Item[], batch: boolean): 'signature' | 'hmac' {
  const sig = items.some((i) => i.signature !== undefined);
  const mac = items.some((i) => i.hmac !== undefined);
  const missing = items.some((i) => i.signature === undefined && i.hmac === undefined);
  if (!batch && sig && mac) throw invalid("provide one of 'signature' or 'hmac'");
  if (!batch && !sig && !mac) throw invalid("neither a 'signature' nor an 'hmac' were given to verify");
  if (sig && mac) throw invalid("elements of batch_input must all provide 'signature' or all provide 'hmac'");
  if (missing && sig) throw invalid("some elements of batch_input are missing 'signature'");
  if (missing && mac) throw invalid("some elements of batch_input are missing 'hmac'");
  if (missing) throw invalid("no batch_input elements have 'signature' or 'hmac'");
  return sig ? 'signature' : 'hmac';
}

/** `vault:v<N>:<base64>`; each malformed form gets Vault's message (never the value). */
function parseHmac(value: string): { version: number; sum: Uint8Array } {
  if (!value.startsWith(PREFIX)) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid HMAC to verify: no prefix');
  const rest = value.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon < 0) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid HMAC: wrong number of fields');
  const versionText = rest.slice(0, colon);
  if (!/^\d{1,9}$/.test(versionText)) throw new ArcaError('ERR_INVALID_REQUEST', 'invalid HMAC: version number could not be decoded');
  const sum = decodeB64(rest.slice(colon + 1));
  if (!sum.ok) throw new ArcaError('ERR_INVALID_REQUEST', `unable to decode verification HMAC as base64: ${sum.error}`);
  return { version: Number(versionText), sum: sum.bytes };
}
