import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadServerConfig, redactConfig } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import { reportError } from './exit.ts';

interface Flags {
  config?: string;
  dev?: boolean;
  devRootToken?: string;
  listen?: string;
  dataDir?: string;
  printConfig?: boolean;
  logLevel?: string;
  uiDir?: string;
}

export function register(cmd: Command): void {
  cmd
    .option('--config <file>', 'YAML config file')
    .option('--dev', 'throwaway dev server: auto-initialized with one share and unsealed. NEVER for real secrets')
    .option('--dev-root-token <token>', 'root token to use in dev mode (default: random, printed)')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8200)')
    .option('--data-dir <dir>', 'data directory (SQLite file lives here)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace')
    .option('--ui-dir <dir>', 'serve the web UI at /ui/ from this directory (default: dist/ui, built by `npm run build`)')
    .option('--print-config', 'print the effective config (redacted) and exit')
    .action(async (f: Flags) => {
      try {
        await run(f);
      } catch (err) {
        reportError(err);
        process.exit(process.exitCode ?? 2);
      }
    });
}

async function run(f: Flags): Promise<void> {
  const overrides: Record<string, unknown> = {
    listen: f.listen,
    dataDir: f.dataDir,
    dev: f.dev ? true : undefined,
    devRootToken: f.devRootToken,
    'log.level': f.logLevel,
    'ui.dir': f.uiDir,
  };
  const config = loadServerConfig({ ...(f.config ? { file: f.config } : {}), overrides });
  if (f.printConfig) {
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return;
  }
  const log = createLogger({ level: config.log.level });
  // A dev server without --data-dir gets a throwaway dir, removed again on exit.
  const throwawayDir = config.dataDir === undefined && config.dev ? mkdtempSync(join(tmpdir(), 'arca-dev-')) : undefined;
  const dataDir = config.dataDir ?? throwawayDir;
  const { assembleServer } = await import('../server/index.ts');
  const srv = await assembleServer(config, log, dataDir).catch((err: unknown) => {
    if (throwawayDir) rmSync(throwawayDir, { recursive: true, force: true });
    throw err;
  });
  let rootToken: string | undefined;
  if (config.dev) {
    const { devBootstrap } = await import('../server/dev.ts');
    rootToken = await devBootstrap(srv.core, config.devRootToken);
    process.stderr.write(devBanner(srv.address, dataDir!, rootToken, config.devRootToken !== undefined));
  } else {
    log.info({ address: srv.address, state: srv.core.state }, 'arca server listening');
  }
  let closing = false;
  const shutdown = async (sig: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal: sig }, 'shutting down');
    await srv.close();
    if (throwawayDir) rmSync(throwawayDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    srv.reopenAudit().then(() => log.info('audit devices reopened'), (err: unknown) => log.error({ err: String(err) }, 'audit reopen failed'));
  });
}

function devBanner(addr: string, dir: string, token: string, given: boolean): string {
  const bar = '='.repeat(78);
  return [
    bar,
    'WARNING: DEV MODE. The server is initialized with ONE unseal share and runs unsealed.',
    'Data, keys and tokens are throwaway. Never use dev mode for real secrets.',
    bar,
    `  Address:     ${addr}`,
    `  Web UI:      ${addr}/ui/`,
    `  Data dir:    ${dir}`,
    `  Root token:  ${given ? '(as given with --dev-root-token)' : token}`,
    '',
    `  export ARCA_ADDR='${addr}'`,
    given ? '  export ARCA_TOKEN=<the token given with --dev-root-token>' : `  export ARCA_TOKEN='${token}'`,
    bar,
    '',
  ].join('\n');
}
