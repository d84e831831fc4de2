/**
 * `sys/auth` (list) and `sys/auth/:path` (enable, read, disable): auth methods are ordinary mounts
 * under `auth/` in the one mount table, so routing, storage views and the login path's
 * unauthenticated rule need nothing new. Listing keys are relative to `auth/` as in Vault
 * (`token/`, `kubernetes/`). Enable and disable are sudo paths (policy DEFAULT_ROOT_PATHS `sys/auth/*`).
 */
import { z } from 'zod';
import { ArcaError } from '../../errors/index.ts';
import { type EngineRouter, ignoredFieldsResponse, parseFields } from '../../engines/index.ts';
import type { Core } from '../core.ts';
import { type MountEntry, normalizeMountPath } from '../mounts.ts';
import { enableConfig, MountConfigField, mountInfo, type SystemExtension, tuneInfo, tuneMount, VAULT_MOUNT_FIELDS } from './system.ts';

/** Auth mounts carry Vault's `token_type` in their config (core/login-token.ts applies it). */
function authMountInfo(m: MountEntry): Record<string, unknown> {
  return mountInfo(m, { token_type: m.tokenType ?? 'default-service' });
}

const EnableFields = z.object({
  type: z.string({ error: 'missing type' }).min(1, 'missing type'),
  description: z.string().max(1024).optional(),
  /** `vault auth enable -default-lease-ttl=… -max-lease-ttl=… -token-type=…` */
  config: MountConfigField.optional(),
});

const TUNE_SUFFIX = '/tune';

export class AuthMounts implements SystemExtension {
  readonly #core: () => Core;
  readonly #types: ReadonlySet<string>;

  /** `types`: the mount types that are auth methods (a secrets engine cannot be enabled as one). */
  constructor(core: () => Core, types: readonly string[]) {
    this.#core = core;
    this.#types = new Set(types);
  }

  #path(p: string): string {
    return `auth/${normalizeMountPath(p)}`;
  }

  #mount(p: string): MountEntry {
    const path = this.#path(p);
    const m = this.#core().mounts.all.find((x) => x.path === path);
    if (!m) throw new ArcaError('ERR_INVALID_REQUEST', `no auth method enabled at ${path}`);
    return m;
  }

  register(router: EngineRouter): void {
    router
      .add('auth', {
        read: async () => {
          const data: Record<string, unknown> = {};
          for (const m of this.#core().mounts.all) if (m.path.startsWith('auth/')) data[m.path.slice('auth/'.length)] = authMountInfo(m);
          return { data };
        },
      })
      .add('auth/:path*', {
        update: async (r, p) => {
          // sys/auth/<path>/tune (`vault auth tune`), as Vault routes it.
          if (p['path']!.endsWith(TUNE_SUFFIX)) return tuneMount(this.#core(), this.#mount(p['path']!.slice(0, -TUNE_SUFFIX.length)), r.data);
          const f = parseFields(EnableFields, r.data);
          if (!this.#types.has(f.type)) {
            throw new ArcaError('ERR_INVALID_REQUEST', `unknown auth method type: use one of ${[...this.#types].join(', ')}`, { details: { field: 'type' } });
          }
          const path = this.#path(p['path']!);
          // Checked before anything is stored, so a refused config leaves no mount behind.
          const config = enableConfig(path, f.type, f.config);
          await this.#core().mount(path, f.type, {}, f.description ?? '', config);
          return ignoredFieldsResponse(VAULT_MOUNT_FIELDS, r.data);
        },
        read: async (_r, p) => {
          if (p['path']!.endsWith(TUNE_SUFFIX)) return { data: tuneInfo(this.#mount(p['path']!.slice(0, -TUNE_SUFFIX.length))) };
          return { data: authMountInfo(this.#mount(p['path']!)) };
        },
        delete: async (_r, p) => {
          await this.#core().unmount(this.#path(p['path']!));
          return undefined;
        },
      });
  }
}
