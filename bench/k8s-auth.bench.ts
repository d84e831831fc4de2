/**
 * Kubernetes auth (issue 14): JWKS-mode `POST /v1/auth/kubernetes/login` throughput against a bare
 * node:http server (child process) that parses the same body, verifies the same JWT with jose against
 * the same JWKS (alg allow-list, issuer, audience) and answers a body of the same size. Same run,
 * same load generator (`wrk` in its own process, per docs/benchmarks.md, via lib/http-compare.ts), three
 * pairs, median ratio, with each server's CPU µs per request and their ratio.
 * Goal (issue 14): ratio ≥ 0.6. Two roles: the default (service tokens, stored) and the same role with
 * `token_type: batch` (`.batch` figures: the token is sealed, not stored).
 *
 * Arca runs in dev mode on in-memory storage: each login stores a token, and on a durable backend
 * that is an fsync per login, which measures the disk (see kv.write.durable), not the auth method.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, stopChild, tempDir, waitFor } from '../test/harness/index.ts';
import { startKubeApiServer } from '../test/harness/kube-tokens.ts';
import { startBareJose } from './lib/bare-jose.ts';
import { compareHttp } from './lib/http-compare.ts';
import type { WrkRequest } from './lib/wrk.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DURATION_S = 3;
const SA = { namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99', audiences: ['arca'], ttl: 3600 };
const run = promisify(execFile);

function post(port: number, path: string, body: unknown, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
    if (token) headers['x-vault-token'] = token;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function up(port: number, child: ChildProcess, what: string): Promise<void> {
  await waitFor(what, async () => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    return (await post(port, '/v1/sys/health', {}).catch(() => undefined)) ? true : undefined;
  }, 60_000);
}

export default async function k8sAuthBench(): Promise<void> {
  try {
    await run('wrk', ['--version']).catch((e: { stdout?: string }) => {
      if (!/wrk/.test(e.stdout ?? '')) throw e;
    });
  } catch {
    process.stderr.write('[bench] k8s-auth: wrk is not installed (apt-get install wrk); skipped\n');
    return;
  }
  const dir = await tempDir('arca-k8s-bench-');
  const kube = await startKubeApiServer({ algs: ['RS256'] });
  const port = await freePort();
  const root = `bench-${randomBytes(8).toString('hex')}`;
  const config = join(dir.path, 'arca.json');
  await writeFile(config, JSON.stringify({ storage: { type: 'inmem' }, log: { level: 'error' } }));
  const arca = spawn(join(ROOT, 'bin', 'arca'), ['server', '--dev', '--dev-root-token', root, '--listen', `127.0.0.1:${port}`, '--config', config], { cwd: ROOT, stdio: 'ignore' });
  let bare: { child: ChildProcess; port: number } | undefined;
  try {
    await up(port, arca, 'arca server');
    const setup = async (path: string, body: unknown) => {
      const r = await post(port, `/v1/${path}`, body, root);
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${r.body.slice(0, 300)}`);
    };
    await setup('sys/auth/kubernetes', { type: 'kubernetes' });
    await setup('auth/kubernetes/config', { oidc_discovery_url: kube.url });
    const role = { bound_service_account_names: 'api', bound_service_account_namespaces: 'payments', audience: 'arca', token_policies: 'app-read', token_ttl: '10m' };
    await setup('auth/kubernetes/role/app', role);
    // The same role issuing batch tokens (core/batch-tokens.ts): a login that writes nothing.
    await setup('auth/kubernetes/role/fleet', { ...role, token_type: 'batch' });
    const jwt = await kube.mint(SA);
    // The first login fetches the JWKS (cold cache); the runs after it must fetch nothing.
    const warm = await post(port, '/v1/auth/kubernetes/login', { role: 'app', jwt });
    if (warm.status !== 200) throw new Error(`login failed: ${warm.status} ${warm.body.slice(0, 300)}`);
    const jwksBefore = kube.hits.jwks;
    for (const [roleName, figure] of [['app', 'k8s-auth.login.jwks'], ['fleet', 'k8s-auth.login.jwks.batch']] as const) {
      const sample = await post(port, '/v1/auth/kubernetes/login', { role: roleName, jwt });
      if (sample.status !== 200) throw new Error(`login failed: ${sample.status} ${sample.body.slice(0, 300)}`);
      // The bare server answers a body of the same size as this role's login (a batch token is longer).
      if (bare) await stopChild(bare.child);
      bare = await startBareJose({ keys: kube.keys.map((k) => k.publicJwk) }, kube.issuer, sample.body);
      const body = JSON.stringify({ role: roleName, jwt });
      const login = (p: number): WrkRequest => ({ port: p, method: 'POST', path: '/v1/auth/kubernetes/login', body });
      for (const c of [1, 16]) {
        // Server CPU µs per request is printed beside the rates (cpuRatio): on this shared machine the
        // rates follow the scheduler, CPU per request says what an idle core would give.
        await compareHttp({
          name: `${figure}.c${c}`,
          arca: login(port),
          bare: login(bare.port),
          arcaPid: arca.pid!,
          barePid: bare.child.pid!,
          connections: c,
          baseline: 'bare-node-http+jose',
          goal: 0.6,
          rounds: 3,
          seconds: DURATION_S,
        });
      }
    }
    if (kube.hits.jwks !== jwksBefore) process.stderr.write(`[bench] k8s-auth: ${kube.hits.jwks - jwksBefore} JWKS fetches during the runs (expected none)\n`);
  } finally {
    if (bare) await stopChild(bare.child);
    await stopChild(arca);
    await kube.close();
    await dir.remove();
  }
}
