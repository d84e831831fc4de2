/**
 * The admission webhook (issue 16): `POST /mutate` throughput and p99 of a real `arca injector`
 * process at c=1 and c=16, against a bare node:https server (own process, same certificate) that
 * reads the same AdmissionReview, JSON-parses it and answers allow-with-empty-patch with its uid.
 * Same run, same load generator (`wrk` over TLS with keep-alive, a separate process, per
 * docs/benchmarks.md), 5 pairs, median ratio. The review is a realistic opted-in pod (user init
 * container, kube-api-access volume, two containers), so every request computes a full patch.
 * Goals (issue 16): ratio ≥ 0.6 and p99 ≤ 10 ms at c=16.
 *
 * wrk posts one fixed review, so after the first request the injector answers from memory (pods of
 * one template are identical at admission, and their reviews differ only in the uid: the
 * Deployment scale-up case; such a repeat is not even parsed). The `uncached` figure runs a second
 * injector with --cache-entries 0: every review is parsed and mutated in full, the case of a pod
 * unlike any seen before.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild, tempDir, waitFor } from '../test/harness/index.ts';
import { createCerts, writeCerts } from '../src/k8s/injector/index.ts';
import { compareHttp } from './lib/http-compare.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const P99_GOAL_MS = 10;

function post(port: number, ca: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/mutate', ca, servername: 'arca-injector.arca-system.svc', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function up(child: ChildProcess, port: number, ca: string, review: string, what: string): Promise<void> {
  await waitFor(what, async () => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const r = await post(port, ca, review).catch(() => undefined);
    return r?.status === 200 ? true : undefined;
  }, 60_000, 100);
}

/** The baseline: parse the review, answer allowed with no patch. */
function startBare(port: number, cert: string, key: string): ChildProcess {
  const src = `
    const https = require('node:https');
    https.createServer({ cert: process.env.BENCH_CERT, key: process.env.BENCH_KEY, ALPNProtocols: ['http/1.1'] }, (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    }).listen(${port}, '127.0.0.1');
    process.on('SIGTERM', () => process.exit(0));`;
  return spawn(process.execPath, ['-e', src], { env: { ...process.env, BENCH_CERT: cert, BENCH_KEY: key }, stdio: 'ignore' });
}

export default async function bench(): Promise<void> {
  const dir = await tempDir('arca-bench-injector-');
  const children: ChildProcess[] = [];
  try {
    const certs = await createCerts({ service: 'arca-injector', namespace: 'arca-system', days: 1 });
    await writeCerts(dir.path, certs);
    // Compact JSON, as the API server sends it.
    const review = JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'src/k8s/injector/testdata/init-containers.json'), 'utf8')));
    const injPort = await freePort();
    const node = ['--no-deprecation', '--import', join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'), join(ROOT, 'src/main.ts')];
    const injector = (port: number, cacheEntries: number) =>
      spawn(process.execPath, [...node, 'injector', '--listen', `127.0.0.1:${port}`, '--tls-cert', join(dir.path, 'tls.crt'), '--tls-key', join(dir.path, 'tls.key'),
        '--arca-addr', 'https://arca.arca-system.svc:8200', '--agent-image', 'registry.example.dev/arca:0.1.0', '--shutdown-delay', '0s', '--cache-entries', String(cacheEntries)],
        { cwd: ROOT, env: { ...process.env, ARCA_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
    const inj = injector(injPort, 256);
    children.push(inj);
    const coldPort = await freePort();
    const cold = injector(coldPort, 0);
    children.push(cold);
    const barePort = await freePort();
    const bare = startBare(barePort, certs.certPem, certs.keyPem);
    children.push(bare);
    await up(inj, injPort, certs.caPem, review, 'arca injector');
    await up(bare, barePort, certs.caPem, review, 'bare https server');
    await up(cold, coldPort, certs.caPem, review, 'arca injector (no cache)');
    const check = JSON.parse((await post(injPort, certs.caPem, review)).body);
    if (!check.response?.patch) throw new Error('the injector did not patch the benchmark review');
    const runs = [
      { name: 'injector.mutate.c1', c: 1, port: injPort, pid: inj.pid! },
      { name: 'injector.mutate.c16', c: 16, port: injPort, pid: inj.pid! },
      { name: 'injector.mutate.uncached.c16', c: 16, port: coldPort, pid: cold.pid! },
    ];
    for (const { name, c, port, pid } of runs) {
      await compareHttp({
        name,
        arca: { port, method: 'POST', path: '/mutate?timeout=10s', body: review, scheme: 'https' },
        bare: { port: barePort, method: 'POST', path: '/mutate?timeout=10s', body: review, scheme: 'https' },
        arcaPid: pid,
        barePid: bare.pid!,
        connections: c,
        baseline: 'bare-node-https-parse-allow',
        ...(c === 16 ? { goal: 0.6 } : {}),
        extra: { reviewBytes: Buffer.byteLength(review) },
        check: (a) => (c === 16 ? { p99GoalMs: P99_GOAL_MS, p99Ok: a.p99Ms <= P99_GOAL_MS } : {}),
      });
    }
  } finally {
    for (const c of children) await stopChild(c);
    await dir.remove();
  }
}
