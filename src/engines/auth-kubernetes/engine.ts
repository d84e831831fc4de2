/**
 * The `kubernetes` auth method: `config`, `role/:name` (CRUD + LIST) and `login`.
 *
 * Storage (this mount's barrier view):
 *   config        KubernetesConfig JSON (the reviewer JWT is a secret: it stays behind the barrier)
 *   role/<name>   KubernetesRole JSON
 * Both are cached in memory and dropped on every write, so a login costs no storage read; the HA
 * manager restarts engines on takeover, which drops the caches too.
 */
import { ArcaError } from '../../errors/index.ts';
import { checkRoleName, ROLE_NAME } from '../fields.ts';
import { EngineRouter } from '../router.ts';
import type { Engine, EngineContext } from '../types.ts';
import { configData, configWarnings, type KubernetesConfig, parseConfig } from './config.ts';
import { type KeySource, pemKeySource, RemoteKeySource } from './key-source.ts';
import { login } from './login.ts';
import { type KubernetesRole, parseRole, roleData, storedRole } from './role.ts';

const CONFIG = 'config';
const ROLE_PREFIX = 'role/';
const enc = new TextEncoder();
const dec = new TextDecoder();

export function createKubernetesAuthEngine(ctx: EngineContext): Engine {
  const s = ctx.storage;
  let config: { value: KubernetesConfig | undefined; keys?: KeySource } | undefined;
  const roles = new Map<string, KubernetesRole | undefined>();

  const loadConfig = async (): Promise<KubernetesConfig | undefined> => {
    if (!config) {
      const b = await s.get(CONFIG);
      config = { value: b ? (JSON.parse(dec.decode(b)) as KubernetesConfig) : undefined };
    }
    return config.value;
  };
  const loadRole = async (name: string): Promise<KubernetesRole | undefined> => {
    if (!ROLE_NAME.test(name)) return undefined;
    if (!roles.has(name)) {
      const b = await s.get(ROLE_PREFIX + name);
      roles.set(name, b ? storedRole(dec.decode(b)) : undefined);
    }
    return roles.get(name);
  };
  /** One key source per config version: its JWKS cache lives as long as the config does. */
  const keysFor = (c: KubernetesConfig): KeySource => {
    if (config?.value === c && config.keys) return config.keys;
    const k = c.pem_keys.length
      ? pemKeySource(c.pem_keys)
      : new RemoteKeySource({
          ...(c.jwks_url ? { jwksUrl: c.jwks_url } : { discoveryUrl: c.oidc_discovery_url }),
          ca: c.jwks_ca_pem || c.kubernetes_ca_cert,
          minRefreshSeconds: c.jwks_min_refresh_seconds,
          now: ctx.now,
        });
    if (config?.value === c) config.keys = k;
    return k;
  };

  const router = new EngineRouter()
    .add('config', {
      read: async () => {
        const c = await loadConfig();
        if (!c) throw new ArcaError('ERR_NOT_FOUND', '');
        return { data: configData(c) };
      },
      update: async (r) => {
        const c = parseConfig(r.data, await loadConfig());
        await s.put(CONFIG, enc.encode(JSON.stringify(c)));
        config = { value: c };
        return configWarnings(r.data);
      },
    })
    .add('role', { list: async () => listRoles() })
    .add('role/:name', {
      read: async (_r, p) => {
        const role = await loadRole(checkRoleName(p['name']!));
        if (!role) throw new ArcaError('ERR_NOT_FOUND', '');
        return { data: roleData(role) };
      },
      update: async (r, p) => {
        const name = checkRoleName(p['name']!);
        const { role, warnings } = parseRole(r.data, await loadRole(name));
        await s.put(ROLE_PREFIX + name, enc.encode(JSON.stringify(role)));
        roles.set(name, role);
        if (!role.audience) ctx.log.warn({ role: name }, 'kubernetes auth role has no audience');
        return warnings.length ? { data: null, warnings } : undefined;
      },
      delete: async (_r, p) => {
        const name = checkRoleName(p['name']!);
        await s.delete(ROLE_PREFIX + name);
        roles.delete(name);
        return undefined;
      },
    })
    .add('login', {
      update: async (r) => {
        const { issue, id } = await login(
          { config: loadConfig, role: loadRole, keys: keysFor, nowSec: () => Math.floor(ctx.now() / 1000) },
          { data: r.data, mountPoint: r.mountPoint, clientAddr: r.clientAddr },
        );
        ctx.log.info({ requestId: r.id, namespace: id.namespace, serviceAccount: id.name }, 'kubernetes login');
        return { issue };
      },
    });

  async function listRoles() {
    const keys = (await s.list(ROLE_PREFIX)).sort();
    if (keys.length === 0) throw new ArcaError('ERR_NOT_FOUND', '');
    return { data: { keys } };
  }

  return {
    type: 'kubernetes',
    // The global audit list already HMACs these; naming them here keeps this engine safe on its own.
    sensitiveFields: ['jwt', 'token_reviewer_jwt'],
    handle: (req) => {
      // Only under auth/ is login unauthenticated; a mount made through sys/mounts would be unusable.
      if (!req.mountPoint.startsWith('auth/')) throw new ArcaError('ERR_INVALID_REQUEST', 'the kubernetes auth method must be enabled under auth/ with sys/auth/<path>');
      return router.dispatch({ ...req, path: req.path.replace(/\/$/, '') });
    },
    routes: () => router.routes(),
    exists: async (req) => {
      const m = /^role\/([^/]+)$/.exec(req.path);
      if (m) return (await loadRole(m[1]!)) !== undefined;
      if (req.path === 'config') return (await loadConfig()) !== undefined;
      return true;
    },
  };
}
