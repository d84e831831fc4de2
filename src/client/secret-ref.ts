/**
 * One parser for references to KV v2 secrets, for every process that names one: the CLI
 * (`arca secret get secret/app/db`) and, later, the agent, injector and CSI provider. Both spellings
 * users meet are accepted on a KV v2 mount:
 *   - the CLI form, as `vault kv get secret/app/db` takes it:    `secret/app/db`
 *   - the HTTP API path, as in policies and Vault annotations: `secret/data/app/db`
 * With an explicit mount (`--mount secret`) the path is taken literally, so a secret whose own name
 * starts with `data/` stays reachable.
 */
import { ArcaError } from '../errors/index.ts';

export interface SecretRef {
  /** Mount point without slashes, e.g. `secret`. */
  mount: string;
  /** Path inside the mount, without the API's `data/` segment, e.g. `app/db`. */
  path: string;
}

/** The API segment KV v2 puts between the mount and the secret's path for reads and writes. */
const DATA_SEGMENT = 'data/';

const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');

/**
 * Splits a reference into mount and path. Throws ERR_INVALID_REQUEST when no mount can be told
 * apart; the message names the expected shape but never repeats the reference itself.
 */
export function parseSecretRef(ref: string, mount?: string): SecretRef {
  const p = ref.replace(/^\/+/, '');
  if (mount !== undefined) {
    const m = trimSlashes(mount);
    if (m === '') throw new ArcaError('ERR_INVALID_REQUEST', 'the mount must not be empty, e.g. --mount secret');
    return { mount: m, path: p };
  }
  const i = p.indexOf('/');
  if (i <= 0) throw new ArcaError('ERR_INVALID_REQUEST', 'a secret reference starts with its mount, e.g. secret/app/db (or give the mount separately)');
  const rest = p.slice(i + 1);
  return { mount: p.slice(0, i), path: rest.startsWith(DATA_SEGMENT) ? rest.slice(DATA_SEGMENT.length) : rest };
}

/** The HTTP API path (relative to /v1/) that reads or writes a secret: `<mount>/data/<path>`. */
export function secretDataPath(ref: SecretRef): string {
  return `${ref.mount}/${DATA_SEGMENT}${ref.path}`;
}

/** The HTTP API path of a secret's metadata (versions, current_version): `<mount>/metadata/<path>`. */
export function secretMetadataPath(ref: SecretRef): string {
  return `${ref.mount}/metadata/${ref.path}`;
}
