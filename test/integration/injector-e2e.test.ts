/**
 * End to end, issue 16's "done when": the injector (a real `arca injector` process, real TLS)
 * receives a review; the patched pod's agent init container command is run as a process against a
 * real `arca server` with the Kubernetes auth method; the app container's mount directory then
 * holds the secrets.
 *
 * What kubelet would do is done here, by the pod spec: every volume becomes a directory, each
 * container's mount paths map to those directories (argv paths under a mount are rewritten to the
 * directory), and the projected token volume gets a token signed by the test API server
 * (test/harness/kube-tokens.ts) with the audience and expiry the patch asked for.
 *
 * Also: env mode (the wrapped command gets its values) and the native sidecar (startup-probe
 * endpoint after the first render, a new KV version picked up).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import jsonpatch from 'fast-json-patch';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { ARCA_BIN, type ArcaProcess, initUnsealed, REPO_ROOT, startArca } from '../harness/arca.ts';
import { freePort, stopChild, tempDir, waitFor } from '../harness/index.ts';
import { type KubeApiServer, startKubeApiServer } from '../harness/kube-tokens.ts';
import { createCerts, writeCerts } from '../../src/k8s/injector/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: test-side traversal of JSON documents
type Json = Record<string, any>;

const SA = { namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99' };
const PASSWORD = 'pw-e2e-7f3a9c';

function post(port: number, ca: string, body: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/mutate?timeout=5s', ca, servername: 'arca-injector.arca-system.svc', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`HTTP ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * kubelet, for one pod: a directory per volume; downward-API annotation items written; projected
 * tokens minted as the spec asks (audience, expiry). Returns volume name → directory.
 */
async function materialise(kube: KubeApiServer, pod: Json, root: string): Promise<Map<string, string>> {
  const volDir = new Map<string, string>();
  for (const v of pod.spec.volumes) {
    const d = join(root, v.name);
    await mkdir(d, { recursive: true });
    volDir.set(v.name, d);
    for (const item of v.downwardAPI?.items ?? []) {
      const m = /^metadata\.annotations\['(.+)'\]$/.exec(item.fieldRef.fieldPath);
      assert.ok(m, item.fieldRef.fieldPath);
      await writeFile(join(d, item.path), pod.metadata.annotations[m[1]!]);
    }
    for (const s of v.projected?.sources ?? []) {
      if (!s.serviceAccountToken) continue;
      const t = s.serviceAccountToken;
      // Without an audience kubelet uses the API server's (the pod's own kube-api-access volume).
      const jwt = await kube.mint({ ...SA, ...(t.audience ? { audiences: [t.audience] } : {}), ttl: t.expirationSeconds, pod: { name: 'api-7c9d8f6b5d-x2kqv', uid: '5e1d7f0a-2222-4f10-8e3b-5c4d2a1b0f99' } });
      await writeFile(join(d, t.path), jwt);
    }
  }
  return volDir;
}

/** A container's argv as its process would see it: mount paths mapped to the volume directories. */
function argvOf(c: Json, volDir: Map<string, string>): string[] {
  const mounts: Array<[string, string]> = c.volumeMounts.map((m: Json) => [m.mountPath, volDir.get(m.name)!]);
  const mapPath = (a: string) => {
    for (const [mp, d] of mounts) if (a === mp || a.startsWith(`${mp}/`)) return d + a.slice(mp.length);
    return a;
  };
  // The agent image's entrypoint is arca; bin/arca stands in for it.
  return [ARCA_BIN, ...c.args.map(mapPath)];
}

