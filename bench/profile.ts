/**
 * Where a request's time goes, from the server's own CPU profile under wrk load:
 *
 *   node --import tsx bench/profile.ts kv-read|transit-encrypt|k8s-login|k8s-login-batch [--bare] [--inmem] [-c 16] [-s 8] [--top 25] [--save out.cpuprofile]
 *   node --import tsx bench/profile.ts --file some.cpuprofile [--top 25]
 *
 * Starts the Arca dev server with `node --cpu-prof`, sets up the target (a 200 B KV v2 secret / a
 * transit key and 128 B plaintext, as kv.bench.ts and transit.bench.ts do; a JWKS-mode Kubernetes
 * login as k8s-auth.bench.ts does), warms up, then loads it
 * with `wrk -t1 -c<c> -d<s>s` and stops the server (SIGTERM → exit → the profile is written). Only
 * samples taken during the measured wrk run count (the profile's clock is the monotonic clock that
 * process.hrtime reads). Prints per-request µs by area of the tree and the top functions by self time.
 * With --bare, the profiled server is instead the bare node:http baseline returning the same body
 * (what the ratio's denominator spends per request; for k8s-login, the bench's jose-verifying one). --inmem runs Arca on in-memory storage instead of
 * the dev server's SQLite file (what the durable writes cost). Not a `.bench.ts`: it reports no ratio, it explains one.
 */
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stopChild, tempDir } from '../test/harness/index.ts';
import { startKubeApiServer } from '../test/harness/kube-tokens.ts';
import { startBareJose } from './lib/bare-jose.ts';
import { summarise } from './lib/cpuprofile.ts';
import { procCpu } from './lib/proc.ts';
import { api, type Served, startArca, startBare } from './lib/servers.ts';
import { type WrkRequest, wrk } from './lib/wrk.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { c: { type: 'string', default: '16' }, s: { type: 'string', default: '8' }, top: { type: 'string', default: '25' }, file: { type: 'string' }, bare: { type: 'boolean', default: false }, inmem: { type: 'boolean', default: false }, save: { type: 'string' } },
});
const top = Number(values.top);

function print(file: string, requests: number, window?: { fromUs: number; toUs: number }): void {
  const s = summarise(file, window);
  const per = (us: number) => (requests > 0 ? (us / requests).toFixed(1) : '-');
  const busy = s.totalUs - s.idleUs;
  process.stdout.write(`profile ${file}\nsampled ${(s.totalUs / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s, ${requests} requests → ${per(busy)} µs busy CPU per request\n\n`);
  process.stdout.write('self time by area (µs/request, % of busy):\n');
  for (const [area, us] of [...s.areas].sort((a, b) => b[1] - a[1])) {
    if (area === '(idle)') continue;
    process.stdout.write(`  ${per(us).padStart(7)}  ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${area}\n`);
  }
  process.stdout.write(`\ntop ${top} project and fastify functions by inclusive time (self + callees; µs/request):\n`);
  for (const f of s.inclusive.filter((x) => x.area.startsWith('src/') || x.area === 'npm:fastify').slice(0, top)) {
    process.stdout.write(`  ${per(f.selfUs).padStart(7)}  ${f.key}  [${f.area}]\n`);
  }
  process.stdout.write(`\ntop ${top} functions by self time (µs/request, % of busy):\n`);
  for (const f of s.functions.filter((x) => x.area !== '(idle)').slice(0, top)) {
    process.stdout.write(`  ${per(f.selfUs).padStart(7)}  ${((f.selfUs / busy) * 100).toFixed(1).padStart(5)}%  ${f.key}  [${f.area}]\n`);
  }
}

const closers: (() => Promise<void>)[] = [];
let prof: string[] = [];

