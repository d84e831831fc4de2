/**
 * One object's file bytes from its secret, through the shared renderer of src/render (the same
 * code, spec and bytes as `arca agent`): secretKey → field, format, template. The only CSI-specific
 * step is `encoding` (vault-csi-provider's base64/hex), which decodes a single field's text.
 */
import { ArcaError, isArcaError } from '../../errors/index.ts';
import type { SecretInput } from '../../render/index.ts';
import type { ObjectSpec } from './params.ts';

function decode(text: string, spec: ObjectSpec): Buffer {
  const fail = () => new ArcaError('ERR_CSI_DECODE_FAILED', `object ${spec.objectName}: the value of ${spec.secretKey} is not valid ${spec.encoding}`);
  if (spec.encoding === 'hex') {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw fail();
    return Buffer.from(text, 'hex');
  }
  const t = text.replace(/\s+/g, '');
  const std = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t);
  if (!std && !/^[A-Za-z0-9_-]*$/.test(t)) throw fail();
  return Buffer.from(t, std ? 'base64' : 'base64url');
}

export function renderObject(spec: ObjectSpec, secret: SecretInput): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = spec.renderer.render(secret);
  } catch (err) {
    // Same code as the agent's; the message gains the object's name (never a value).
    if (isArcaError(err)) throw new ArcaError(err.code, `object ${spec.objectName}: ${err.message}`);
    throw err;
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return spec.encoding === 'utf-8' ? buf : decode(buf.toString('utf8'), spec);
}
