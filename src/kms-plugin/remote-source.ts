/**
 * KeySource backed by a transit key on an Arca server, reached only through src/client. key_id is
 * the transit version id (`version_ids[N]`, a UUID the server never reuses), so deleting and
 * recreating a key under the same name yields new key_ids.
 *
 * The token can come from a file that is re-read whenever it changes (mtime, size or inode), so a
 * token rotated by an operator or a projected volume takes effect without a restart.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ArcaClient } from '../client/index.ts';
import { ArcaError } from '../errors/index.ts';
import { KEK_AAD, type KeyMeta, type KeySource, roundTrip, type WrappedKek } from './key-source.ts';

export interface RemoteSourceOptions {
  addr: string;
  key: string;
  mount?: string;
  token?: string;
  tokenFile?: string;
  caCert?: string;
  /** Per HTTP request; keep well under the apiserver's 3 s call timeout. */
  timeoutMs?: number;
}

const keyBody = z.object({
  data: z.object({
    latest_version: z.number().int().positive(),
    min_decryption_version: z.number().int().nonnegative().default(1),
    version_ids: z.record(z.string(), z.string().min(1)),
  }),
});
const ctBody = z.object({ data: z.object({ ciphertext: z.string() }) });
const ptBody = z.object({ data: z.object({ plaintext: z.string() }) });
const AAD_B64 = Buffer.from(KEK_AAD).toString('base64');

interface Versions {
  latest: number;
  minDecryption: number;
  /** key_id → version number */
  byId: Map<string, number>;
  byVersion: Map<number, string>;
}

export class RemoteKeySource implements KeySource {
  readonly description: string;
  readonly #client: ArcaClient;
  readonly #o: RemoteSourceOptions;
  readonly #mount: string;
  #versions: Versions | undefined;
  #tokenStamp = '';
  #lastRefresh = 0;

  constructor(o: RemoteSourceOptions) {
    this.#o = o;
    this.#mount = (o.mount ?? 'transit').replace(/^\/+|\/+$/g, '');
    this.description = `${this.#mount}/${o.key}`;
    this.#client = new ArcaClient({
      addr: o.addr,
      ...(o.token ? { token: o.token } : {}),
      ...(o.caCert ? { caCert: o.caCert } : {}),
      timeoutMs: o.timeoutMs ?? 2000,
    });
    this.#loadToken();
  }

  async refresh(): Promise<KeyMeta> {
    this.#loadToken();
    const r = keyBody.safeParse((await this.#client.read(this.#path('keys'))).body);
    if (!r.success) throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `server sent a malformed key description for ${this.description}`);
    const d = r.data.data;
    const byId = new Map<string, number>();
    const byVersion = new Map<number, string>();
    for (const [v, id] of Object.entries(d.version_ids)) {
      byId.set(id, Number(v));
      byVersion.set(Number(v), id);
    }
    const current = byVersion.get(d.latest_version);
    if (!current) throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `server gave no version id for ${this.description} v${d.latest_version}`);
    const v: Versions = { latest: d.latest_version, minDecryption: d.min_decryption_version, byId, byVersion };
    this.#versions = v;
    this.#lastRefresh = Date.now();
    return {
      currentKeyId: current,
      allows: (keyId) => {
        const n = v.byId.get(keyId);
        return n !== undefined && n >= v.minDecryption;
      },
    };
  }

  async wrap(kek: Uint8Array): Promise<WrappedKek> {
    this.#loadToken();
    const r = ctBody.parse(
      (await this.#client.write(this.#path('encrypt'), { plaintext: Buffer.from(kek).toString('base64'), associated_data: AAD_B64 })).body,
    );
    const version = versionOf(r.data.ciphertext);
    let keyId = this.#versions?.byVersion.get(version);
    if (!keyId) {
      await this.refresh();
      keyId = this.#versions?.byVersion.get(version);
    }
    if (!keyId) throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', `server encrypted with ${this.description} v${version}, which it does not list`);
    return { keyId, wrapped: Buffer.from(r.data.ciphertext, 'utf8') };
  }

  async unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    let version = this.#versions?.byId.get(keyId);
    // A key_id we have not seen may be a version created since the last refresh: look once, but
    // at most every 2 s, so a stream of bogus key_ids cannot hammer the server.
    if (version === undefined && Date.now() - this.#lastRefresh > 2000) {
      await this.refresh();
      version = this.#versions?.byId.get(keyId);
    }
    if (version === undefined) throw new ArcaError('ERR_KMS_KEY_ID_UNKNOWN', `key_id is not a version of ${this.description}`);
    const text = Buffer.from(wrapped).toString('utf8');
    // The wrapped KEK must be a transit ciphertext of exactly that version.
    if (!text.startsWith(`vault:v${version}:`)) throw new ArcaError('ERR_CRYPTO_DECRYPT', 'ciphertext does not match its key_id');
    this.#loadToken();
    const r = ptBody.parse((await this.#client.write(this.#path('decrypt'), { ciphertext: text, associated_data: AAD_B64 })).body);
    return new Uint8Array(Buffer.from(r.data.plaintext, 'base64'));
  }

  probe(): Promise<void> {
    return roundTrip(this, 'ERR_KMS_PLUGIN_RESPONSE', 'round trip through the server returned different bytes');
  }

  async close(): Promise<void> {
    this.#client.close();
  }

  #path(op: 'keys' | 'encrypt' | 'decrypt'): string {
    return `${this.#mount}/${op}/${encodeURIComponent(this.#o.key)}`;
  }

  /** Re-reads the token file when it changed. A missing or empty file keeps the previous token. */
  #loadToken(): void {
    const f = this.#o.tokenFile;
    if (!f) return;
    let stamp: string;
    try {
      const s = statSync(f);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      if (this.#client.token === undefined) {
        throw new ArcaError('ERR_CONFIG_READ', `cannot read token file ${f}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      return;
    }
    if (stamp === this.#tokenStamp) return;
    const token = readFileSync(f, 'utf8').trim();
    if (token) this.#client.token = token;
    this.#tokenStamp = stamp;
  }
}

function versionOf(ct: string): number {
  const m = /^vault:v(\d+):/.exec(ct);
  if (!m) throw new ArcaError('ERR_KMS_PLUGIN_RESPONSE', 'server returned a ciphertext without a version prefix');
  return Number(m[1]);
}
