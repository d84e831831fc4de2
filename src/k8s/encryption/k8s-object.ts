/**
 * Shows what a decrypted value is: the `k8s\0` protobuf envelope (runtime.Unknown: 1 typeMeta
 * {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType) or a JSON object, decoded far
 * enough to give kind, namespace, name and the data keys. Never returns data values.
 */
import { decodeUtf8, readFields, type WireField } from './protowire.ts';

export interface ObjectSummary {
  encoding: 'protobuf' | 'json' | 'unknown';
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  /** keys of `data` (Secret, ConfigMap) and `binaryData` (ConfigMap), sorted */
  dataKeys?: string[];
}

const MAGIC = Buffer.from('k8s\0', 'latin1');

function str(f: WireField | undefined): string | undefined {
  return f?.bytes ? decodeUtf8(f.bytes, 'string field') : undefined;
}

/** Copies string fields of a nested message (field number → summary key) into `out`. */
function copyStrings(out: ObjectSummary, msg: Uint8Array | undefined, names: Record<number, 'apiVersion' | 'kind' | 'name' | 'namespace'>): void {
  if (!msg) return;
  const fields = readFields(msg);
  for (const [num, key] of Object.entries(names)) {
    const v = str(fields.find((f) => f.num === Number(num)));
    if (v !== undefined) out[key] = v;
  }
}

function mapKeys(fields: WireField[], num: number): string[] {
  return fields.filter((f) => f.num === num && f.bytes).map((f) => str(readFields(f.bytes!).find((e) => e.num === 1)) ?? '');
}

function fromProtobuf(buf: Uint8Array): ObjectSummary {
  const out: ObjectSummary = { encoding: 'protobuf' };
  const unknown = readFields(buf.subarray(4));
  copyStrings(out, unknown.find((f) => f.num === 1)?.bytes, { 1: 'apiVersion', 2: 'kind' });
  const raw = unknown.find((f) => f.num === 2)?.bytes;
  if (!raw) return out;
  const obj = readFields(raw);
  // Field 1 of every built-in object is its ObjectMeta: 1 name, 3 namespace.
  copyStrings(out, obj.find((f) => f.num === 1)?.bytes, { 1: 'name', 3: 'namespace' });
  if (out.kind === 'Secret') out.dataKeys = mapKeys(obj, 2).sort();
  else if (out.kind === 'ConfigMap') out.dataKeys = [...mapKeys(obj, 2), ...mapKeys(obj, 3)].sort();
  return out;
}

function fromJson(buf: Uint8Array): ObjectSummary {
  const v: unknown = JSON.parse(Buffer.from(buf).toString('utf8'));
  const out: ObjectSummary = { encoding: 'json' };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  const o = v as Record<string, unknown>;
  if (typeof o['apiVersion'] === 'string') out.apiVersion = o['apiVersion'];
  if (typeof o['kind'] === 'string') out.kind = o['kind'];
  const meta = o['metadata'];
  if (meta && typeof meta === 'object') {
    const m = meta as Record<string, unknown>;
    if (typeof m['name'] === 'string') out.name = m['name'];
    if (typeof m['namespace'] === 'string') out.namespace = m['namespace'];
  }
  const keys: string[] = [];
  for (const field of ['data', 'binaryData', 'stringData']) {
    const d = o[field];
    if (d && typeof d === 'object' && !Array.isArray(d)) keys.push(...Object.keys(d));
  }
  if (keys.length || 'data' in o) out.dataKeys = [...new Set(keys)].sort();
  return out;
}

/** Best effort: malformed input gives `{encoding: 'unknown'}`, never an exception. */
export function summarizeObject(plaintext: Uint8Array): ObjectSummary {
  try {
    if (plaintext.length >= 4 && Buffer.from(plaintext.subarray(0, 4)).equals(MAGIC)) return fromProtobuf(plaintext);
    const first = plaintext.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (first >= 0 && plaintext[first] === 0x7b) return fromJson(plaintext);
  } catch {
    // fall through
  }
  return { encoding: 'unknown' };
}
