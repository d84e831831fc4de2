/**
 * Test helpers for the CLI: run `bin/arca` as a user would (exit code, stdout as bytes and text,
 * stderr) against a real dev server started by test/harness. No fake servers: the CLI is checked
 * against the same HTTP API users reach.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ARCA_BIN, type ArcaProcess, startArca } from '../../test/harness/arca.ts';

export interface CliRun {
  code: number | null;
  stdout: Buffer;
  out: string;
  stderr: string;
}

export function runArca(env: NodeJS.ProcessEnv, args: string[], input?: string | Buffer): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(ARCA_BIN, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolve({ code, stdout, out: stdout.toString(), stderr });
    });
    child.stdin.on('error', () => {}); // a command that never reads stdin may exit first
    child.stdin.end(input ?? '');
  });
}

/** A dev server with a known root token, and the environment a user would export for it. */
export async function cliDevServer(): Promise<{ srv: ArcaProcess; env: NodeJS.ProcessEnv; token: string }> {
  const token = `root-${randomBytes(12).toString('hex')}`;
  const srv = await startArca({ args: ['--dev', '--dev-root-token', token] });
  const { VAULT_TOKEN: _t, VAULT_ADDR: _a, ...base } = process.env;
  return { srv, token, env: { ...base, ARCA_ADDR: srv.addr, ARCA_TOKEN: token } };
}
