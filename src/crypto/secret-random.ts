/**
 * Secret random bytes (token values, their accessors) from node:crypto's CSPRNG, drawn in blocks.
 *
 * Why: inside the server one `randomBytes(42)` per login measured 12 µs of wall time (hrtime around
 * the call, JWKS login bench at c=16, 2026-12-07; 2–3 µs in an idle process), ~5% of a login; one
 * call per block of BLOCK bytes makes that negligible. The bytes are lent to `use` as a view into the
 * block and zeroed as soon as it returns, so nothing is copied or allocated per draw.
 *
 * Each byte is handed out once, and a spent block is replaced, never refilled in place. At most BLOCK
 * bytes of future secrets wait in memory; the token store already keeps every live token in memory
 * (its lookup cache), so this adds no new kind of exposure. Per isolate: worker threads draw their own.
 */
import { randomBytes } from 'node:crypto';

const BLOCK = 4096;

let block: Buffer = Buffer.alloc(0);
let offset = 0;

/** Calls `use` with `n` fresh random bytes, valid only during the call (zeroed when it returns). */
export function withSecretRandom<T>(n: number, use: (bytes: Buffer) => T): T {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('withSecretRandom: n must be a non-negative integer');
  let bytes: Buffer;
  if (n > BLOCK / 4) bytes = randomBytes(n);
  else {
    if (offset + n > block.length) {
      block = randomBytes(BLOCK);
      offset = 0;
    }
    bytes = block.subarray(offset, offset + n);
    offset += n;
  }
  try {
    return use(bytes);
  } finally {
    bytes.fill(0);
  }
}
