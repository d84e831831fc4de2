/**
 * CSI provider (issue 17): Mount of 10 objects (10 distinct KV v2 secrets) over the provider's unix
 * socket, against the same 10 KV reads made directly over HTTP by the same client (src/client,
 * which the provider itself uses), with a token from one earlier login. Same run, same server, same
 * process driving both, at c=1 and c=8; three pairs each, median ratio. Goal (issue 17): ≥ 0.5 at c=8.
 *
 * A Mount costs more than the reads by design: a login with the pod's token (JWT verification and a
 * token write), the gRPC hop, rendering, and a revoke of the call's token. Dev server, in-memory
 * storage, no audit device: the figure is the provider's overhead, not the disk's.
 */
import { randomBytes } from 'node:crypto';
import { mountAttributes } from '../src/k8s/csi/testing.ts';
import { startCsiWorld } from '../test/integration/csi-world.ts';
import { comparePairs, median } from './lib/report.ts';

const OBJECTS = 10;
const DURATION_MS = 3000;

async function load(concurrency: number, op: () => Promise<void>): Promise<{ rate: number; p99Ms: number }> {
  const lat: number[] = [];
  const end = performance.now() + DURATION_MS;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await op();
      lat.push(performance.now() - t);
      n++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { rate: n / secs, p99Ms: lat[Math.floor(lat.length * 0.99)] ?? 0 };
}

export default async function run(): Promise<void> {
  const w = await startCsiWorld({ audit: false, logLevel: 'error', providerArgs: [], providerEnv: { ARCA_LOG_LEVEL: 'error' } });
  try {
    const paths = Array.from({ length: OBJECTS }, (_, i) => `secret/data/app/bench-${i}`);
    for (const p of paths) await w.root.write(p, { data: { value: randomBytes(24).toString('base64'), user: 'app' } });
    const objects = paths.map((p, i) => `- {objectName: obj-${i}, secretPath: ${p}, secretKey: value}`).join('\n');
    const jwt = await w.token();
    const attributes = mountAttributes({ token: jwt, objects });
    const mount = async () => {
      const { res, message } = await w.client.mount({ attributes, secrets: '{}', target_path: '/unused', permission: '420' });
      if (res.error?.code) throw new Error(`mount failed: ${res.error.code} ${message}`);
    };
    // Baseline: the same client class the provider uses, one login up front, then the same 10 reads.
    const direct = w.srv.client();
    direct.token = undefined;
    const login = await direct.write('auth/kubernetes/login', { role: 'app', jwt });
    direct.token = (login.body['auth'] as { client_token: string }).client_token;
    const reads = async () => {
      await Promise.all(paths.map((p) => direct.read(p)));
    };
    await load(2, mount); // warm-up (JIT, keep-alive sockets, JWKS fetch)
    await load(2, reads);
    for (const c of [1, 8]) {
      const p99: number[] = [];
      await comparePairs({
        name: `csi.mount${OBJECTS}.c${c}`,
        unit: 'mounts/s',
        baseline: `direct-http-${OBJECTS}-reads`,
        ...(c === 8 ? { goal: 0.5 } : {}),
        medians: ['p99Ms'],
        pair: async () => {
          const base = await load(c, reads);
          const subj = await load(c, mount);
          p99.push(subj.p99Ms);
          return { value: subj.rate, baselineValue: base.rate, extra: { p99Ms: subj.p99Ms, baselineP99Ms: base.p99Ms } };
        },
      });
      process.stderr.write(`[bench] csi c=${c}: mount p99 median ${median(p99).toFixed(1)} ms\n`);
    }
    direct.close();
  } finally {
    await w.stop();
  }
}
