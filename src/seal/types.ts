/**
 * How the root key is protected at rest. The Shamir seal derives nothing from storage: the unseal key
 * exists only while operators' shares are combined. An auto-unseal seal (PKCS#11) wraps the root key
 * under a key that never leaves the HSM.
 */
export interface AutoSeal {
  readonly type: 'pkcs11';
  /** Label of the wrapping key in the token (recorded in the seal config). */
  readonly keyLabel: string;
  /** Makes sure the wrapping key exists (creating it if allowed) — called by init. */
  prepare(): Promise<void>;
  wrap(rootKey: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Fails with ERR_HSM_UNAVAILABLE / ERR_HSM_KEY_MISSING / ERR_SEAL_UNSEAL_FAILED. */
  unwrap(blob: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}
