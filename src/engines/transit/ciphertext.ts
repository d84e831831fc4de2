/**
 * Vault's transit ciphertext form `vault:v<N>:<base64(nonce ‖ ciphertext ‖ tag)>`, so clients written
 * for Vault accept Arca's ciphertexts unchanged. Parse errors use Vault's wording (clients sometimes
 * match on it) under the stable code ERR_TRANSIT_CIPHERTEXT_MALFORMED.
 */
import { ArcaError } from '../../errors/index.ts';
import { decodeB64, encodeB64 } from './encoding.ts';

const PREFIX = 'vault:';

export function formatCiphertext(version: number, raw: Uint8Array): string {
  return `${PREFIX}v${version}:${encodeB64(raw)}`;
}

export interface ParsedCiphertext {
  version: number;
  raw: Uint8Array;
}

/** Splits a ciphertext into its key version and raw bytes. Does not check the version against a key. */
export function parseCiphertext(s: string): ParsedCiphertext {
  if (!s.startsWith(PREFIX)) throw malformed('invalid ciphertext: no prefix');
  const rest = s.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon === -1) throw malformed('invalid ciphertext: wrong number of fields');
  const vpart = rest.slice(0, colon);
  if (!/^v\d{1,9}$/.test(vpart)) throw malformed('invalid ciphertext: version number could not be decoded');
  // Vault reads a `v0` ciphertext as version 1 (numbering has started at 1 since 0.3).
  const version = Math.max(1, Number(vpart.slice(1)));
  const body = decodeB64(rest.slice(colon + 1));
  if (!body.ok) throw malformed('invalid ciphertext: could not decode base64');
  return { version, raw: body.bytes };
}

function malformed(message: string): ArcaError {
  return new ArcaError('ERR_TRANSIT_CIPHERTEXT_MALFORMED', message);
}
