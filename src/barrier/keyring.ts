/**
 * The barrier keyring: an ordered set of AES-256 "terms". New writes use the active (newest) term;
 * reads use whichever term a value names, so old data stays readable after `sys/rotate`.
 * PURE: serialisation only. The keyring itself is stored encrypted under the root key.
 */
import { ArcaError } from '../errors/index.ts';
import { KEY_LEN } from '../crypto/index.ts';

export interface Term {
  term: number;
  key: Uint8Array;
  /** Unix ms. */
  installedAt: number;
}

export class Keyring {
  readonly #terms = new Map<number, Term>();
  #active = 0;

  static fresh(key: Uint8Array, now: number): Keyring {
    const k = new Keyring();
    k.add({ term: 1, key, installedAt: now });
    return k;
  }

  add(t: Term): void {
    if (t.key.length !== KEY_LEN) throw new ArcaError('ERR_INTERNAL', 'barrier term key must be 32 bytes', { expose: false });
    this.#terms.set(t.term, t);
    if (t.term > this.#active) this.#active = t.term;
  }

  get activeTerm(): Term {
    return this.#terms.get(this.#active)!;
  }

  term(n: number): Term | undefined {
    return this.#terms.get(n);
  }

  get terms(): Term[] {
    return [...this.#terms.values()].sort((a, b) => a.term - b.term);
  }

  serialize(): Uint8Array {
    const doc = {
      v: 1,
      active: this.#active,
      terms: this.terms.map((t) => ({ term: t.term, key: Buffer.from(t.key).toString('base64'), installedAt: t.installedAt })),
    };
    return new TextEncoder().encode(JSON.stringify(doc));
  }

  static deserialize(bytes: Uint8Array): Keyring {
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new ArcaError('ERR_BARRIER_DECRYPT', 'barrier keyring is corrupt', { expose: false });
    }
    const d = doc as { v?: number; terms?: { term: number; key: string; installedAt: number }[] };
    if (d.v !== 1 || !Array.isArray(d.terms) || d.terms.length === 0) {
      throw new ArcaError('ERR_BARRIER_DECRYPT', 'barrier keyring is corrupt', { expose: false });
    }
    const k = new Keyring();
    for (const t of d.terms) k.add({ term: t.term, key: new Uint8Array(Buffer.from(t.key, 'base64')), installedAt: t.installedAt });
    return k;
  }

  wipe(): void {
    for (const t of this.#terms.values()) t.key.fill(0);
    this.#terms.clear();
    this.#active = 0;
  }
}
