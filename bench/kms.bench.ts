/**
 * KMS plugin benchmarks (issue 6), per docs/benchmarks.md: `kms-load` (Go, like kube-apiserver)
 * drives `kms-echo` (a bare Go KMS v2 server: the transport baseline) and then `arca kms-plugin`,
 * back to back, same socket kind, same load generator, 3 pairs per figure, median ratio.
 *  - kms.<mode>.<op>.c<N>: Decrypt and Encrypt at c = 1, 8, 64, for the plugin in local key mode
 *    (SoftHSM2 token on the node) and remote mode (transit key on an `arca server --dev` child).
 *    Goals: local Decrypt ≥ 0.6 of kms-echo at c=1, ≥ 0.45 at c=8 with p99 ≤ 1 ms.
 *  - kms.<mode>.status-p99.under-decrypt: Status p99 (c=1) while Decrypt at c=64 saturates the
 *    server; goal ≤ 2 ms (reported as ms, ratio = echo p99 / plugin p99).
 * kms-load/kms-echo are built once with tools/kms-load/build.sh into a temp dir (cached).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { ensureKmsLoad, KMS_LOAD_DIR, type PluginProcess, startPlugin, waitUntil } from '../src/kms-plugin/testing.ts';
import { startArca } from '../test/harness/arca.ts';
import { createSoftHsmToken, stopChild, tempDir } from '../test/harness/index.ts';
import { comparePairs, round3 } from './lib/report.ts';

const execFileP = promisify(execFile);
const BIN = KMS_LOAD_DIR;
/** Per load run; with 3 pairs × 13 figures × 2 modes this keeps the whole benchmark under 2 minutes. */
const SECS = 0.8;

const loadResult = z.object({ rps: z.number(), p50_ms: z.number(), p99_ms: z.number(), errors: z.number(), n: z.number() });
type LoadResult = z.infer<typeof loadResult>;

async function ensureTools(): Promise<void> {
  if (!existsSync(join(BIN, 'kms-load')) || !existsSync(join(BIN, 'kms-echo'))) process.stderr.write('[bench] building kms-load and kms-echo (first run only)\n');
  await ensureKmsLoad();
}

async function kmsLoad(sock: string, op: 'encrypt' | 'decrypt' | 'status', c: number, secs = SECS, warm = 500): Promise<LoadResult> {
  const { stdout } = await execFileP(join(BIN, 'kms-load'), ['-sock', sock, '-op', op, '-c', String(c), '-d', `${secs}s`, '-warm', String(warm)]);
  const r = loadResult.parse(JSON.parse(stdout.trim().split('\n').at(-1)!));
  if (r.errors > 0) throw new Error(`kms-load ${op} c=${c} on ${sock}: ${r.errors} errors`);
  return r;
}

/** Status p99 at c=1 while Decrypt at c=64 runs against the same server. */
async function statusUnderDecrypt(sock: string): Promise<LoadResult> {
  const bg = kmsLoad(sock, 'decrypt', 64, SECS + 0.8, 200);
  await new Promise((r) => setTimeout(r, 400));
  const st = await kmsLoad(sock, 'status', 1, SECS, 100);
  await bg;
  return st;
}

export default async function kmsBench(): Promise<void> {
  await ensureTools();
  const dir = await tempDir('arca-bench-kms-');
  const echoSock = join(dir.path, 'echo.sock');
  const echo = spawn(join(BIN, 'kms-echo'), ['-sock', echoSock], { stdio: 'ignore' });
  const token = await createSoftHsmToken('bench-kms');
  const srv = await startArca({ args: ['--dev', '--dev-root-token', 'bench-T'] });
  const plugins: PluginProcess[] = [];
  try {
    await waitUntil('kms-echo', async () => (existsSync(echoSock) ? true : undefined));
    await writeFile(join(dir.path, 'pin'), token.pin, { mode: 0o600 });
    await writeFile(join(dir.path, 'token'), 'bench-T', { mode: 0o600 });
    const c = srv.client('bench-T');
    await c.write('transit/keys/bench-kek', {});
    c.close();
    const local = await startPlugin(join(dir.path, 'local.sock'), [
      '--pkcs11-module', token.module, '--pkcs11-token', token.label, '--pkcs11-pin-file', join(dir.path, 'pin'), '--pkcs11-key-label', 'bench-kek',
    ], { ...token.env, ARCA_LOG_LEVEL: 'warn' });
    plugins.push(local);
    const remote = await startPlugin(join(dir.path, 'remote.sock'), [
      '--key', 'bench-kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token'),
    ], { ARCA_LOG_LEVEL: 'warn' });
    plugins.push(remote);

    // Warm the JIT of both plugins (Go needs none): the first second of a fresh Node process is slow.
    for (const p of plugins) for (const op of ['decrypt', 'encrypt'] as const) await kmsLoad(p.socket, op, 8, 0.8, 2000);
    const goals: Record<string, number> = { 'local.decrypt.1': 0.6, 'local.decrypt.8': 0.45 };
    for (const [mode, p] of [['local', local], ['remote', remote]] as const) {
      for (const op of ['decrypt', 'encrypt'] as const) {
        for (const conc of [1, 8, 64]) {
          const goal = goals[`${mode}.${op}.${conc}`];
          await comparePairs({
            name: `kms.${mode}.${op}.c${conc}`,
            unit: 'ops/s',
            baseline: 'kms-echo',
            ...(goal === undefined ? {} : { goal }),
            pair: async () => {
              const base = await kmsLoad(echoSock, op, conc);
              const mine = await kmsLoad(p.socket, op, conc);
              return {
                value: mine.rps,
                baselineValue: base.rps,
                extra: { p99Ms: round3(mine.p99_ms), baselineP99Ms: round3(base.p99_ms), ...(mode === 'local' && op === 'decrypt' && conc === 8 ? { p99GoalMs: 1 } : {}) },
              };
            },
          });
        }
      }
      await comparePairs({
        name: `kms.${mode}.status-p99.under-decrypt`,
        unit: 'ms',
        baseline: 'kms-echo',
        higherIsBetter: false,
        pair: async () => {
          const base = await statusUnderDecrypt(echoSock);
          const mine = await statusUnderDecrypt(p.socket);
          return { value: mine.p99_ms, baselineValue: base.p99_ms, extra: { goalMs: 2 } };
        },
      });
    }
  } finally {
    for (const p of plugins) await p.stop();
    await stopChild(echo);
    await srv.stop();
    await token.remove();
    await dir.remove();
  }
}