/** The request to load, and for k8s-login the bare server that does the same JWT verification. */
async function target(name: string, port: number, token: string): Promise<WrkRequest & { bare?: (answer: string) => Promise<Served> }> {
  const h = { 'X-Vault-Token': token };
  if (name === 'k8s-login' || name === 'k8s-login-batch') {
    const kube = await startKubeApiServer({ algs: ['RS256'] });
    closers.push(() => kube.close());
    for (const [path, body] of [
      ['/v1/sys/auth/kubernetes', { type: 'kubernetes' }],
      ['/v1/auth/kubernetes/config', { oidc_discovery_url: kube.url }],
      ['/v1/auth/kubernetes/role/app', { bound_service_account_names: 'api', bound_service_account_namespaces: 'payments', audience: 'arca', token_policies: 'app-read', token_ttl: '10m', token_type: name === 'k8s-login' ? 'default' : 'batch' }],
    ] as const) {
      const r = await api(port, token, 'POST', path, body);
      if (r.status >= 300) throw new Error(`${path}: ${r.status}`);
    }
    const jwt = await kube.mint({ namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99', audiences: ['arca'], ttl: 3600 });
    const bare = (answer: string) => startBareJose({ keys: kube.keys.map((k) => k.publicJwk) }, kube.issuer, answer, { nodeArgs: prof });
    return { port, method: 'POST', path: '/v1/auth/kubernetes/login', body: JSON.stringify({ role: 'app', jwt }), bare };
  }
  if (name === 'kv-read') {
    const put = await api(port, token, 'POST', '/v1/secret/data/bench', { data: { password: 'x'.repeat(185) } });
    if (put.status !== 200) throw new Error(`cannot write the secret: ${put.status}`);
    return { port, method: 'GET', path: '/v1/secret/data/bench', headers: h };
  }
  if (name === 'transit-encrypt') {
    await api(port, token, 'POST', '/v1/sys/mounts/transit', { type: 'transit' });
    const k = await api(port, token, 'POST', '/v1/transit/keys/bench', {});
    if (k.status >= 300) throw new Error(`cannot create the key: ${k.status}`);
    const body = JSON.stringify({ plaintext: Buffer.alloc(128, 7).toString('base64') });
    return { port, method: 'POST', path: '/v1/transit/encrypt/bench', headers: h, body };
  }
  throw new Error(`unknown target ${name}: kv-read, transit-encrypt, k8s-login or k8s-login-batch`);
}

if (values.file) {
  print(values.file, 0);
} else {
  const name = positionals[0] ?? 'kv-read';
  const dir = await tempDir('arca-prof-');
  const profDir = join(dir.path, 'prof');
  prof = ['--cpu-prof', '--cpu-prof-dir', profDir];
  let config: string | undefined;
  if (values.inmem) {
    config = join(dir.path, 'arca.json');
    writeFileSync(config, JSON.stringify({ storage: { type: 'inmem' } }));
  }
  const arca = await startArca({ dataDir: join(dir.path, 'data'), config, ...(values.bare ? {} : { nodeArgs: prof }) });
  let bare: Served | undefined;
  try {
    let t = await target(name, arca.port, arca.token);
    if (values.bare) {
      const sample = await api(arca.port, arca.token, t.method, t.path, t.body === undefined ? undefined : JSON.parse(t.body));
      bare = await (t.bare ?? ((answer: string) => startBare(answer, { nodeArgs: prof })))(sample.body);
      t = { ...t, port: bare.port };
    }
    const profiled = bare ?? arca;
    await wrk(t, Number(values.c), 2); // warm-up: JIT, caches
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const cpu0 = procCpu(profiled.child.pid!);
    const r = await wrk(t, Number(values.c), Number(values.s));
    const cpu1 = procCpu(profiled.child.pid!);
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await stopChild(profiled.child, 30_000);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the server wrote no .cpuprofile (did it exit cleanly?)');
    if (values.save) copyFileSync(join(profDir, file), values.save);
    process.stdout.write(`${name}${values.bare ? ' (bare node:http baseline)' : ''}: wrk -t1 -c${values.c} -d${values.s}s → ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms\n`);
    const perReq = (us: number) => (us / r.requests).toFixed(1);
    // The profile's sample deltas are wall time (they include waiting for a CPU on this shared machine);
    // /proc says what the server actually used.
    const [user, sys] = [cpu1.userUs - cpu0.userUs, cpu1.sysUs - cpu0.sysUs];
    process.stdout.write(`server CPU time (/proc) during the run, µs per request: ${perReq(user + sys)} (user ${perReq(user)}, sys ${perReq(sys)})\n`);
    print(join(profDir, file), r.requests, { fromUs, toUs });
  } finally {
    if (bare) await stopChild(bare.child);
    await stopChild(arca.child);
    for (const close of closers) await close();
    await dir.remove();
  }
}
