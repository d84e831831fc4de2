/**
 * `arca agent init|sidecar|exec`: the in-pod secrets agent (docs/agent.md). Flags mirror the
 * config file so an injector can pass everything on the command line; `--config FILE` (YAML) can
 * hold the rest, flags win and --secret/--env entries are appended. Everything heavy is imported
 * inside the action, so `arca agent` loads no server code.
 */
import type { Command } from 'commander';
import { ArcaError } from '../errors/index.ts';
import { UsageError } from './exit.ts';

interface AgentFlags {
  config?: string;
  addr?: string;
  cacert?: string;
  tokenFile?: string;
  k8sRole?: string;
  k8sTokenFile?: string;
  k8sMount?: string;
  secret: string[];
  env: string[];
  dir?: string;
  interval?: string;
  listen?: string;
  degradedAfter?: string;
  onChangeSignal?: string;
  onChangePidFile?: string;
  onChangeProcess?: string;
  onChangeCommand?: string;
}

type Mode = 'init' | 'sidecar' | 'exec';

const collect = (v: string, prev: string[]) => [...prev, v];

function addFlags(cmd: Command, mode: Mode): Command {
  cmd
    .option('--config <file>', 'YAML config file (flags override it; --secret/--env add to it)')
    .option('--addr <url>', 'server address (default $ARCA_ADDR or http://127.0.0.1:8200)')
    .option('--cacert <file>', 'CA certificate to verify the server (default $ARCA_CACERT)')
    .option('--token-file <file>', 'read the Arca token from FILE (re-read before each use)')
    .option('--k8s-role <role>', 'log in with Kubernetes auth as this role')
    .option('--k8s-token-file <file>', 'service-account token file (re-read before every login)', undefined)
    .option('--k8s-mount <path>', 'Kubernetes auth mount under auth/ (default kubernetes)');
  if (mode === 'exec') {
    cmd.option('--env <VAR=PATH#FIELD>', 'environment variable for the command (repeatable)', collect, []).argument('<command...>', 'command and arguments, after --');
    cmd.setOptionValue('secret', []);
  } else {
    cmd
      .option('--secret <NAME=PATH[#FIELD][:FORMAT]>', 'render PATH into DIR/NAME (repeatable); FORMAT raw|env|json|yaml|properties', collect, [])
      .option('--dir <dir>', 'directory for rendered files');
    cmd.setOptionValue('env', []);
  }
  if (mode === 'sidecar') {
    cmd
      .option('--interval <duration>', 'poll interval (default 30s)')
      .option('--listen <host:port>', 'serve /healthz and /metrics here')
      .option('--degraded-after <n>', 'failed refreshes in a row before /healthz says degraded (default 3)')
      .option('--on-change-signal <SIG>', 'signal to send after files changed (default SIGHUP)')
      .option('--on-change-pid-file <file>', 'signal the process whose pid is in FILE')
      .option('--on-change-process <name>', 'signal processes with this name (needs shareProcessNamespace)')
      .option('--on-change-command <cmd>', 'run this command (through /bin/sh -c) after files changed');
  }
  return cmd;
}

/** Flags → the config file's shape, layered over the file's content. */
function mergeFlags(base: Record<string, unknown>, o: AgentFlags, parsers: typeof import('../agent/index.ts')): Record<string, unknown> {
  const c: Record<string, unknown> = { ...base };
  if (o.addr) c['addr'] = o.addr;
  if (o.cacert) c['cacert'] = o.cacert;
  if (o.tokenFile && o.k8sRole) throw new UsageError('use either --token-file or --k8s-role, not both');
  if (o.tokenFile) c['auth'] = { type: 'token-file', tokenFile: o.tokenFile };
  if (o.k8sRole) c['auth'] = { type: 'kubernetes', role: o.k8sRole, ...(o.k8sTokenFile ? { tokenFile: o.k8sTokenFile } : {}), ...(o.k8sMount ? { mount: o.k8sMount } : {}) };
  else if (o.k8sTokenFile || o.k8sMount) throw new UsageError('--k8s-token-file and --k8s-mount need --k8s-role');
  if (c['auth'] === undefined) throw new UsageError('say how to log in: --token-file FILE, or --k8s-role ROLE [--k8s-token-file FILE] (or auth: in --config)');
  if (o.dir) c['dir'] = o.dir;
  if (o.interval) c['interval'] = o.interval;
  if (o.listen) c['listen'] = o.listen;
  if (o.degradedAfter) c['degradedAfter'] = Number(o.degradedAfter);
  const target = o.onChangePidFile ? { pidFile: o.onChangePidFile } : o.onChangeProcess ? { processName: o.onChangeProcess } : o.onChangeCommand ? { command: ['/bin/sh', '-c', o.onChangeCommand] } : undefined;
  if (target) c['onChange'] = { ...(o.onChangeSignal ? { signal: o.onChangeSignal } : {}), ...target };
  else if (o.onChangeSignal) throw new UsageError('--on-change-signal needs --on-change-pid-file or --on-change-process');
  const secrets = o.secret.map((s) => {
    const f = parsers.parseSecretFlag(s);
    return { name: f.name, path: f.path, ...(f.field !== undefined ? { field: f.field } : {}), ...(f.format !== undefined ? { format: f.format } : {}) };
  });
  if (secrets.length) c['secrets'] = [...((base['secrets'] as unknown[]) ?? []), ...secrets];
  const env = o.env.map((s) => parsers.parseEnvFlag(s));
  if (env.length) c['env'] = [...((base['env'] as unknown[]) ?? []), ...env];
  return c;
}

