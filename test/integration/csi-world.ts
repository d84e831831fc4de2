/**
 * The world of the CSI provider tests and bench: a real `arca server` (dev mode, in-memory),
 * `auth/kubernetes` verifying tokens through the kube stand-in of test/harness/kube-tokens.ts
 * (OIDC discovery + JWKS), a role `app` bound to payments/api with audience `arca`, a file audit
 * device, and `arca csi-provider` on a socket in a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArcaClient } from '../../src/client/index.ts';
import { CsiTestClient, type ProviderProcess, startCsiProvider } from '../../src/k8s/csi/testing.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { stopChild, tempDir, waitFor } from '../harness/index.ts';
import { type KubeApiServer, type ProjectedToken, startKubeApiServer } from '../harness/kube-tokens.ts';

export const APP_SA: ProjectedToken = {
  namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99', audiences: ['arca'],
  pod: { name: 'api-7c9d8f6b5d-x2kqv', uid: '5e1d7f0a-2222-4f10-8e3b-5c4d2a1b0f99' },
};

export interface CsiWorld {
  dir: string;
  srv: ArcaProcess;
  kube: KubeApiServer;
  root: ArcaClient;
  provider: ProviderProcess;
  client: CsiTestClient;
  socketPath: string;
  /** A projected token for payments/api (audience arca) unless overridden. */
  token(over?: Partial<ProjectedToken>): Promise<string>;
  auditLog(): Promise<string>;
  /** Starts (another) provider on the world's socket; the previous one must be gone. */
  restartProvider(args?: string[]): Promise<ProviderProcess>;
  stop(): Promise<void>;
}

export async function startCsiWorld(o: { providerArgs?: string[]; providerEnv?: Record<string, string>; audit?: boolean; logLevel?: string } = {}): Promise<CsiWorld> {
  const dir = await tempDir('arca-csi-');
  const kube = await startKubeApiServer({ algs: ['RS256'] });
  kube.serviceAccounts.set('payments/api', APP_SA.uid);
  const rootToken = `root-${randomBytes(8).toString('hex')}`;
  const srv = await startArca({
    args: ['--dev', '--dev-root-token', rootToken],
    config: { storage: { type: 'inmem' }, log: { level: o.logLevel ?? 'warn' } },
    configDir: dir.path,
  });
  const root = srv.client(rootToken);
  // Dev mode initializes and unseals just after it starts answering.
  await waitFor('dev server unsealed', async () => {
    const b = (await root.request('GET', 'sys/seal-status')).body as { initialized?: boolean; sealed?: boolean };
    return b.initialized && !b.sealed ? true : undefined;
  }, 30_000);
  const audit = join(dir.path, 'audit.log');
  if (o.audit !== false) await root.write('sys/audit/file', { type: 'file', options: { file_path: audit } });
  await root.write('sys/policies/acl/app-read', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }' });
  await root.write('sys/auth/kubernetes', { type: 'kubernetes' });
  await root.write('auth/kubernetes/config', { oidc_discovery_url: kube.url });
  await root.write('auth/kubernetes/role/app', {
    bound_service_account_names: ['api'], bound_service_account_namespaces: ['payments'], audience: 'arca', token_policies: ['app-read'], token_ttl: '10m',
  });
  const socketPath = join(dir.path, 'arca.sock');
  let provider = await startCsiProvider({ socketPath, arcaAddr: srv.addr, args: o.providerArgs ?? ['--metrics-listen', '127.0.0.1:0'], ...(o.providerEnv ? { env: o.providerEnv } : {}) });
  const world: CsiWorld = {
    dir: dir.path,
    srv,
    kube,
    root,
    get provider() {
      return provider;
    },
    client: new CsiTestClient(socketPath),
    socketPath,
    token: (over = {}) => kube.mint({ ...APP_SA, ...over }),
    auditLog: () => readFile(audit, 'utf8').catch(() => ''),
    async restartProvider(args) {
      provider = await startCsiProvider({ socketPath, arcaAddr: srv.addr, args: args ?? o.providerArgs ?? [], ...(o.providerEnv ? { env: o.providerEnv } : {}) });
      return provider;
    },
    async stop() {
      world.client.close();
      await stopChild(provider.child);
      root.close();
      await srv.stop();
      await kube.close();
      await dir.remove();
    },
  };
  return world;
}
