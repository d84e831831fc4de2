/**
 * Encrypt/decrypt with a transit key: version selection, per-context derivation and dispatch to the
 * key's backend. Output is Vault's ciphertext string.
 *
 * Derived keys (`derived: true`, a `context` on every request):
 *  - software keys follow Vault exactly: the per-context key is HKDF-SHA256(IKM = version key,
 *    no salt, info = context, 32 bytes), then AES-256-GCM as usual;
 *  - HSM keys cannot run HKDF over a non-extractable key (and exporting it would defeat the HSM), so
 *    the context is bound as GCM associated data instead: AAD = label ‖ len(context) ‖ context ‖
 *    associated_data. A ciphertext then opens only with the same context, as with Vault, but all
 *    contexts share one GCM key per version — so the 2^32 random-nonce budget is per version, not per
 *    context. The key read reports `kdf: "context_aad"` so this is visible.
 */
import { hkdfSync } from 'node:crypto';
import { ArcaError, isArcaError } from '../../errors/index.ts';
import type { KeyBackend } from '../../keys/index.ts';
import { formatCiphertext, parseCiphertext } from './ciphertext.ts';
import { decryptionVersion, encryptionVersion, type KeyPolicy } from './policy.ts';

export interface Backends {
  software: KeyBackend;
  hsm?: KeyBackend;
}

export const AUTH_FAILED = 'cipher: message authentication failed';
export const MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

const CONTEXT_AAD_LABEL = new TextEncoder().encode('arca-transit-context-v1');
const EMPTY = new Uint8Array(0);

export interface CryptoInput {
  context?: Uint8Array | undefined;
  associatedData?: Uint8Array | undefined;
}

export class KeyOps {
  readonly #backends: Backends;

  constructor(backends: Backends) {
    this.#backends = backends;
  }

  backendFor(type: KeyPolicy['type']): KeyBackend {
    if (type === 'aes256-gcm96') return this.#backends.software;
    const hsm = this.#backends.hsm;
    if (!hsm) throw new ArcaError('ERR_HSM_UNAVAILABLE', 'this key is HSM-backed but the server has no HSM key backend configured');
    return hsm;
  }

  hasHsm(): boolean {
    return this.#backends.hsm !== undefined;
  }

  async encrypt(p: KeyPolicy, plaintext: Uint8Array, keyVersion: number, input: CryptoInput): Promise<{ ciphertext: string; version: number }> {
    const version = encryptionVersion(p, keyVersion);
    const v = p.versions[String(version)];
    if (!v) throw new ArcaError('ERR_INTERNAL', 'internal error', { details: { reason: 'key version missing', version } });
    const raw = await this.#withKey(p, v.ref, input, (backend, ref, aad) => backend.encrypt(ref, plaintext, aad));
    return { ciphertext: formatCiphertext(version, raw), version };
  }

  async decrypt(p: KeyPolicy, ciphertext: string, input: CryptoInput): Promise<{ plaintext: Uint8Array; version: number }> {
    const parsed = parseCiphertext(ciphertext);
    const v = decryptionVersion(p, parsed.version);
    if (parsed.raw.length < 12) throw new ArcaError('ERR_TRANSIT_CIPHERTEXT_MALFORMED', 'invalid ciphertext length');
    try {
      const plaintext = await this.#withKey(p, v.ref, input, (backend, ref, aad) => backend.decrypt(ref, parsed.raw, aad));
      return { plaintext, version: parsed.version };
    } catch (err) {
      // One message for every authentication failure, whatever the backend said.
      if (isArcaError(err, 'ERR_CRYPTO_DECRYPT')) throw new ArcaError('ERR_CRYPTO_DECRYPT', AUTH_FAILED);
      throw err;
    }
  }

  async #withKey<T>(
    p: KeyPolicy,
    ref: Uint8Array,
    input: CryptoInput,
    op: (backend: KeyBackend, ref: Uint8Array, aad: Uint8Array) => Promise<T>,
  ): Promise<T> {
    const backend = this.backendFor(p.type);
    const ad = input.associatedData ?? EMPTY;
    if (!p.derived) return op(backend, ref, ad);
    const context = input.context;
    if (!context || context.length === 0) throw new ArcaError('ERR_INVALID_REQUEST', MISSING_CONTEXT);
    if (p.type === 'hsm-aes256-gcm96') return op(backend, ref, contextAad(context, ad));
    const derived = deriveKey(ref, context);
    try {
      return await op(backend, derived, ad);
    } finally {
      derived.fill(0);
    }
  }
}

/** Vault's derivation for `kdf: hkdf_sha256`: HKDF-SHA256, no salt, info = context, 32 bytes. */
export function deriveKey(versionKey: Uint8Array, context: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', versionKey, EMPTY, context, 32));
}

/** Unambiguous AAD binding a context (HSM derived keys): label ‖ u32be(len) ‖ context ‖ associated data. */
export function contextAad(context: Uint8Array, associatedData: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONTEXT_AAD_LABEL.length + 4 + context.length + associatedData.length);
  out.set(CONTEXT_AAD_LABEL, 0);
  new DataView(out.buffer).setUint32(CONTEXT_AAD_LABEL.length, context.length);
  out.set(context, CONTEXT_AAD_LABEL.length + 4);
  out.set(associatedData, CONTEXT_AAD_LABEL.length + 4 + context.length);
  return out;
}
