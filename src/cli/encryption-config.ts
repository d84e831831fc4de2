/**
 * `arca encryption-config generate | validate | rotate` — Kubernetes EncryptionConfiguration files.
 * Exit codes: 0 ok, 1 usage error or a config kube-apiserver would reject, 2 runtime error.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isArcaError } from '../errors/index.ts';
import {
  checkBuildable,
  type GenerateProvider,
  generateConfig,
  lintEncryptionConfig,
  parseEncryptionConfig,
  rotationStages,
  validateEncryptionConfig,
} from '../k8s/encryption/index.ts';
import { EXIT_USAGE, UsageError, reportError } from './exit.ts';

async function writeSecretFile(path: string, text: string, force: boolean): Promise<void> {
  try {
    await writeFile(path, text, { mode: 0o600, flag: force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${path} exists; pass --force to overwrite`);
    throw err;
  }
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function register(cmd: Command): void {
  cmd.description('generate, validate and rotate Kubernetes EncryptionConfiguration files');

  cmd
    .command('generate')
    .description('write a new EncryptionConfiguration with a fresh random key (file mode 0600)')
    .requiredOption('--provider <provider>', 'aesgcm | aescbc | secretbox | kms (kms = KMS v2)')
    .requiredOption('--out <file>', 'where to write the config')
    .option('--resources <list>', 'comma-separated resources', 'secrets')
    .option('--key-name <name>', 'key name (default key-<timestamp>)')
    .option('--key-size <bytes>', 'AES key size: 16, 24 or 32', '32')
    .option('--kms-name <name>', 'KMS v2 plugin name (kms)')
    .option('--kms-endpoint <url>', 'KMS plugin socket, unix:///path (kms)')
    .option('--kms-timeout <duration>', 'KMS call timeout, e.g. 3s (kms)')
    .option('--no-identity-fallback', 'do not add identity as the last provider')
    .option('--force', 'overwrite an existing file')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const provider = String(o['provider']);
        if (!['aesgcm', 'aescbc', 'secretbox', 'kms'].includes(provider)) throw new UsageError('--provider must be aesgcm, aescbc, secretbox or kms');
        const opts: Parameters<typeof generateConfig>[0] = {
          provider: provider as GenerateProvider,
          resources: list(String(o['resources'])),
          keySize: Number(o['keySize']),
          identityFallback: o['identityFallback'] !== false,
        };
        if (typeof o['keyName'] === 'string') opts.keyName = o['keyName'];
        if (typeof o['kmsName'] === 'string') opts.kmsName = o['kmsName'];
        if (typeof o['kmsEndpoint'] === 'string') opts.kmsEndpoint = o['kmsEndpoint'];
        if (typeof o['kmsTimeout'] === 'string') opts.kmsTimeout = o['kmsTimeout'];
        let text: string;
        try {
          text = generateConfig(opts);
        } catch (err) {
          if (isArcaError(err)) throw new UsageError(err.message);
          throw err;
        }
        await writeSecretFile(String(o['out']), text, o['force'] === true);
        process.stderr.write(`wrote ${String(o['out'])} (mode 0600)\n`);
      } catch (err) {
        reportError(err);
      }
    });

  cmd
    .command('validate <file>')
    .description('exit 0 when kube-apiserver would accept the config, 1 with the reasons when not')
    .option('--lint', 'also warn about weak but valid settings')
    .option('--automatic-reload', 'as with --encryption-provider-config-automatic-reload (kms v1 names must be unique)')
    .option('--kms-v1', 'as with --feature-gates=KMSv1=true (off by default since Kubernetes 1.29)')
    .option('-o, --output <format>', 'table | json', 'table')
    .action(async (file: string, o: Record<string, string | boolean | undefined>) => {
      try {
        const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read ${file}: ${err.code ?? 'error'}`);
        });
        const json = o['output'] === 'json';
        let issues: { path: string; message: string }[] = [];
        let cfg: ReturnType<typeof parseEncryptionConfig> | undefined;
        try {
          cfg = parseEncryptionConfig(text);
          const vopts = { reload: o['automaticReload'] === true, kmsV1: o['kmsV1'] === true };
          issues = validateEncryptionConfig(cfg, vopts);
          if (issues.length === 0) issues = checkBuildable(cfg, vopts);
        } catch (err) {
          if (!isArcaError(err, 'ERR_ENCCONFIG_PARSE')) throw err;
          issues = [{ path: '(file)', message: err.message }];
        }
        const warnings = o['lint'] && cfg ? lintEncryptionConfig(cfg, (await stat(file)).mode) : [];
        if (json) {
          process.stdout.write(`${JSON.stringify({ valid: issues.length === 0, errors: issues, warnings }, null, 2)}\n`);
        } else {
          for (const i of issues) process.stdout.write(`error: ${i.path}: ${i.message}\n`);
          for (const w of warnings) process.stdout.write(`warning [${w.code}] ${w.path}: ${w.message}\n`);
          process.stdout.write(issues.length ? `${file}: kube-apiserver would reject this config\n` : `${file}: valid\n`);
        }
        if (issues.length) process.exitCode = EXIT_USAGE;
      } catch (err) {
        reportError(err);
      }
    });

  cmd
    .command('rotate <file>')
    .description('write the staged configs of the documented key rotation (add second → make first → rewrite → drop old)')
    .requiredOption('--out-dir <dir>', 'directory for the stage files (created; files are mode 0600)')
    .option('--new-key-name <name>', 'name of the new key (default key-<timestamp>)')
    .option('--force', 'overwrite existing stage files')
    .action(async (file: string, o: Record<string, string | boolean | undefined>) => {
      try {
        const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read ${file}: ${err.code ?? 'error'}`);
        });
        const cfg = parseEncryptionConfig(text);
        const issues = validateEncryptionConfig(cfg);
        if (issues.length) throw new UsageError(`${file} is not valid: ${issues[0]!.path}: ${issues[0]!.message}`);
        const stages = rotationStages(text, typeof o['newKeyName'] === 'string' ? { newKeyName: o['newKeyName'] } : {});
        const dir = String(o['outDir']);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        for (const s of stages) {
          if (s.yaml) await writeSecretFile(join(dir, s.file), s.yaml, o['force'] === true);
          process.stdout.write(`${s.file}: ${s.description}\n`);
        }
      } catch (err) {
        if (isArcaError(err, 'ERR_ENCCONFIG_PARSE') || isArcaError(err, 'ERR_ENCCONFIG_INVALID')) {
          process.stderr.write(`error: ${err.code}: ${err.message}\n`);
          process.exitCode = EXIT_USAGE;
          return;
        }
        reportError(err);
      }
    });
}
