import type { Command } from 'commander';

/**
 * Every top-level command and the module that defines it. Modules are imported only when their
 * command runs, so `arca kms-plugin` never loads fastify and `arca etcd` never loads the server.
 * Each module exports `register(cmd: Command): void` that adds options, subcommands and the action.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<{ register(cmd: Command): void }>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'server', summary: 'run the Arca server', load: () => import('./server.ts') },
  { name: 'operator', summary: 'init, unseal, seal a server; generate a root token or rekey with key shares', load: () => import('./operator.ts') },
  { name: 'status', summary: 'show seal and HA status of a server', load: () => import('./status.ts') },
  // one line per command, e.g.
  // { name: 'server', summary: 'run the Arca server', load: () => import('./server.ts') },
  { name: 'key', summary: 'manage transit keys (create, list, show, rotate, config, delete)', load: () => import('./key.ts') },
  { name: 'encrypt', summary: 'encrypt stdin with a transit key', load: () => import('./encrypt.ts') },
  { name: 'decrypt', summary: 'decrypt a transit ciphertext from stdin', load: () => import('./encrypt.ts') },
  { name: 'secret', summary: 'read and write KV v2 secrets (put, get, list, delete, undelete, destroy, metadata, search)', load: () => import('./secret.ts') },
  { name: 'encryption-config', summary: 'generate, validate (--lint) and rotate Kubernetes EncryptionConfiguration files', load: () => import('./encryption-config.ts') },
  { name: 'etcd', summary: 'scan, decrypt and rewrite Kubernetes values in etcd (encryption at rest)', load: () => import('./etcd.ts') },
  { name: 'kms-plugin', summary: 'serve the Kubernetes KMS v2 plugin API on a unix socket (remote transit key or local HSM)', load: () => import('./kms-plugin.ts') },
  { name: 'audit', summary: 'verify hash-chained audit logs; enable, disable and list audit devices', load: () => import('./audit.ts') },
  { name: 'token', summary: 'create, look up and revoke tokens', load: () => import('./token.ts') },
  { name: 'auth', summary: 'enable, disable and list auth methods; configure Kubernetes auth (config, roles)', load: () => import('./auth.ts') },
  { name: 'injector', summary: 'serve the mutating admission webhook that injects arca agent into pods; create its certificates', load: () => import('./injector.ts') },
  { name: 'csi-provider', summary: 'serve the Secrets Store CSI Driver provider API on a unix socket (pod token login, files, templates)', load: () => import('./csi-provider.ts') },
  { name: 'check', summary: 'control-plane hardening check (CPH catalogue): manifests, kubelet, files, live etcd', load: () => import('./check.ts') },
  { name: 'kms', summary: 'rotate the KMS key-encryption key end to end (kms rotate), resumable', load: () => import('./kms-rotate.ts') },
  { name: 'policy', summary: 'write, read, list and delete ACL policies', load: () => import('./policy.ts') },
  { name: 'pki', summary: 'control-plane PKI: create the Kubernetes, etcd and front-proxy CAs and issue a node\'s certificates', load: () => import('./pki.ts') },
  { name: 'agent', summary: 'in-pod agent: render secrets into files (init, sidecar) or a command environment (exec)', load: () => import('./agent.ts') },
  { name: 'login', summary: 'log in (kubernetes service-account token, userpass, oidc) and print or store the token', load: () => import('./login.ts') },
  { name: 'mfa', summary: 'enroll TOTP for login MFA (mfa totp enroll)', load: () => import('./mfa.ts') },
  { name: 'approvals', summary: 'list, show and approve requests held for quorum approval', load: () => import('./approvals.ts') },
  { name: 'unwrap', summary: 'unwrap a response-wrapping token once', load: () => import('./unwrap.ts') },
];
