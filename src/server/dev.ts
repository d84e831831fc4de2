import type { Core } from '../core/index.ts';

/**
 * Dev mode: initialize with a single share and unseal at once (the share is kept only in memory
 * for this call). A restart of a dev server on the same data dir re-uses it only if it was
 * auto-unsealable, which Shamir is not: dev data dirs are throwaway by design.
 */
export async function devBootstrap(core: Core, rootTokenId?: string): Promise<string> {
  if (core.state !== 'uninitialized') throw new Error('dev mode needs an empty data dir');
  const r = await core.init({ secretShares: 1, secretThreshold: 1, recoveryShares: 1, recoveryThreshold: 1, ...(rootTokenId ? { rootTokenId } : {}) });
  if ((core.state as string) === 'sealed') await core.submitUnsealKey(r.keys[0]);
  return r.rootToken;
}
