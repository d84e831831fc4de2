/**
 * Minimal protobuf wire-format reader/writer for the few fixed messages the encryption toolkit
 * parses by hand: the KMS v2 `EncryptedObject` stored in etcd and the `runtime.Unknown` envelope of
 * plaintext Kubernetes objects. Only varint (0) and length-delimited (2) fields are produced;
 * fixed32/fixed64 are skipped when read.
 */
import { ArcaError } from '../../errors/index.ts';

export interface WireField {
  num: number;
  wireType: number;
  /** varint value (wire type 0) */
  varint?: bigint;
  /** bytes (wire type 2) — a view into the input */
  bytes?: Uint8Array;
}

function malformed(what: string): ArcaError {
  return new ArcaError('ERR_TRANSFORM_DECRYPT', `malformed protobuf: ${what}`);
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw malformed('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result & 0xffffffffffffffffn, pos];
    shift += 7n;
  }
  throw malformed('varint too long');
}

/** Splits a message into its fields, in wire order. Throws ERR_TRANSFORM_DECRYPT on malformed input. */
export function readFields(buf: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const num = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (num === 0) throw malformed('field number 0');
    if (wireType === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ num, wireType, varint: v });
    } else if (wireType === 2) {
      const [len, p2] = readVarint(buf, pos);
      if (len > BigInt(buf.length - p2)) throw malformed('length past end');
      const end = p2 + Number(len);
      out.push({ num, wireType, bytes: buf.subarray(p2, end) });
      pos = end;
    } else if (wireType === 1) {
      if (pos + 8 > buf.length) throw malformed('truncated fixed64');
      pos += 8;
      out.push({ num, wireType });
    } else if (wireType === 5) {
      if (pos + 4 > buf.length) throw malformed('truncated fixed32');
      pos += 4;
      out.push({ num, wireType });
    } else {
      throw malformed(`unsupported wire type ${wireType}`);
    }
  }
  return out;
}

function varintBytes(v: bigint | number): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number((x & 0x7fn) | 0x80n));
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** Appends fields in the order given (callers pass them in field-number order, like Go's encoder). */
export class WireWriter {
  private parts: Uint8Array[] = [];

  bytes(num: number, data: Uint8Array): this {
    this.parts.push(Uint8Array.from([...varintBytes((num << 3) | 2), ...varintBytes(data.length)]), data);
    return this;
  }

  string(num: number, s: string): this {
    return this.bytes(num, new TextEncoder().encode(s));
  }

  varint(num: number, v: number | bigint): this {
    this.parts.push(Uint8Array.from([...varintBytes(num << 3), ...varintBytes(v)]));
    return this;
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(b: Uint8Array, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw malformed(`${what} is not valid UTF-8`);
  }
}
