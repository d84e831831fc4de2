/**
 * Secret random bytes (token values, their accessors) from node:crypto's CSPRNG, drawn in blocks.
 *
 * Why: inside the server one `randomBytes(42)` per login measured 12 µs (hrtime around the call,
 * JWKS login bench at c=16, 2026-12-07; 2–3 µs in an idle process) — OpenSSL's RAND path waits on
 * locks the WebCrypto verifications on the thread pool hold — which was ~5% of a login's CPU.
 * One call per block of BLOCK bytes makes that cost per login negligible.
 *
 * Each byte is handed out once: it is copied out and zeroed in the block at once, and a spent block
 * is replaced, never refilled in place. At most BLOCK bytes of future secrets wait in memory; the
 * token store already keeps every live token in memory (its lookup cache), so this adds no new
 * kind of exposure. Per isolate: worker threads draw their own blocks.
 */
import { randomBytes } from 'node:crypto';

const BLOCK = 4096;

let block: Buffer = Buffer.alloc(0);
let offset = 0;

/** `n` fresh random bytes (a copy of its own, not a view of the block). */
export function secretRandom(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('secretRandom: n must be a non-negative integer');
  if (n > BLOCK / 4) return randomBytes(n);
  if (offset + n > block.length) {
    block = randomBytes(BLOCK);
    offset = 0;
  }
  const part = block.subarray(offset, offset + n);
  // Its own memory, not a slice of Node's shared small-buffer pool, so a holder can wipe it.
  const out = Buffer.allocUnsafeSlow(n);
  part.copy(out);
  part.fill(0);
  offset += n;
  return out;
}
