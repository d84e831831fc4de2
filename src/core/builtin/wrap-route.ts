/**
 * Vault's `sys/wrapping/wrap`: the caller's own fields as the response, which the core's pipeline
 * then wraps (X-Vault-Wrap-TTL; Vault's API client sends 5m for this path). Every field of the
 * request is HMAC'd in the audit log, whatever its name (the route's `sensitive`).
 */
import { ArcaError } from '../../errors/index.ts';
import type { CoreRoutes } from '../core-routes.ts';

export function registerWrapRoute(routes: CoreRoutes): void {
  routes.set('sys/wrapping/wrap', {
    local: false,
    sensitive: ['*'],
    handlers: {
      update: async (r) => {
        if (!r.wrapTtl) throw new ArcaError('ERR_INVALID_REQUEST', 'endpoint requires response wrapping to be used: set a wrap TTL (X-Vault-Wrap-TTL header, vault write -wrap-ttl=5m sys/wrapping/wrap ...)');
        if (Object.keys(r.data).length === 0) throw new ArcaError('ERR_INVALID_REQUEST', 'no data to wrap: send the fields to wrap as the JSON body');
        return { data: { ...r.data } };
      },
    },
  });
}
