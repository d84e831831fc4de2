/**
 * `arca kms rotate`: one-command KEK rotation (transit key → KMS plugins → etcd rewrite → scan
 * proof → retire), resumable from a state file. See docs/operations.md for the runbook.
 * Exit codes: 0 done (or plan printed), 1 usage error, 2 a step failed (the message names the step
 * and the command that continues).
 */
import { readFile, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { ArcaClient } from '../client/index.ts';
import { ArcaError } from '../errors/index.ts';
import { buildTransformers, type EncryptionConfiguration, grpcKmsV2, parseEncryptionConfig } from '../k8s/encryption/index.ts';
import { parseDuration } from '../units/index.ts';
import { connectEtcd, rewrite, scan } from '../k8s/etcd/index.ts';
import { type KeyInfo, plan, type RotateDeps, RotateStepError, readRotationState, runRotation, type ScanCounts, writeRotationState } from '../k8s/rotate/index.ts';
import type { RotationState } from '../k8s/rotate/index.ts';
import { EXIT_RUNTIME, UsageError, reportError } from './exit.ts';

type Opts = Record<string, string | boolean | string[] | undefined>;
const collect = (v: string, prev: string[] = []) => [...prev, v];
const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

const keyBody = z.object({
  data: z.object({
    latest_version: z.number().int().positive(),
    min_decryption_version: z.number().int().nonnegative().default(1),
    version_ids: z.record(z.string(), z.string()).default({}),
  }),
});

/** Resources whose first provider is KMS v2: what a KEK rotation re-encrypts. */
function covered(c: EncryptionConfiguration): { resources: string[]; sockets: string[] } {
  const resources: string[] = [];
  const sockets = new Set<string>();
  for (const r of c.resources) {
    const first = r.providers[0];
    if (first?.kms?.apiVersion === 'v2') {
      resources.push(...r.resources);
      sockets.add(first.kms.endpoint);
    }
  }
  return { resources, sockets: [...sockets] };
}

/** The command line that continues after a failure (same flags, --resume, no --dry-run). */
function continueCommand(argv: string[]): string {
  const args = argv.slice(2).filter((a) => a !== '--resume' && a !== '--dry-run');
  const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  // a token on the command line is not repeated (it would land in shell history twice)
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--token') {
      i++;
      continue;
    }
    if (args[i]!.startsWith('--token=')) continue;
    out.push(q(args[i]!));
  }
  return `arca ${[...out, '--resume'].join(' ')}`;
}

