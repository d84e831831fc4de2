/** Request-field helpers shared by the transit paths (Vault's weak typing, strict base64). */
import type { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { parseFields } from '../fields.ts';
import { decodeB64 } from './encoding.ts';

const NAME_RE = /^\w(?:[\w.-]*\w)?$/;

export function checkName(name: string): string {
  if (!NAME_RE.test(name) || name.length > 256) {
    throw new ArcaError('ERR_INVALID_REQUEST', 'invalid key name: use up to 256 letters, digits, "_", "-" and ".", starting and ending with a letter or digit');
  }
  return name;
}

/** parseFields (a JSON null is an absent field, as in Vault). */
export function parseBody<S extends z.ZodType>(schema: S, data: Record<string, unknown>): z.output<S> {
  return parseFields(schema, data);
}

/** Decodes a base64 request field; a bad value is a 400 with Go's wording. */
export function b64Field(value: string | undefined, field: string): Uint8Array | undefined {
  if (value === undefined) return undefined;
  const r = decodeB64(value);
  if (!r.ok) throw new ArcaError('ERR_INVALID_REQUEST', r.error, { details: { field } });
  return r.bytes;
}

export function invalid(message: string): ArcaError {
  return new ArcaError('ERR_INVALID_REQUEST', message);
}

export function keyNotFound(): ArcaError {
  return new ArcaError('ERR_TRANSIT_KEY_NOT_FOUND', 'encryption key not found');
}