async function loadConfig(o: AgentFlags, mode: Mode) {
  const fs = await import('node:fs');
  const agent = await import('../agent/index.ts');
  let base: Record<string, unknown> = {};
  if (o.config) {
    let text: string;
    try {
      text = fs.readFileSync(o.config, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the config file ${o.config}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const { parse } = await import('yaml');
    let parsed: unknown;
    try {
      parsed = parse(text);
    } catch (err) {
      throw new UsageError(`config file ${o.config} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`config file ${o.config} must hold a YAML mapping`);
    base = parsed as Record<string, unknown>;
  }
  try {
    const cfg = agent.buildConfig(mergeFlags(base, o, agent), { readFile: (p) => fs.readFileSync(p, 'utf8') });
    if (mode !== 'exec' && cfg.secrets.length === 0) throw new UsageError('nothing to render: add --secret NAME=PATH (or secrets: in --config)');
    if (mode === 'exec' && cfg.env.length === 0) throw new UsageError('nothing to put in the environment: add --env VAR=PATH#FIELD');
    return { cfg, agent };
  } catch (err) {
    if (err instanceof ArcaError && (err.code === 'ERR_CONFIG_INVALID' || err.code === 'ERR_RENDER_INVALID')) throw new UsageError(`${err.code}: ${err.message}`);
    throw err;
  }
}

async function run(mode: Mode, o: AgentFlags, argv: string[]): Promise<void> {
  const { cfg, agent } = await loadConfig(o, mode);
  const [{ ArcaClient }, { createLogger }, fsp] = await Promise.all([import('../client/index.ts'), import('../log/index.ts'), import('node:fs/promises')]);
  const log = createLogger().child({ component: 'agent', mode });
  const client = new ArcaClient({ ...(cfg.addr ? { addr: cfg.addr } : {}), ...(cfg.cacert ? { caCert: cfg.cacert } : {}), token: '' });
  client.token = undefined; // never use an ARCA_TOKEN from the environment: the agent logs in as configured
  const session = new agent.Session(client, cfg.auth, { readFile: (p) => fsp.readFile(p, 'utf8'), now: Date.now }, log);
  const abort = new AbortController();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        abort.signal.removeEventListener('abort', done);
        resolve();
      }
      abort.signal.addEventListener('abort', done);
    });
  try {
    if (mode === 'exec') {
      let env: Record<string, string>;
      for (let attempt = 0; ; attempt++) {
        try {
          env = await agent.collectEnv(session, cfg.env);
          break;
        } catch (err) {
          if (!agent.isTransient(err) || attempt + 1 >= cfg.initAttempts) throw err;
          const wait = agent.backoffDelay(attempt, 500, 8000);
          log.warn({ code: (err as { code: string }).code, attempt: attempt + 1, retryInMs: wait }, 'fetch failed, retrying');
          await sleep(wait);
        }
      }
      session.close();
      process.exitCode = await agent.runChild(argv, env);
      return;
    }
    const a = new agent.Agent({ config: cfg, session, log, now: Date.now, sleep, ...(cfg.onChange ? { onChange: agent.onChangeAction(cfg.onChange, log) } : {}) });
    if (mode === 'init') {
      await a.renderAll();
      log.info({ files: cfg.secrets.length }, 'init done');
      return;
    }
    const stop = () => {
      a.stop();
      abort.abort();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const server = cfg.listen ? await agent.startHealthServer(a, cfg.listen) : undefined;
    try {
      await a.renderAll();
    } catch (err) {
      const e = err as { code?: string };
      log.warn({ code: e.code ?? 'ERR_INTERNAL' }, 'first render failed, retrying in the refresh loop');
    }
    await a.run();
    server?.close();
    log.info('stopped');
  } finally {
    session.close();
  }
}

export function register(cmd: Command): void {
  cmd.description('render secrets into files (init, sidecar) or into a command environment (exec)');
  addFlags(cmd.command('init').description('render every secret once and exit (non-zero with a one-line reason on any failure)'), 'init').action((o: AgentFlags) => run('init', o, []));
  addFlags(cmd.command('sidecar').description('render, then keep files current (poll versions at --interval)'), 'sidecar').action((o: AgentFlags) => run('sidecar', o, []));
  addFlags(cmd.command('exec').description('fetch --env values and run COMMAND with them in its environment'), 'exec')
    .action((argv: string[], o: AgentFlags) => run('exec', o, argv));
}