async function run(o: Opts): Promise<void> {
  const key = String(o['key']);
  const mount = String(o['mount']).replace(/^\/+|\/+$/g, '');
  const configPath = String(o['encryptionConfig']);
  const stateFile = String(o['stateFile']);
  let waitMs: number;
  try {
    waitMs = parseDuration(String(o['pluginWait']), { field: '--plugin-wait', unit: 'ms', min: 1 });
  } catch {
    throw new UsageError('--plugin-wait: expected a positive duration like 30s or 5m');
  }
  const num = (k: string, min: number) => {
    const n = Number(o[k]);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)} must be an integer ≥ ${min}`);
    return n;
  };
  const rate = num('rate', 0);
  const concurrency = num('concurrency', 1);
  const pageSize = num('pageSize', 1);
  const endpoints = list(o['endpoints']);
  if (!endpoints.length) throw new UsageError('--endpoints is required');
  const text = await readFile(configPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${configPath}: ${err.code ?? 'error'}`);
  });
  let config: EncryptionConfiguration;
  try {
    config = parseEncryptionConfig(text);
  } catch (err) {
    throw new UsageError(`${configPath}: ${(err as Error).message}`);
  }
  const cov = covered(config);
  if (!cov.resources.length) throw new UsageError(`${configPath}: no resources[] entry has a KMS v2 provider first; nothing to rotate`);
  const sockets = Array.isArray(o['pluginSocket']) ? o['pluginSocket'].map((s) => (s.startsWith('unix://') ? s : `unix://${s}`)) : cov.sockets;
  const prefix = String(o['prefix']).endsWith('/') ? String(o['prefix']) : `${String(o['prefix'])}/`;

  const server = new ArcaClient({
    ...(typeof o['addr'] === 'string' ? { addr: o['addr'] } : {}),
    ...(typeof o['token'] === 'string' ? { token: o['token'] } : {}),
    ...(typeof o['serverCacert'] === 'string' ? { caCert: o['serverCacert'] } : {}),
  });
  const etcdConn: Parameters<typeof connectEtcd>[0] = { endpoints };
  if (typeof o['etcdCacert'] === 'string') etcdConn.cacert = o['etcdCacert'];
  if (typeof o['etcdCert'] === 'string') etcdConn.cert = o['etcdCert'];
  if (typeof o['etcdKey'] === 'string') etcdConn.key = o['etcdKey'];
  const etcd = await connectEtcd(etcdConn);
  const plugins = sockets.map((s) => ({ socket: s, svc: grpcKmsV2('rotate-probe', s, 3000) }));
  const transformers = () => buildTransformers(config, { kmsV1: true });
  const keyPath = `${mount}/keys/${encodeURIComponent(key)}`;
  const log = (line: string) => process.stdout.write(`${line}\n`);

  const deps: RotateDeps = {
    async readKey(): Promise<KeyInfo> {
      const r = keyBody.safeParse((await server.read(keyPath)).body);
      if (!r.success) throw new ArcaError('ERR_INVALID_REQUEST', `${keyPath} is not a transit key description`);
      return { latest: r.data.data.latest_version, minDecryption: r.data.data.min_decryption_version, versionIds: r.data.data.version_ids };
    },
    async rotateKey() {
      await server.write(`${keyPath}/rotate`, {});
    },
    async setMinDecryption(v) {
      await server.write(`${keyPath}/config`, { min_decryption_version: v });
    },
    pluginKeyIds: () =>
      Promise.all(
        plugins.map(async (p) => {
          try {
            const st = await p.svc.status();
            return st.healthz === 'ok' ? { socket: p.socket, keyId: st.keyId } : { socket: p.socket, keyId: st.keyId, error: `healthz ${st.healthz}` };
          } catch (err) {
            return { socket: p.socket, error: (err as { code?: string }).code ?? 'unreachable' };
          }
        }),
      ),
    async rewrite(resume) {
      const t = transformers();
      try {
        let last = 0;
        const stats = await rewrite(etcd, t, {
          prefix,
          resources: cov.resources,
          rate,
          concurrency,
          pageSize,
          stateFile: `${stateFile}.rewrite`,
          resume,
          onProgress: (s) => {
            if (s.scanned - last >= 500) {
              last = s.scanned;
              log(`  scanned ${s.scanned}, rewritten ${s.rewritten}, concurrent writer won ${s.conflicts}`);
            }
          },
        });
        return { ...stats };
      } finally {
        t.close();
      }
    },
    async scan(): Promise<ScanCounts> {
      const t = transformers();
      try {
        const r = await scan(etcd, t, { prefix, resources: cov.resources });
        return { total: r.total, ...r.byState };
      } finally {
        t.close();
      }
    },
    log,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };

  try {
    if (o['dryRun'] === true) {
      const [k, st, counts] = await Promise.all([deps.readKey(), deps.pluginKeyIds(), deps.scan()]);
      for (const l of plan(k, st, cov.resources, counts, o['retire'] === true)) log(l);
      log(`state file: ${stateFile} (nothing written: --dry-run)`);
      return;
    }
    const existing = await readRotationState(stateFile);
    let state: RotationState;
    if (o['resume'] === true) {
      if (!existing) throw new UsageError(`--resume: no rotation state at ${stateFile}`);
      if (existing.key !== key || existing.mount !== mount || existing.prefix !== prefix || existing.resources.join(',') !== cov.resources.join(',')) {
        throw new UsageError(`${stateFile} is a rotation of ${existing.mount}/${existing.key} over [${existing.resources.join(',')}]; use the same --key, --mount, --prefix and encryption config, or another --state-file`);
      }
      state = existing;
      if (state.step === 'done' && !state.retired && o['retire'] === true) state.step = 'retire';
      log(`resuming at step ${state.step}`);
    } else {
      if (existing && existing.step !== 'done') {
        throw new UsageError(`a rotation of ${existing.mount}/${existing.key} is in progress (${stateFile}, step ${existing.step}); continue it with --resume, or delete the file`);
      }
      const now = new Date().toISOString();
      state = { version: 1, key, mount, encryptionConfig: configPath, prefix, resources: cov.resources, step: 'rotate-key', retired: false, startedAt: now, updatedAt: now };
      // page progress of an earlier, abandoned rotation must not make this one skip keys
      await rm(`${stateFile}.rewrite`, { force: true });
      await writeRotationState(stateFile, state);
    }
    await runRotation(state, deps, { stateFile, retire: o['retire'] === true, pluginWaitMs: waitMs, pollMs: 500 });
  } catch (err) {
    if (err instanceof RotateStepError) {
      process.stderr.write(`error: step ${err.step} failed: ${err.reason}\ncontinue with: ${continueCommand(process.argv)}\n`);
      process.exitCode = EXIT_RUNTIME;
      return;
    }
    throw err;
  } finally {
    for (const p of plugins) p.svc.close?.();
    etcd.close();
    server.close();
  }
}

