/**
 * Pins the barrier's on-disk format with one fixed vector, both ways: a fixed keyring, nonce, path
 * and plaintext give exactly these stored bytes, and these bytes (written by an earlier release,
 * say) unseal and read back. A change to the layout, the AAD or the keyring encoding fails here
 * before it can strand data already on disk.
 *
 * The expected hex was computed once outside Arca's code, with node:crypto's aes-256-gcm directly,
 * from the layout documented in barrier.ts:
 *   value   = 0x01 ‖ term(4, BE) ‖ nonce(12) ‖ GCM(termKey, plaintext, AAD = 0x01 ‖ term ‖ path) ‖ tag
 *   keyring = nonce(12) ‖ GCM(rootKey, JSON keyring, AAD = "arca/barrier/keyring/v1") ‖ tag
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { utf8 } from '../crypto/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { Barrier, KEYRING_PATH } from './barrier.ts';

const ROOT_KEY = new Uint8Array(32).fill(0x11);
/** JSON {"v":1,"active":1,"terms":[{"term":1,"key":base64(00 01 … 1f),"installedAt":1700000000000}]} */
const KEYRING_HEX =
  'b0b1b2b3b4b5b6b7b8b9babbf96fdba13bb3030a37bd4d57123ff6d8b3a90fdd6feef5e041c91062fed55ad46f662b13782af78231bae04621873bd8fa03106d9c3f15454e95f9203684cb92363ae39daf8ce44f8d0be4f45ec40ab4ba3b1d27db93938fa22be6fb60d130b1f61ad0f9ebdc6ffe073c87999bab2f887a6714cd93a70bd7e09e2b96b541bce06122d21ef82cdb8d';
const PATH = 'logical/kv/data/app';
const PLAINTEXT = '{"password":"s3cret"}';
const NONCE_HEX = 'a0a1a2a3a4a5a6a7a8a9aaab';
const VALUE_HEX = '0100000001' + NONCE_HEX + '9d3a0c4c36b875d01001a5e92509f3bd02c92d32efe12efddda63db1b21d46d95695da8349';

async function rawWithKeyring(): Promise<InmemStorage> {
  const raw = new InmemStorage();
  await raw.put(KEYRING_PATH, Buffer.from(KEYRING_HEX, 'hex'));
  return raw;
}

describe('barrier on-disk format (fixed vector)', () => {
  it('unseals a stored keyring blob: term 1 with its installation time', async () => {
    const b = new Barrier(await rawWithKeyring());
    await b.unseal(ROOT_KEY);
    assert.deepEqual(b.keyStatus(), { term: 1, installedAt: 1_700_000_000_000 });
  });

  it('writes exactly the pinned bytes for a fixed key, nonce, path and plaintext', async () => {
    const raw = await rawWithKeyring();
    const b = new Barrier(raw, Date.now, () => Buffer.from(NONCE_HEX, 'hex'));
    await b.unseal(ROOT_KEY);
    await b.put(PATH, utf8(PLAINTEXT));
    assert.equal(Buffer.from((await raw.get(PATH))!).toString('hex'), VALUE_HEX);
  });

  it('reads the pinned bytes back with the default (random) nonce source', async () => {
    const raw = await rawWithKeyring();
    await raw.put(PATH, Buffer.from(VALUE_HEX, 'hex'));
    const b = new Barrier(raw);
    await b.unseal(ROOT_KEY);
    assert.equal(new TextDecoder().decode(await b.get(PATH)), PLAINTEXT);
  });

  it('draws a fresh nonce from the source for every write', async () => {
    const raw = await rawWithKeyring();
    let n = 0;
    const b = new Barrier(raw, Date.now, () => new Uint8Array(12).fill(++n));
    await b.unseal(ROOT_KEY);
    await b.put(PATH, utf8(PLAINTEXT));
    await b.put(PATH, utf8(PLAINTEXT));
    assert.equal(Buffer.from((await raw.get(PATH))!.subarray(5, 17)).toString('hex'), '02'.repeat(12));
  });
});
