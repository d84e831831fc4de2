/**
 * `arca etcd scan | decrypt | rewrite` — Kubernetes encryption at rest, read straight from etcd.
 * Exit codes: 0 ok, 1 usage error or a --fail-on condition met, 2 runtime error.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { buildTransformers, type EncryptionTransformers, parseEncryptionConfig, summarizeObject } from '../k8s/encryption/index.ts';
import { ClassifyPool, classify, connectEtcd, defaultWorkerCount, type ScanReport, rewrite, scan } from '../k8s/etcd/index.ts';
import { ArcaError } from '../errors/index.ts';
import { EXIT_USAGE, UsageError, reportError } from './exit.ts';
import { printTable } from './output.ts';
import { report as sendPosture, reportTarget, withReportFlags } from './report-flags.ts';
import { scanSummary } from '../k8s/report/index.ts';

type Opts = Record<string, string | boolean | undefined>;
const list = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

function withConnection(c: Command, required = true): Command {
  return c
    .option('--endpoints <urls>', `comma-separated etcd URLs${required ? '' : ' (or --from-file)'}`)
    .option('--cacert <file>', 'CA bundle of the etcd server certificate')
    .option('--cert <file>', 'client certificate (kube-apiserver etcd client cert)')
    .option('--key <file>', 'client key')
    .requiredOption('--encryption-config <file>', 'the EncryptionConfiguration kube-apiserver uses')
    .option('--prefix <prefix>', 'etcd key prefix (kube-apiserver --etcd-prefix, with trailing /)', '/registry/')
    .option('--key-prefix <prefix>', 'only keys under this narrower prefix, e.g. /registry/secrets/prod/ (scan, rewrite)');
}

async function transformers(o: Opts): Promise<EncryptionTransformers> {
  const file = String(o['encryptionConfig']);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code ?? 'error'}`);
  });
  try {
    // Reading old data may need KMS v1 even where the apiserver gate is now off.
    return buildTransformers(parseEncryptionConfig(text), { kmsV1: true });
  } catch (err) {
    if (err instanceof ArcaError && (err.code === 'ERR_ENCCONFIG_PARSE' || err.code === 'ERR_ENCCONFIG_INVALID')) {
      throw new UsageError(`${file}: ${err.message}`);
    }
    throw err;
  }
}

function prefixOf(o: Opts): string {
  const p = String(o['prefix'] ?? '/registry/');
  return p.endsWith('/') ? p : `${p}/`;
}

async function connect(o: Opts) {
  const endpoints = list(o['endpoints']);
  if (!endpoints.length) throw new UsageError('--endpoints is required');
  const c: Parameters<typeof connectEtcd>[0] = { endpoints };
  if (typeof o['cacert'] === 'string') c.cacert = o['cacert'];
  if (typeof o['cert'] === 'string') c.cert = o['cert'];
  if (typeof o['key'] === 'string') c.key = o['key'];
  return connectEtcd(c);
}

function progress(label: string): ((s: string) => void) & { done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  const f = (s: string) => {
    if (!tty || Date.now() - last < 200) return;
    last = Date.now();
    process.stderr.write(`\r${label}: ${s}\x1b[K`);
  };
  return Object.assign(f, { done: () => tty && process.stderr.write(`\r\x1b[K`) });
}

function printScanTable(r: ScanReport): void {
  process.stdout.write(`total ${r.total}: ${Object.entries(r.byState).map(([k, v]) => `${k} ${v}`).join(', ')}\n\n`);
  printTable(
    ['PROVIDER', 'KEY', 'COUNT'],
    Object.entries(r.byProvider).flatMap(([p, keys]) => Object.entries(keys).map(([k, n]) => [p, k, String(n)])),
  );
  process.stdout.write('\n');
  printTable(
    ['RESOURCE', 'PLAINTEXT', 'CURRENT', 'STALE', 'UNDECRYPTABLE'],
    Object.entries(r.byResource).map(([res, s]) => [res, String(s.plaintext), String(s.current), String(s.stale), String(s.undecryptable)]),
  );
  const bad = r.objects.filter((x) => x.state === 'undecryptable');
  if (bad.length) {
    process.stdout.write('\nundecryptable:\n');
    for (const b of bad.slice(0, 50)) process.stdout.write(`  ${b.key} (${b.provider ?? '?'}${b.keyName ? `:${b.keyName}` : ''}) ${b.error ?? ''}\n`);
    if (bad.length > 50) process.stdout.write(`  … ${bad.length - 50} more (use -o json)\n`);
  }
}

export function register(cmd: Command): void {
  cmd.description('scan, decrypt and rewrite Kubernetes values in etcd (encryption at rest)');

  withReportFlags(withConnection(cmd.command('scan').description('classify every value: plaintext, current, stale, undecryptable')))
    .option('--resources <list>', 'only these resources (e.g. secrets,configmaps)')
    .option('--page-size <n>', 'keys per range request', '1000')
    .option('--workers <n>', 'worker threads that decrypt while pages are read (0 = none)', String(defaultWorkerCount()))
    .option('--fail-on <states>', 'exit 1 if any value is in one of these states (plaintext,stale,undecryptable)')
    .option('-o, --output <format>', 'table | json', 'table')
    .action(async (o: Opts) => {
      let t: EncryptionTransformers | undefined;
      let client: Awaited<ReturnType<typeof connect>> | undefined;
      let pool: ClassifyPool | undefined;
      try {
        const target = reportTarget(o);
        const failOn = list(o['failOn']);
        for (const s of failOn) if (!['plaintext', 'stale', 'undecryptable', 'current'].includes(s)) throw new UsageError(`--fail-on: unknown state "${s}"`);
        t = await transformers(o);
        client = await connect(o);
        const p = progress('scanned');
        const sopts: Parameters<typeof scan>[2] = { prefix: prefixOf(o), pageSize: Number(o['pageSize']), onProgress: (n) => p(String(n)) };
        const resources = list(o['resources']);
        if (resources.length) sopts.resources = resources;
        if (typeof o['keyPrefix'] === 'string') sopts.keyPrefix = o['keyPrefix'];
        const workers = Number(o['workers']);
        if (!Number.isInteger(workers) || workers < 0) throw new UsageError('--workers must be an integer ≥ 0');
        if (workers > 0) {
          pool = await ClassifyPool.start(await readFile(String(o['encryptionConfig']), 'utf8'), prefixOf(o), workers);
          sopts.pool = pool;
        }
        const report = await scan(client, t, sopts);
        p.done();
        if (o['output'] === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else printScanTable(report);
        if (target) await sendPosture(o, target, 'etcd-scan', scanSummary(report, target.details));
        const hit = failOn.filter((s) => report.byState[s as keyof ScanReport['byState']] > 0);
        if (hit.length) {
          process.stderr.write(`fail-on: ${hit.map((s) => `${report.byState[s as keyof ScanReport['byState']]} ${s}`).join(', ')}\n`);
          process.exitCode = EXIT_USAGE;
        }
      } catch (err) {
        reportError(err);
      } finally {
        t?.close();
        client?.close();
        await pool?.close();
      }
    });

  withConnection(cmd.command('decrypt').description('decrypt one value (recovery, forensics)'), false)
    .requiredOption('--etcd-key <key>', 'full etcd key, e.g. /registry/secrets/default/db (it is the authenticated data)')
    .option('--from-file <file>', 'read the stored value from a file (e.g. etcdctl get --print-value-only) instead of etcd')
    .option('-o, --output <format>', 'json | yaml | raw (raw writes the plaintext bytes)', 'json')
    .action(async (o: Opts) => {
      let t: EncryptionTransformers | undefined;
      let client: Awaited<ReturnType<typeof connect>> | undefined;
      try {
        const format = String(o['output']);
        if (!['json', 'yaml', 'raw'].includes(format)) throw new UsageError('-o must be json, yaml or raw');
        const key = String(o['etcdKey']);
        t = await transformers(o);
        let value: Buffer;
        if (typeof o['fromFile'] === 'string') value = await readFile(o['fromFile']);
        else {
          client = await connect(o);
          const v = await client.get(key).buffer();
          if (!v) throw new ArcaError('ERR_ETCD_KEY_NOT_FOUND', `no value at ${key}`);
          value = v;
        }
        await t.refreshKms().catch(() => undefined);
        const c = await classify(key, value, prefixOf(o), t, true);
        if (!c.result) throw new ArcaError('ERR_TRANSFORM_DECRYPT', `${key}: no configured provider can decrypt this value (${c.error ?? 'unknown'})`);
        if (format === 'raw') {
          process.stdout.write(c.result.plaintext);
          return;
        }
        const out: Record<string, unknown> = {
          plaintextBase64: Buffer.from(c.result.plaintext).toString('base64'),
          stale: c.result.stale,
          provider: c.provider,
          keyName: c.keyName ?? null,
        };
        if (c.keyId !== undefined) out['keyId'] = c.keyId;
        out['object'] = summarizeObject(c.result.plaintext);
        process.stdout.write(format === 'yaml' ? stringify(out) : `${JSON.stringify(out, null, 2)}\n`);
      } catch (err) {
        reportError(err);
      } finally {
        t?.close();
        client?.close();
      }
    });

  withConnection(cmd.command('rewrite').description('re-encrypt every stale value with the first provider (compare-and-swap per key)'))
    .option('--resources <list>', 'only these resources (e.g. secrets,configmaps)')
    .option('--dry-run', 'count what would be rewritten, write nothing')
    .option('--concurrency <n>', 'writes in flight', '16')
    .option('--rate <n>', 'at most n writes per second (pacing; 0 = unpaced)', '0')
    .option('--page-size <n>', 'keys per range request', '500')
    .option('--batch-size <n>', 'CAS writes per etcd transaction (each key keeps its own mod_revision compare; 1 = one txn per key)', '32')
    .option('--state-file <file>', 'resume state (written after every page, removed when done)', 'arca-etcd-rewrite.state.json')
    .option('--resume', 'continue after the last completed page recorded in --state-file')
    .option('-o, --output <format>', 'table | json', 'table')
    .action(async (o: Opts) => {
      let t: EncryptionTransformers | undefined;
      let client: Awaited<ReturnType<typeof connect>> | undefined;
      try {
        const num = (k: string, min: number) => {
          const n = Number(o[k]);
          if (!Number.isInteger(n) || n < min) throw new UsageError(`--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)} must be an integer ≥ ${min}`);
          return n;
        };
        const ropts: Parameters<typeof rewrite>[2] = {
          prefix: prefixOf(o),
          concurrency: num('concurrency', 1),
          rate: num('rate', 0),
          pageSize: num('pageSize', 1),
          batchSize: num('batchSize', 1),
          dryRun: o['dryRun'] === true,
          stateFile: String(o['stateFile']),
          resume: o['resume'] === true,
        };
        const resources = list(o['resources']);
        if (resources.length) ropts.resources = resources;
        if (typeof o['keyPrefix'] === 'string') ropts.keyPrefix = o['keyPrefix'];
        t = await transformers(o);
        client = await connect(o);
        const p = progress(ropts.dryRun ? 'dry run' : 'rewrite');
        ropts.onProgress = (s) => p(`scanned ${s.scanned}, rewritten ${s.rewritten}, conflicts ${s.conflicts}`);
        const started = Date.now();
        const stats = await rewrite(client, t, ropts);
        p.done();
        const summary = { ...stats, dryRun: ropts.dryRun, seconds: (Date.now() - started) / 1000 };
        if (o['output'] === 'json') process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else {
          process.stdout.write(
            `${ropts.dryRun ? 'would rewrite' : 'rewrote'} ${stats.rewritten} of ${stats.scanned} values in ${summary.seconds.toFixed(1)} s` +
              ` (unchanged ${stats.unchanged}, concurrent writer won ${stats.conflicts}, deleted ${stats.deleted}, undecryptable ${stats.undecryptable}, failed ${stats.failed})\n`,
          );
        }
        if (stats.undecryptable) process.stderr.write(`warning: ${stats.undecryptable} values no configured provider can read were left as they are; see arca etcd scan\n`);
        if (stats.failed) throw new ArcaError('ERR_STORAGE_CONFLICT', `${stats.failed} values kept changing under concurrent writes; run again`);
      } catch (err) {
        reportError(err);
      } finally {
        t?.close();
        client?.close();
      }
    });
}
