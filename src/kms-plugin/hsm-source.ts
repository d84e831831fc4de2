/**
 * KeySource backed by non-extractable AES-256 keys in a PKCS#11 token on the node (SoftHSM2 in
 * tests). Key versions are token objects labelled `<label>/v1`, `<label>/v2`, …; the highest
 * existing version is current. Each version gets a random 16-byte CKA_ID and its key_id is
 * `pkcs11-<hex CKA_ID>`, so a version recreated after deletion never repeats a key_id.
 * Rotation = `rotateHsmKey` (CLI: `arca kms-plugin --pkcs11-rotate`) creates the next version;
 * running plugins pick it up at their next refresh. Old versions decrypt until destroyed.
 */
import { randomBytes } from 'node:crypto';
import { ArcaError } from '../errors/index.ts';
import { type HsmKey, Pkcs11Hsm, type Pkcs11HsmOptions } from '../keys/pkcs11/index.ts';
import { KEK_AAD, type KeyMeta, type KeySource, roundTrip, type WrappedKek } from './key-source.ts';

const ID_PREFIX = 'pkcs11-';
/** Versions are scanned upward from 1; a gap ends the scan. */
const MAX_VERSIONS = 1000;

export function hsmKeyId(key: HsmKey): string {
  return ID_PREFIX + Buffer.from(key.id).toString('hex');
}

function aad(keyId: string): Uint8Array {
  return Buffer.from(`${KEK_AAD}\0${keyId}`, 'utf8');
}

/** The versions of `label` on the token, in order (v1 first). */
async function listVersions(hsm: Pkcs11Hsm, label: string): Promise<HsmKey[]> {
  const out: HsmKey[] = [];
  for (let n = 1; n <= MAX_VERSIONS; n++) {
    const k = await hsm.findKey(`${label}/v${n}`);
    if (!k) break;
    out.push(k);
  }
  return out;
}

/** Creates the next version of the key (v1 if none exists) and returns its key_id. */
export async function rotateHsmKey(hsm: Pkcs11Hsm, label: string): Promise<string> {
  const versions = await listVersions(hsm, label);
  const key = await hsm.generateAesKey(`${label}/v${versions.length + 1}`, randomBytes(16));
  return hsmKeyId(key);
}

export class HsmKeySource implements KeySource {
  readonly description: string;
  readonly #hsm: Pkcs11Hsm;
  readonly #label: string;
  #current: HsmKey | undefined;
  #known = new Map<string, HsmKey>();

  private constructor(hsm: Pkcs11Hsm, label: string) {
    this.#hsm = hsm;
    this.#label = label;
    this.description = `pkcs11/${hsm.tokenLabel}/${label}`;
  }

  /** Opens the token; creates version 1 of the key if the token holds none. */
  static async open(o: Pkcs11HsmOptions & { keyLabel: string }): Promise<HsmKeySource> {
    const hsm = await Pkcs11Hsm.open(o);
    try {
      if ((await listVersions(hsm, o.keyLabel)).length === 0) await rotateHsmKey(hsm, o.keyLabel);
    } catch (err) {
      await hsm.close();
      throw err;
    }
    return new HsmKeySource(hsm, o.keyLabel);
  }

  async refresh(): Promise<KeyMeta> {
    const versions = await listVersions(this.#hsm, this.#label);
    const current = versions.at(-1);
    if (!current) throw new ArcaError('ERR_HSM_KEY_MISSING', `no key labelled ${this.#label}/v1 on token ${this.#hsm.tokenLabel}`);
    this.#current = current;
    this.#known = new Map(versions.map((k) => [hsmKeyId(k), k]));
    const known = this.#known;
    return { currentKeyId: hsmKeyId(current), allows: (id) => known.has(id) };
  }

  async wrap(kek: Uint8Array): Promise<WrappedKek> {
    if (!this.#current) await this.refresh();
    const key = this.#current!;
    const keyId = hsmKeyId(key);
    return { keyId, wrapped: await this.#hsm.encryptGcm(key, kek, aad(keyId)) };
  }

  async unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    const key = this.#known.get(keyId) ?? (await this.#lookup(keyId));
    return this.#hsm.decryptGcm(key, wrapped, aad(keyId));
  }

  probe(): Promise<void> {
    return roundTrip(this, 'ERR_HSM_UNAVAILABLE', 'HSM round trip returned different bytes');
  }

  async close(): Promise<void> {
    await this.#hsm.close();
  }

  /** A key_id not seen at the last refresh: must name a version of this key still on the token. */
  async #lookup(keyId: string): Promise<HsmKey> {
    const unknown = () => new ArcaError('ERR_KMS_KEY_ID_UNKNOWN', `key_id is not a version of ${this.description}`);
    const hex = keyId.startsWith(ID_PREFIX) ? keyId.slice(ID_PREFIX.length) : '';
    if (!/^[0-9a-f]{2,128}$/.test(hex) || hex.length % 2) throw unknown();
    const key = await this.#hsm.findKeyById(Buffer.from(hex, 'hex'));
    if (!key?.label.startsWith(`${this.#label}/v`)) throw unknown();
    return key;
  }
}
