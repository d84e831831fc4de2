/**
 * Main-thread CPU per JWKS login without HTTP, in-process: `core.handle` for `auth/kubernetes/login`
 * against jose's `jwtVerify` of the same token (what the bench's bare server does per request).
 *
 *   node --import tsx bench/login-cpu.ts [-n 3000] [-c 8] [--batch]
 *
 * Why: on this shared machine the HTTP figures (k8s-auth.bench.ts) and wall-clock profiles move by
 * ±30% between runs; the main thread's on-CPU time from /proc/self/task/<tid>/schedstat (ns, counts
 * only time the thread ran) moves by ~10%, enough to see a 15 µs change to a login. It ends with the
 * ratio jose / core login, both measured in this run (the µs alone move with the machine). Not a
 * `.bench.ts`: it has no HTTP baseline server; it tells where a login's CPU goes. Runs on the dev
 * server's in-memory storage, as the bench does. --batch: the role issues batch tokens (nothing stored).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { parseConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { devBootstrap } from '../src/server/dev.ts';
import { assembleServer } from '../src/server/index.ts';
import { startKubeApiServer } from '../test/harness/kube-tokens.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '3000' }, c: { type: 'string', default: '8' }, batch: { type: 'boolean', default: false } } });
const N = Number(values.n);
const C = Number(values.c);
const ROUNDS = 5;

/** On-CPU time of this process's main thread, µs. */
const mainUs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;

async function measure(label: string, op: () => Promise<unknown>): Promise<number> {
  const run = async (count: number) => {
    let left = count;
    await Promise.all(Array.from({ length: C }, async () => {
      while (left-- > 0) await op();
    }));
  };
  await run(1000); // JIT, caches
  const per: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = mainUs();
    await run(N);
    per.push((mainUs() - t) / N);
  }
  per.sort((a, b) => a - b);
  const median = per[ROUNDS >> 1]!;
  process.stdout.write(`${label}: main-thread CPU ${median.toFixed(1)} µs/op (median of ${ROUNDS} × ${N}, ${C} in flight; rounds ${per.map((x) => x.toFixed(1)).join(' ')})\n`);
  return median;
}

const kube = await startKubeApiServer({ algs: ['RS256'] });
const srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' }, dev: true }), silentLogger());
try {
  const root = await devBootstrap(srv.core);
  let id = 0;
  const write = (path: string, data: Record<string, unknown>, token?: string) => srv.core.handle({ id: `login-cpu-${id++}`, operation: 'write', path, data, token, clientAddr: '127.0.0.1' });
  await write('sys/auth/kubernetes', { type: 'kubernetes' }, root);
  await write('auth/kubernetes/config', { oidc_discovery_url: kube.url }, root);
  await write('auth/kubernetes/role/app', { bound_service_account_names: 'api', bound_service_account_namespaces: 'payments', audience: 'arca', token_policies: 'app-read', token_ttl: '10m', ...(values.batch ? { token_type: 'batch' } : {}) }, root);
  const jwt = await kube.mint({ namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99', audiences: ['arca'], ttl: 3600 });
  const keys = createLocalJWKSet({ keys: kube.keys.map((k) => k.publicJwk) } as JSONWebKeySet);
  const algorithms = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'];
  const jose = await measure('jose jwtVerify', () => jwtVerify(jwt, keys, { algorithms, issuer: kube.issuer, audience: 'arca', clockTolerance: 60 }));
  const login = await measure('core login    ', async () => {
    const r = await write('auth/kubernetes/login', { role: 'app', jwt });
    if (r.status !== 200) throw new Error(`login answered ${r.status}`);
  });
  // The figure to compare between changes: jose's share of a login, both measured in this run.
  process.stdout.write(`ratio (jose / core login, main-thread CPU): ${(jose / login).toFixed(3)}\n`);
} finally {
  await srv.close();
  await kube.close();
}
