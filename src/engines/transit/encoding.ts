/**
 * Go-compatible strict base64 (std alphabet, padded), as Vault's transit expects for `plaintext`,
 * `context`, `associated_data` and the ciphertext body. Node's Buffer decoder is lenient (it skips
 * junk), which would let a typo decrypt to something else; this one refuses and says where.
 */

/** Decodes or returns the Go-style error text (`illegal base64 data at input byte N`). */
export function decodeB64(s: string): { ok: true; bytes: Uint8Array } | { ok: false; error: string } {
  // Go's decoder drops CR and LF anywhere in the input.
  const t = s.includes('\n') || s.includes('\r') ? s.replace(/[\r\n]/g, '') : s;
  // Fast path for the common, valid input; the byte-by-byte scan only runs to name the bad byte.
  const bad = t.length % 4 === 0 && B64_CHARS.test(t) ? -1 : firstInvalidByte(t);
  if (bad !== -1) return { ok: false, error: `illegal base64 data at input byte ${bad}` };
  // Decoded into an exact, unpooled buffer of its own (callers may wipe or transfer it).
  const pad = t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((t.length / 4) * 3 - pad);
  Buffer.from(bytes.buffer).write(t, 'base64');
  return { ok: true, bytes };
}

/** With a length that is a multiple of 4, this is exactly Go's padded StdEncoding alphabet. */
const B64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

export function encodeB64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function isB64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/** Index of the first byte that makes `t` invalid padded base64, or -1 when it is valid. */
function firstInvalidByte(t: string): number {
  const n = t.length;
  let pad = 0;
  if (n > 0 && t.charCodeAt(n - 1) === 61) pad = n > 1 && t.charCodeAt(n - 2) === 61 ? 2 : 1;
  const body = n - pad;
  for (let i = 0; i < body; i++) if (!isB64Char(t.charCodeAt(i))) return i;
  if (n % 4 !== 0) return n - (n % 4) < body ? n - (n % 4) : body;
  // "==" is only valid after two data characters in the last quantum, "=" after three.
  if (pad > 0 && body % 4 !== 4 - pad) return body;
  return -1;
}
