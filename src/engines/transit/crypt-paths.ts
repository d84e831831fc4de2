/** `encrypt/:name`, `decrypt/:name`, `rewrap/:name` (Vault's path_encrypt.go, path_decrypt.go, path_rewrap.go). */
import { z } from 'zod';
import { MAX_INT, vBool, vIntIn, withIgnoredFields } from '../fields.ts';
import type { EngineRequest, EngineResponse } from '../types.ts';
import { checkContextConsistency, checkPartialFailureCode, parseBatch, runBatch } from './batch.ts';
import { encodeB64 } from './encoding.ts';
import { createKey } from './key-lifecycle.ts';
import { parseKeyType } from './keys-paths.ts';
import { encryptionVersion, type KeyPolicy, NEW_KEY_VERSIONS } from './policy.ts';
import { b64Field, checkName, invalid, keyNotFound, parseBody } from './request.ts';
import type { TransitState } from './state.ts';

const common = {
  context: z.string().optional(),
  associated_data: z.string().optional(),
  nonce: z.string().optional(),
  reference: z.string().optional(),
};
const keyVersion = vIntIn(0, MAX_INT);
const encItem = z.object({ plaintext: z.string(), key_version: keyVersion.optional(), ...common });
const decItem = z.object({ ciphertext: z.string(), ...common });
const rewrapItem = z.object({ ciphertext: z.string(), key_version: keyVersion.optional(), ...common });
type EncItem = z.output<typeof encItem>;
type DecItem = z.output<typeof decItem>;
type RewrapItem = z.output<typeof rewrapItem>;

const batchFields = { batch_input: z.array(z.unknown()).optional(), partial_failure_response_code: vIntIn(0, 599).optional() };
const encBody = encItem.partial({ plaintext: true }).extend({
  ...batchFields,
  type: z.string().optional(),
  convergent_encryption: vBool.optional(),
});
const decBody = decItem.partial({ ciphertext: true }).extend(batchFields);
const rewrapBody = rewrapItem.partial({ ciphertext: true }).extend(batchFields);

function refuseNonce(nonce: string | undefined): void {
  if (nonce !== undefined && nonce !== '') throw invalid('nonce provided when not allowed');
}

function cryptoInput(item: { context?: string | undefined; associated_data?: string | undefined }) {
  return { context: b64Field(item.context, 'context'), associatedData: b64Field(item.associated_data, 'associated_data') };
}

/** Loads the key; reloads once if a ciphertext names a version newer than the cached one (another replica rotated). */
async function loadForDecrypt(s: TransitState, name: string, ciphertexts: string[]): Promise<KeyPolicy> {
  const p = await s.store.get(name);
  if (!p) throw keyNotFound();
  const newest = Math.max(0, ...ciphertexts.map((c) => Number(/^vault:v(\d{1,9}):/.exec(c)?.[1] ?? 0)));
  if (newest <= p.latestVersion) return p;
  return (await s.store.get(name, true)) ?? p;
}

export async function encrypt(s: TransitState, req: EngineRequest, rawName: string): Promise<EngineResponse> {
  const name = checkName(rawName);
  const b = parseBody(encBody, req.data);
  const partial = checkPartialFailureCode(b.partial_failure_response_code);
  const items: EncItem[] = b.batch_input ? parseBatch(encItem, b.batch_input) : [];
  if (b.batch_input) checkContextConsistency(items);
  else if (b.plaintext === undefined) throw invalid('missing plaintext to encrypt');

  let p = await s.store.get(name);
  if (!p) {
    // Vault's upsert: the core chose `create` (the caller holds the create capability) because
    // exists() said the key is missing. With only `update`, a missing key is an error.
    if (req.operation !== 'create') throw keyNotFound();
    if (b.convergent_encryption) throw invalid('convergent encryption is not supported: create the key without convergent_encryption');
    const ctx = b.batch_input ? items[0]?.context : b.context;
    const type = parseKeyType(b.type, s.ops.hasHsm());
    // A refused encrypt creates nothing: the inputs are checked before the key is made.
    const refusals = (b.batch_input ? items : [b]).map(inputRefusal);
    if (refusals.every((e) => e !== undefined)) throw refusals[0]!;
    p = (await createKey(s, name, { type, derived: ctx !== undefined && ctx !== '', autoRotatePeriod: 0 })).policy;
  }
  const key = p;
  if (!b.batch_input) return withIgnoredFields<EngineResponse>({ data: await encryptOne(s, key, b) }, encBody, req.data);
  return withIgnoredFields(await runBatch(items, partial, (it) => encryptOne(s, key, it)), encBody, req.data);
}

