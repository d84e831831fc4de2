/**
 * The Kubernetes-login baseline (issue 14): a bare node:http server in its own process that parses
 * the posted `{jwt}`, verifies it with jose against the same JWKS (the same algorithm allow-list,
 * issuer, audience and leeway as Arca's JWKS mode) and answers a fixed body of Arca's response size.
 * Shared by k8s-auth.bench.ts (the figure) and profile.ts (`k8s-login --bare`, what the baseline
 * spends per login). `nodeArgs` go to node (e.g. `--cpu-prof`); SIGTERM exits cleanly.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '../../test/harness/index.ts';
import { probe, type Served } from './servers.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function startBareJose(jwks: unknown, issuer: string, answer: string, opts: { nodeArgs?: string[] } = {}): Promise<Served> {
  const port = await freePort();
  const src = `
    import http from 'node:http';
    import { createLocalJWKSet, jwtVerify } from 'jose';
    const keys = createLocalJWKSet(JSON.parse(process.env.BENCH_JWKS));
    const answer = Buffer.from(process.env.BENCH_ANSWER);
    const algorithms = ['RS256','RS384','RS512','ES256','ES384','ES512','PS256','PS384','PS512'];
    http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        try {
          const { jwt } = JSON.parse(Buffer.concat(chunks).toString());
          await jwtVerify(jwt, keys, { algorithms, issuer: process.env.BENCH_ISSUER, audience: 'arca', clockTolerance: 60 });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
          res.end(answer);
        } catch {
          res.writeHead(403).end();
        }
      });
    }).listen(${port}, '127.0.0.1');
    process.on('SIGTERM', () => process.exit(0));`;
  const env = { ...process.env, BENCH_JWKS: JSON.stringify(jwks), BENCH_ISSUER: issuer, BENCH_ANSWER: answer };
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--input-type=module', '-e', src], { cwd: ROOT, env, stdio: 'ignore' });
  await waitFor('bare jose server', async () => {
    if (child.exitCode !== null) throw new Error(`bare jose server exited with ${child.exitCode}`);
    return (await probe(port, '/v1/sys/health')) ? true : undefined;
  }, 60_000);
  return { child, port };
}
