/**
 * Request body parsing for the Vault API: JSON objects (any or no Content-Type, as Vault reads them)
 * and form-encoded bodies. Nesting is bounded BEFORE JSON.parse so a hostile body can exhaust no
 * stack here nor downstream (engines' JSON.stringify, audit redaction): it is a 400 at the edge.
 */
import { ArcaError } from '../errors/index.ts';

/** Deepest object/array nesting accepted; Vault API bodies nest a handful of levels. */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJ = 0x7b; // {
const OPEN_ARR = 0x5b; // [
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `text` nests objects/arrays deeper than `max` (strings are skipped, escapes honoured). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) depth--;
  }
  return false;
}

function parseForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = out[k] === undefined ? v : `${String(out[k])},${v}`;
  return out;
}

/** The request body as a field map: `{}` for no body; a coded 400 for anything but a JSON object or a form. */
export function parseBody(buf: Buffer | undefined, contentType: string | undefined): Record<string, unknown> {
  if (!buf || buf.length === 0) return {};
  const text = buf.toString('utf8');
  const first = text.trimStart()[0];
  if (contentType?.startsWith('application/x-www-form-urlencoded') && first !== '{' && first !== '[') return parseForm(text);
  // Nesting beyond MAX_JSON_DEPTH needs at least that many brackets: short bodies skip the scan.
  if (text.length > MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new ArcaError('ERR_INVALID_REQUEST', `error parsing JSON: nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ArcaError('ERR_INVALID_REQUEST', 'error parsing JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ArcaError('ERR_INVALID_REQUEST', 'error parsing JSON: the body must be a JSON object');
  return parsed as Record<string, unknown>;
}