export function register(cmd: Command): void {
  cmd.description('KMS key-encryption-key operations');
  cmd
    .command('rotate')
    .description('rotate the KEK end to end: transit key → KMS plugins → etcd rewrite → scan proof → (--retire) min_decryption_version')
    .requiredOption('--key <name>', 'transit key the KMS plugin uses')
    .option('--mount <path>', 'transit mount', 'transit')
    .option('--addr <url>', 'Arca server (default $ARCA_ADDR)')
    .option('--token <token>', 'token allowed to read, rotate and configure the key (default $ARCA_TOKEN)')
    .option('--server-cacert <file>', 'CA of the Arca server certificate (default $ARCA_CACERT)')
    .option('--endpoints <urls>', 'comma-separated etcd URLs')
    .option('--etcd-cacert <file>', 'CA bundle of the etcd server certificate')
    .option('--etcd-cert <file>', 'etcd client certificate (kube-apiserver etcd client cert)')
    .option('--etcd-key <file>', 'etcd client key')
    .requiredOption('--encryption-config <file>', 'the EncryptionConfiguration kube-apiserver uses (its KMS v2 providers and resources)')
    .option('--plugin-socket <path>', 'KMS plugin socket to wait for (repeatable; default: the kms v2 endpoints of the config)', collect)
    .option('--plugin-wait <duration>', 'how long to wait for every plugin to report the new key_id', '5m')
    .option('--prefix <prefix>', 'etcd key prefix (kube-apiserver --etcd-prefix)', '/registry/')
    .option('--rate <n>', 'rewrite: at most n writes per second (0 = unpaced)', '0')
    .option('--concurrency <n>', 'rewrite: writes in flight', '16')
    .option('--page-size <n>', 'rewrite: keys per page (resume granularity)', '500')
    .option('--retire', 'after the scan proves zero stale and plaintext values, raise min_decryption_version to the new version')
    .option('--resume', 'continue the rotation recorded in --state-file')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--state-file <file>', 'rotation state (atomic writes; the rewrite keeps <file>.rewrite)', 'arca-kms-rotate.state.json')
    .action(async (o: Opts) => {
      try {
        await run(o);
      } catch (err) {
        reportError(err);
      }
    });
}
