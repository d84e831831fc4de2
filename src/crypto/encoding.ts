/** Byte helpers shared by the crypto core (PURE). */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const fromUtf8 = (b: Uint8Array): string => new TextDecoder().decode(b);
export const toB64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Strict base64 / hex decoding: returns undefined for anything that is not exactly that encoding.
 * Padded standard base64 is a length that is a multiple of 4 and the alphabet with at most two `=` at
 * the end, checked without a repeated group: V8 recurses per group, which overflows the stack on a
 * large input (a storage snapshot).
 */
export function decodeB64Strict(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function decodeHexStrict(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/**
 * An accessor (a token's public handle) from random bytes: base64url that never starts with "-", so
 * no CLI reads it as an option (commander took `arca approvals show -J_2…` for a flag). A leading
 * "-" (1 in 64) becomes "A": 143.98 of the 144 bits of 18 bytes remain.
 */
export function toAccessor(random: Uint8Array): string {
  const s = Buffer.from(random.buffer, random.byteOffset, random.byteLength).toString('base64url');
  return s.charCodeAt(0) === 0x2d ? `A${s.slice(1)}` : s;
}
