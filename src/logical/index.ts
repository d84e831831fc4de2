/**
 * What every layer that reasons about requests shares (engines, the core, policy, audit): the
 * logical operations. Kept below all of them so policy/ and audit/ import no engine module.
 */

/** Vault's logical operations. HTTP PUT and POST both become create or update by existence check. */
export type Operation = 'read' | 'list' | 'create' | 'update' | 'patch' | 'delete';