/** Why encrypting an item under a key about to be created would fail on the item's own fields, if it would. */
function inputRefusal(it: EncItem | z.output<typeof encBody>): unknown {
  try {
    refuseNonce(it.nonce);
    b64Field(it.plaintext ?? '', 'plaintext')!.fill(0);
    cryptoInput(it);
    encryptionVersion(NEW_KEY_VERSIONS, it.key_version ?? 0);
    return undefined;
  } catch (err) {
    return err;
  }
}

/** One item (module level: a per-request named closure costs a keepNames wrapper under tsx). */
async function encryptOne(s: TransitState, key: KeyPolicy, it: EncItem | z.output<typeof encBody>) {
  refuseNonce(it.nonce);
  const plaintext = b64Field(it.plaintext ?? '', 'plaintext')!;
  const r = await s.ops.encrypt(key, plaintext, it.key_version ?? 0, cryptoInput(it));
  return { ciphertext: r.ciphertext, key_version: r.version };
}

export async function decrypt(s: TransitState, req: EngineRequest, rawName: string): Promise<EngineResponse> {
  const name = checkName(rawName);
  const b = parseBody(decBody, req.data);
  const partial = checkPartialFailureCode(b.partial_failure_response_code);
  const items: DecItem[] = b.batch_input ? parseBatch(decItem, b.batch_input) : [];
  if (b.batch_input) checkContextConsistency(items);
  else if (b.ciphertext === undefined || b.ciphertext === '') throw invalid('missing ciphertext to decrypt');
  const p = await loadForDecrypt(s, name, b.batch_input ? items.map((i) => i.ciphertext) : [b.ciphertext ?? '']);
  if (!b.batch_input) return withIgnoredFields<EngineResponse>({ data: await decryptOne(s, p, b) }, decBody, req.data);
  return withIgnoredFields(await runBatch(items, partial, (it) => decryptOne(s, p, it)), decBody, req.data);
}

async function decryptOne(s: TransitState, p: KeyPolicy, it: DecItem | z.output<typeof decBody>) {
  refuseNonce(it.nonce);
  const r = await s.ops.decrypt(p, it.ciphertext ?? '', cryptoInput(it));
  return { plaintext: encodeB64(r.plaintext) };
}

export async function rewrap(s: TransitState, req: EngineRequest, rawName: string): Promise<EngineResponse> {
  const name = checkName(rawName);
  const b = parseBody(rewrapBody, req.data);
  const partial = checkPartialFailureCode(b.partial_failure_response_code);
  const items: RewrapItem[] = b.batch_input ? parseBatch(rewrapItem, b.batch_input) : [];
  if (b.batch_input) checkContextConsistency(items);
  else if (b.ciphertext === undefined || b.ciphertext === '') throw invalid('missing ciphertext to decrypt');
  const p = await loadForDecrypt(s, name, b.batch_input ? items.map((i) => i.ciphertext) : [b.ciphertext ?? '']);
  const one = async (it: RewrapItem | z.output<typeof rewrapBody>) => {
    refuseNonce(it.nonce);
    const input = cryptoInput(it);
    const d = await s.ops.decrypt(p, it.ciphertext ?? '', input);
    try {
      const r = await s.ops.encrypt(p, d.plaintext, it.key_version ?? 0, input);
      return { ciphertext: r.ciphertext, key_version: r.version };
    } finally {
      d.plaintext.fill(0);
    }
  };
  if (!b.batch_input) return withIgnoredFields<EngineResponse>({ data: await one(b) }, rewrapBody, req.data);
  return withIgnoredFields(await runBatch(items, partial, one), rewrapBody, req.data);
}