function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('injector end to end: patched pod → agent init container → secrets in the app mount', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let kube: KubeApiServer;
  let srv: ArcaProcess;
  let injector: ChildProcess;
  let port: number;
  let ca: string;
  let root: ReturnType<ArcaProcess['client']>;

  before(async () => {
    dir = await tempDir();
    kube = await startKubeApiServer();
    kube.serviceAccounts.set(`${SA.namespace}/${SA.name}`, SA.uid);
    srv = await startArca({ args: ['--data-dir', `${dir.path}/data`] });
    root = srv.client((await initUnsealed(srv)).root);
    await root.write('sys/policies/acl/app-read', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }\npath "secret/metadata/app/*" { capabilities = ["read"] }' });
    await root.write('secret/data/app/db', { data: { password: PASSWORD, user: 'payments' } });
    await root.write('sys/auth/kubernetes', { type: 'kubernetes' });
    await root.write('auth/kubernetes/config', { oidc_discovery_url: kube.url });
    await root.write('auth/kubernetes/role/payments-api', { bound_service_account_names: [SA.name], bound_service_account_namespaces: [SA.namespace], audience: 'arca', token_policies: ['app-read'], token_ttl: '10m' });
    const certs = await createCerts({ service: 'arca-injector', namespace: 'arca-system', days: 1 });
    await writeCerts(dir.path, certs);
    ca = certs.caPem;
    port = await freePort();
    injector = spawn(ARCA_BIN, ['injector', '--listen', `127.0.0.1:${port}`, '--tls-cert', join(dir.path, 'tls.crt'), '--tls-key', join(dir.path, 'tls.key'),
      '--arca-addr', srv.addr, '--agent-image', 'registry.example.dev/arca:0.1.0', '--shutdown-delay', '0s'], { stdio: 'ignore' });
    await waitFor('injector', async () => ((await post(port, ca, '{}').catch((e: Error) => (e.message.startsWith('HTTP 400') ? {} : undefined))) ? true : undefined), 30_000, 100);
  });
  after(async () => {
    root?.close();
    if (injector) await stopChild(injector);
    await srv?.stop();
    await kube?.close();
    await dir?.remove();
  });

  it('env mode: the wrapped app command gets the values in its environment, and the spec no longer names them', async () => {
    const review = JSON.parse(readFileSync(join(REPO_ROOT, 'src/k8s/injector/testdata/env-mode.json'), 'utf8'));
    const api = review.request.object.spec.containers[0];
    const print = 'process.stdout.write(JSON.stringify({ db: process.env.DB_PASSWORD, port: process.env.PORT, args: process.argv.slice(1) }))';
    api.command = [process.execPath, '-e', print];
    api.args = ['a1'];
    api.env = [{ name: 'PORT', value: '8080' }, { name: 'DB_PASSWORD', value: 'arca:secret/app/db#password' }];
    const answer = await post(port, ca, JSON.stringify(review));
    const ops = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8'));
    const pod: Json = jsonpatch.applyPatch(structuredClone(review.request.object), ops, true, false).newDocument;
    new PodModel(pod as never).validate();
    const c = pod.spec.containers[0];
    const tokenDir = join(dir.path, 'env-pod', 'token');
    await mkdir(tokenDir, { recursive: true });
    const tok = pod.spec.volumes.find((v: Json) => v.name === 'arca-token').projected.sources[0].serviceAccountToken;
    await writeFile(join(tokenDir, tok.path), await kube.mint({ ...SA, audiences: [tok.audience], ttl: tok.expirationSeconds }));
    const tokenMount = c.volumeMounts.find((m: Json) => m.name === 'arca-token').mountPath;
    // The first five argv entries start the copied runtime (loader, node, arca-agent.mjs) from the agent
    // image; here the repository's own bin/arca stands in for them.
    const argv = [ARCA_BIN, ...c.command.slice(5).map((a: string) => (a.startsWith(`${tokenMount}/`) ? tokenDir + a.slice(tokenMount.length) : a)), ...c.args];
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] };
    for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, out.stderr);
    const seen = JSON.parse(out.stdout);
    assert.equal(seen.db, PASSWORD);
    assert.equal(seen.port, '8080');
    assert.deepEqual(seen.args, ['a1'], "the app's args pass through unchanged");
    assert.ok(!JSON.stringify(pod).includes(PASSWORD), 'the value is nowhere in the pod spec');
    assert.ok(!out.stderr.includes(PASSWORD), 'nor in the agent log');
  });

  it('renders the secrets into the volume the app container mounts', async () => {
    const review = JSON.parse(readFileSync(join(REPO_ROOT, 'src/k8s/injector/testdata/init-containers.json'), 'utf8'));
    // A templated file too: it reaches the agent as config through the downward API.
    review.request.object.metadata.annotations['arca.dev/secret-app.conf'] = 'secret/app/db';
    review.request.object.metadata.annotations['arca.dev/template-app.conf'] = 'user={{data.user}}\npass={{data.password}}\n';
    const answer = await post(port, ca, JSON.stringify(review));
    assert.equal(answer.response.uid, review.request.uid);
    const ops = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8'));
    const pod: Json = jsonpatch.applyPatch(structuredClone(review.request.object), ops, true, false).newDocument;
    new PodModel(pod as never).validate();

    const volDir = await materialise(kube, pod, join(dir.path, 'pod'));
    const init = pod.spec.initContainers[0];
    assert.equal(init.name, 'arca-agent-init', 'the agent runs first');
    const argv = argvOf(init, volDir);
    const { VAULT_TOKEN: _v, ARCA_TOKEN: _a, ...env } = process.env;
    const r = await run(argv, env);
    assert.equal(r.code, 0, `agent init failed: ${r.stderr}`);
    assert.ok(!r.stderr.includes(PASSWORD), 'the agent never logs the value');

    // What the app container sees through its own mount of the secrets volume.
    const app = pod.spec.containers[0];
    const m = app.volumeMounts.find((x: Json) => x.mountPath === '/arca/secrets');
    assert.ok(m.readOnly);
    const appDir = volDir.get(m.name)!;
    assert.equal((await readFile(join(appDir, 'password'), 'utf8')).trim(), PASSWORD);
    assert.match(await readFile(join(appDir, 'db.env'), 'utf8'), new RegExp(`password=['"]?${PASSWORD}`, 'i'));
    assert.equal(await readFile(join(appDir, 'app.conf'), 'utf8'), `user=payments\npass=${PASSWORD}\n`);
    assert.equal((await stat(join(appDir, 'password'))).mode & 0o007, 0, 'not world-readable');
  });

  it('native sidecar: serves the startup-probe endpoint after the first render and picks up a new version', async () => {
    const review = JSON.parse(readFileSync(join(REPO_ROOT, 'src/k8s/injector/testdata/minimal.json'), 'utf8'));
    Object.assign(review.request.object.metadata.annotations, { 'arca.dev/mode': 'sidecar', 'arca.dev/interval': '1s', 'arca.dev/secret-db.env': 'secret/app/side:env' });
    await root.write('secret/data/app/side', { data: { password: 'side-v1' } });
    const answer = await post(port, ca, JSON.stringify(review));
    const ops = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8'));
    const pod: Json = jsonpatch.applyPatch(structuredClone(review.request.object), ops, true, false).newDocument;
    new PodModel(pod as never).validate();
    const side = pod.spec.initContainers[0];
    assert.equal(side.restartPolicy, 'Always');
    const volDir = await materialise(kube, pod, join(dir.path, 'pod-sidecar'));
    const probePort = side.startupProbe.httpGet.port;
    const hostPort = await freePort();
    // The probe's port, on loopback here: the pod's network namespace is the host's in this test.
    const argv = argvOf(side, volDir).map((a) => (a === `0.0.0.0:${probePort}` ? `127.0.0.1:${hostPort}` : a));
    assert.ok(argv.includes(`127.0.0.1:${hostPort}`), 'the sidecar listens on the startup probe port');
    const { VAULT_TOKEN: _v, ARCA_TOKEN: _a, ...env } = process.env;
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      const health = () => new Promise<number>((resolve) => {
        const req = httpGet({ host: '127.0.0.1', port: hostPort, path: side.startupProbe.httpGet.path }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(0));
      });
      await waitFor('startup probe passes', async () => ((await health()) === 200 ? true : undefined), 30_000, 100);
      const file = join(volDir.get('arca-secrets')!, 'db.env');
      assert.match(await readFile(file, 'utf8'), /side-v1/, 'the file exists once the probe passes');
      await root.write('secret/data/app/side', { data: { password: 'side-v2' } });
      await waitFor('the new version rendered', async () => ((await readFile(file, 'utf8')).includes('side-v2') ? true : undefined), 30_000, 100);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.ok(!stderr.includes('side-v1') && !stderr.includes('side-v2'), 'no value in the agent log');
    } finally {
      await stopChild(child);
    }
  });
});
