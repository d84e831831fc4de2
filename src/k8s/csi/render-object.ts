/**
 * One object's file bytes from its secret: a single field (secretKey, decoded per encoding), a
 * template, or a format. Templates and formats are the shared renderer of src/render (the agent's).
 */
import { ArcaError } from '../../errors/index.ts';
import type { ObjectSpec } from './params.ts';

export interface SecretData {
  fields: Record<string, unknown>;
  version: number | undefined;
}

function decode(text: string, spec: ObjectSpec): Buffer {
  if (spec.encoding === 'utf-8') return Buffer.from(text, 'utf8');
  const fail = () => new ArcaError('ERR_CSI_DECODE_FAILED', `object ${spec.objectName}: the value of ${spec.secretKey} is not valid ${spec.encoding}`);
  if (spec.encoding === 'hex') {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw fail();
    return Buffer.from(text, 'hex');
  }
  const t = text.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t) && !/^[A-Za-z0-9_-]*$/.test(t)) throw fail();
  return Buffer.from(t, /[-_]/.test(t) ? 'base64url' : 'base64');
}

export function renderObject(spec: ObjectSpec, secret: SecretData): Buffer {
  if (spec.secretKey !== undefined && spec.template === undefined && spec.format === undefined) {
    if (!Object.hasOwn(secret.fields, spec.secretKey)) throw new ArcaError('ERR_CSI_SECRET_KEY_MISSING', `object ${spec.objectName}: the secret has no field ${spec.secretKey}`);
    const v = secret.fields[spec.secretKey];
    return decode(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null'), spec);
  }
  // TODO(issue 17): template and format through src/render once it is merged from h-agent.
  return Buffer.from(`${JSON.stringify(secret.fields, null, 2)}\n`);
}
