/**
 * Issue 17 conformance, over the real socket: `arca csi-provider` as a child process, a gRPC client
 * built from the vendored proto, a real dev server with auth/kubernetes and signed test tokens, and
 * the reference's exact `attributes` shapes (kubernetes-integration.md §4.3).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MountResponse } from '../../src/k8s/csi/index.ts';
import { mountAttributes } from '../../src/k8s/csi/testing.ts';
import { waitFor } from '../harness/index.ts';
import { type CsiWorld, startCsiWorld } from './csi-world.ts';

// Every secret value is a marker the grep test looks for in logs and metrics.
const V = {
  password: `pw-${randomBytes(6).toString('hex')}`,
  user: `user-${randomBytes(6).toString('hex')}`,
  apiKey: `key-${randomBytes(6).toString('hex')}`,
  cert: Buffer.from(`cert-${randomBytes(6).toString('hex')}`),
  other: `other-${randomBytes(6).toString('hex')}`,
};

/**
 * Bytes sent to the server listening on 127.0.0.1:`port` that it has not read yet (the receive
 * queues of its TCP connections in /proc/net/tcp, accepted or still in the listen backlog).
 */
async function unreadBytesAt(port: number): Promise<number> {
  let n = 0;
  for (const line of (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 4 && f[3] === '01' && Number.parseInt(f[1]!.split(':')[1]!, 16) === port) n += Number.parseInt(f[4]!.split(':')[1]!, 16);
  }
  return n;
}

const OBJECTS = `
- objectName: db-password
  secretPath: secret/data/app/db
  secretKey: password
- objectName: db/username
  secretPath: secret/data/app/db
  secretKey: username
  filePermission: "0440"
- objectName: api-key
  secretPath: secret/data/app/api
  secretKey: key
- objectName: tls/cert.der
  secretPath: secret/data/app/api
  secretKey: cert_b64
  encoding: base64
  filePermission: 0400
`;

describe('arca csi-provider over its unix socket', () => {
  let w: CsiWorld;
  let targetPath: string;
  const tokens: string[] = [];
  const token = async (over = {}) => {
    const t = await w.token(over);
    tokens.push(t);
    return t;
  };
  const mount = async (objects: string, o: { token?: string; extra?: Record<string, string | undefined>; audience?: string; permission?: string } = {}) =>
    w.client.mount({
      attributes: mountAttributes({ token: o.token ?? (await token()), objects, ...(o.audience ? { audience: o.audience } : {}), ...(o.extra ? { extra: o.extra } : {}) }),
      secrets: '{}',
      target_path: targetPath,
      permission: o.permission ?? '420',
      current_object_version: [],
    });
  const ok = (r: { res: MountResponse; message: string | undefined }) => {
    assert.equal(r.res.error?.code ?? '', '', r.message);
    return r.res;
  };
  const fails = async (p: Promise<{ res: MountResponse; message: string | undefined }>, code: string) => {
    const r = await p;
    assert.equal(r.res.error?.code, code, r.message);
    assert.deepEqual(r.res.files, []);
    assert.ok(r.message && r.message.length > 0);
    for (const v of Object.values(V)) assert.equal(r.message.includes(String(v)), false);
    // still serving
    assert.equal((await w.client.version()).runtime_name, 'arca-csi-provider');
    return r.message;
  };
  const auditRequests = async () =>
    (await w.auditLog())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; request?: { path?: string; data?: { role?: string } } })
      .filter((e) => e.type === 'request')
      .map((e) => ({ path: e.request?.path, role: e.request?.data?.role }));
  const versions = (res: MountResponse) => Object.fromEntries(res.object_version.map((v) => [v.id, v.version]));

  before(async () => {
    w = await startCsiWorld();
    targetPath = join(w.dir, 'pods', 'uid', 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
    await mkdir(targetPath, { recursive: true });
    await w.root.write('secret/data/app/db', { data: { password: V.password, username: V.user } });
    await w.root.write('secret/data/app/api', { data: { key: V.apiKey, cert_b64: V.cert.toString('base64') } });
    await w.root.write('secret/data/other/db', { data: { password: V.other } });
  });
  after(async () => {
    await w?.stop();
  });

  it('answers Version with the API version and its runtime name and version', async () => {
    assert.deepEqual(await w.client.version(), { version: 'v1alpha1', runtime_name: 'arca-csi-provider', runtime_version: '0.1.0' });
  });

  it('creates the socket 0600', async () => {
    assert.equal((await stat(w.socketPath)).mode & 0o777, 0o600);
  });

  it('returns the files with their modes and one version per object, and writes nothing to target_path', async () => {
    const res = ok(await mount(OBJECTS));
    const files = Object.fromEntries(res.files.map((f) => [f.path, f]));
    assert.deepEqual(Object.keys(files).sort(), ['api-key', 'db-password', 'db/username', 'tls/cert.der']);
    assert.equal(files['db-password']!.contents.toString(), V.password);
    assert.equal(files['db-password']!.mode, 420);
    assert.equal(files['db/username']!.contents.toString(), V.user);
    assert.equal(files['db/username']!.mode, 0o440);
    assert.equal(files['api-key']!.contents.toString(), V.apiKey);
    assert.deepEqual(files['tls/cert.der']!.contents, V.cert);
    assert.equal(files['tls/cert.der']!.mode, 0o400);
    assert.deepEqual(res.object_version.map((v) => v.id).sort(), Object.keys(files).sort());
    for (const v of res.object_version) {
      assert.match(v.version, /^[A-Za-z0-9_-]{43}$/);
      for (const val of Object.values(V)) assert.equal(v.version.includes(String(val)), false);
    }
    assert.deepEqual(await readdir(targetPath), []);
  });

  it('honours the request permission for objects without filePermission', async () => {
    const res = ok(await mount('- {objectName: a, secretPath: secret/data/app/db, secretKey: password}\n', { permission: '288' }));
    assert.equal(res.files[0]!.mode, 0o440);
  });

  const role = (name: string) =>
    w.root.write(`auth/kubernetes/role/${name}`, { bound_service_account_names: ['api'], bound_service_account_namespaces: ['payments'], audience: 'arca', token_policies: ['app-read'], token_ttl: '10m' });
  /** Audited requests from the first login as `first` up to the first login as `sentinel` (mounted after). */
  const auditedBetween = async (first: string, sentinel: string) => {
    await role(sentinel);
    ok(await mount('- {objectName: s, secretPath: secret/data/app/db, secretKey: password}\n', { extra: { roleName: sentinel } }));
    return waitFor('the calls in the audit log', async () => {
      const r = await auditRequests();
      const from = r.findIndex((e) => e.role === first);
      const to = r.findIndex((e) => e.role === sentinel);
      return from >= 0 && to > from ? r.slice(from, to).map((e) => e.path) : undefined;
    }, 30_000);
  };

  it('logs in once per call and reads each secret once', async () => {
    // A role of its own marks this call's audit entries (the role is not HMAC'd; tokens are).
    await role('once');
    ok(await mount(OBJECTS, { extra: { roleName: 'once' } }));
    const call = await auditedBetween('once', 'once-sentinel');
    assert.equal(call.filter((p) => p === 'auth/kubernetes/login').length, 1);
    assert.deepEqual(call.filter((p) => p?.startsWith('secret/')).sort(), ['secret/data/app/api', 'secret/data/app/db']);
  });

  it('reuses the Arca token for the same pod token and role only, and logs in again when it was revoked', async () => {
    await role('reuse');
    const podToken = await token();
    ok(await mount(OBJECTS, { token: podToken, extra: { roleName: 'reuse' } }));
    ok(await mount(OBJECTS, { token: podToken, extra: { roleName: 'reuse' } }));
    // Another pod (its own token, same service account and role) never gets the first pod's token.
    ok(await mount(OBJECTS, { token: await token({ pod: { name: 'api-other', uid: '6f2e8a1b-3333-4f10-8e3b-5c4d2a1b0f99' } }), extra: { roleName: 'reuse' } }));
    const calls = await auditedBetween('reuse', 'reuse-sentinel');
    assert.equal(calls.filter((p) => p === 'auth/kubernetes/login').length, 2, 'one login per pod token');
    assert.equal(calls.filter((p) => p === 'auth/token/revoke-self').length, 0, 'cached tokens are not revoked per call');
    // Revoke every token the kubernetes logins produced: the next Mount must log in again and succeed.
    const accessors = ((await w.root.list('auth/token/accessors')).body['data'] as { keys: string[] }).keys;
    for (const accessor of accessors) {
      const info = (await w.root.write('auth/token/lookup-accessor', { accessor })).body['data'] as { path?: string };
      if (info.path === 'auth/kubernetes/login') await w.root.write('auth/token/revoke-accessor', { accessor });
    }
    const res = ok(await mount(OBJECTS, { token: podToken, extra: { roleName: 'reuse' } }));
    assert.equal(res.files.length, 4);
  });

  it('changes only the changed object versions when a secret changes, and none when nothing changed', async () => {
    const a = versions(ok(await mount(OBJECTS)));
    const same = versions(ok(await mount(OBJECTS)));
    assert.deepEqual(same, a);
    await w.root.write('secret/data/app/api', { data: { key: `${V.apiKey}-2`, cert_b64: V.cert.toString('base64') } });
    const b = versions(ok(await mount(OBJECTS)));
    assert.equal(b['db-password'], a['db-password']);
    assert.equal(b['db/username'], a['db/username']);
    assert.notEqual(b['api-key'], a['api-key']);
    // tls/cert.der comes from the same secret: its source version changed, so its version does too
    assert.notEqual(b['tls/cert.der'], a['tls/cert.der']);
    await w.root.write('secret/data/app/api', { data: { key: V.apiKey, cert_b64: V.cert.toString('base64') } });
  });

  it('refuses ".." , absolute and unclean object names before any request to the server', async () => {
    for (const name of ['../escape', '/etc/passwd', 'a/../../b', './a', 'a//b', 'a/']) {
      const objects = `- {objectName: ok, secretPath: secret/data/app/never, secretKey: password}\n- {objectName: "${name}", secretPath: secret/data/app/never, secretKey: password}\n`;
      await fails(mount(objects, { extra: { roleName: 'never' } }), 'ERR_CSI_OBJECT_NAME_INVALID');
    }
    // A later call that does reach the server: once it is audited, earlier calls' requests would be too.
    await role('never-sentinel');
    ok(await mount('- {objectName: s, secretPath: secret/data/app/db, secretKey: password}\n', { extra: { roleName: 'never-sentinel' } }));
    await waitFor('sentinel audited', async () => ((await auditRequests()).some((e) => e.role === 'never-sentinel') ? true : undefined), 30_000);
    const r = await auditRequests();
    assert.equal(r.filter((e) => e.role === 'never' || e.path === 'secret/data/app/never').length, 0);
  });

  it('returns a coded Error for every parameter error', async () => {
    await fails(mount(OBJECTS, { extra: { roleName: undefined } }), 'ERR_CSI_PARAMETER_INVALID');
    await fails(mount(OBJECTS, { extra: { audience: undefined } }), 'ERR_CSI_PARAMETER_INVALID');
    await fails(mount('- objectName: a\n  secretPath: [unclosed\n'), 'ERR_CSI_PARAMETER_INVALID');
    await fails(mount('- {objectName: a, secretPath: secret/data/app/db, encoding: rot13, secretKey: password}\n'), 'ERR_CSI_PARAMETER_INVALID');
    await fails(mount('- {objectName: a, secretPath: secret/data/app/db}\n- {objectName: a, secretPath: secret/data/app/api}\n'), 'ERR_CSI_OBJECT_NAME_INVALID');
    await fails(mount(OBJECTS, { permission: '"0644"' }), 'ERR_CSI_PARAMETER_INVALID');
  });

  it('refuses without a token for its audience, never falling back to another credential', async () => {
    const m = await fails(
      w.client.mount({ attributes: mountAttributes({ token: await token(), objects: OBJECTS, extra: { audience: 'vault' } }), secrets: '{}', target_path: targetPath, permission: '420' }),
      'ERR_CSI_TOKEN_MISSING',
    );
    assert.match(m, /tokenRequests/);
  });

  it('refuses a token minted for another audience and an unbound service account', async () => {
    await fails(mount(OBJECTS, { token: await token({ audiences: ['https://kubernetes.default.svc.cluster.local'] }) }), 'ERR_K8S_AUTH_JWT_INVALID');
    w.kube.serviceAccounts.set('payments/web', 'b9c5d3e1-1111-4f10-8e3b-5c4d2a1b0f99');
    await fails(mount(OBJECTS, { token: await token({ name: 'web', uid: 'b9c5d3e1-1111-4f10-8e3b-5c4d2a1b0f99' }) }), 'ERR_K8S_AUTH_NOT_BOUND');
    await fails(mount(OBJECTS, { extra: { roleName: 'nope' } }), 'ERR_K8S_AUTH_ROLE_UNKNOWN');
  });

  it('returns coded Errors for a denied path, a missing secret, a missing key and an undecodable value', async () => {
    const denied = await fails(mount('- {objectName: stolen, secretPath: secret/data/other/db, secretKey: password}\n'), 'ERR_PERMISSION_DENIED');
    assert.match(denied, /stolen/);
    await fails(mount('- {objectName: gone, secretPath: secret/data/app/missing, secretKey: password}\n'), 'ERR_NOT_FOUND');
    const missing = await fails(mount('- {objectName: db-pass, secretPath: secret/data/app/db, secretKey: pasword}\n'), 'ERR_RENDER_FIELD_MISSING');
    assert.match(missing, /db-pass/);
    await fails(mount('- {objectName: x, secretPath: secret/data/app/db, secretKey: password, encoding: hex}\n'), 'ERR_CSI_DECODE_FAILED');
  });

  it('warns over 1 MiB and refuses over 4 MiB with a coded Error', async () => {
    const big = 'x'.repeat(700 * 1024);
    await w.root.write('secret/data/app/big', { data: { a: big, b: big } });
    const objs = (n: number) => Array.from({ length: n }, (_, i) => `- {objectName: f${i}, secretPath: secret/data/app/big, secretKey: ${i % 2 ? 'a' : 'b'}}`).join('\n');
    const res = ok(await mount(objs(2)));
    assert.equal(res.files.length, 2);
    await waitFor('over-1MiB warning', async () => (w.provider.output().includes('secretObjects sync to a Kubernetes Secret will fail') ? true : undefined), 30_000);
    await fails(mount(objs(7)), 'ERR_CSI_MOUNT_TOO_LARGE');
  });

  it('never writes a secret value or a pod token to its logs or metrics', async () => {
    const port = /"metricsPort":(\d+)/.exec(w.provider.output())?.[1];
    assert.ok(port, 'metrics port logged');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /arca_csi_provider_rpc_total\{rpc="Mount",code="ERR_RENDER_FIELD_MISSING"\} [1-9]/);
    const out = w.provider.output();
    assert.match(out, /mount failed/);
    for (const text of [out, metrics]) {
      for (const v of [...Object.values(V).map(String), V.cert.toString('base64'), ...tokens]) assert.equal(text.includes(v), false, 'a secret or token leaked');
    }
  });

  it('with --no-login-cache revokes each service token after its Mount, and leaves a batch token to expire', async () => {
    const restart = async (args?: string[]) => {
      w.provider.child.kill('SIGTERM');
      assert.equal(await w.provider.exited, 0);
      await w.restartProvider(args);
    };
    await restart(['--no-login-cache']);
    try {
      await role('nocache');
      ok(await mount(OBJECTS, { extra: { roleName: 'nocache' } }));
      const service = await auditedBetween('nocache', 'nocache-sentinel');
      assert.equal(service.filter((p) => p === 'auth/token/revoke-self').length, 1, 'the service token is revoked');
      await w.root.write('auth/kubernetes/role/nocache-batch', { bound_service_account_names: ['api'], bound_service_account_namespaces: ['payments'], audience: 'arca', token_policies: ['app-read'], token_ttl: '10m', token_type: 'batch' });
      const res = ok(await mount(OBJECTS, { extra: { roleName: 'nocache-batch' } }));
      assert.equal(res.files.length, 4);
      const batch = await auditedBetween('nocache-batch', 'nocache-batch-sentinel');
      assert.equal(batch.filter((p) => p === 'auth/kubernetes/login').length, 1);
      assert.equal(batch.filter((p) => p === 'auth/token/revoke-self').length, 0, 'no revoke the server would refuse');
    } finally {
      await restart();
    }
  });

  it('on SIGTERM finishes a Mount in flight, then exits 0 and removes its socket', async () => {
    const n = 80;
    for (let i = 0; i < n; i++) await w.root.write(`secret/data/app/many-${i}`, { data: { v: `v${i}` } });
    await role('sigterm');
    const objects = Array.from({ length: n }, (_, i) => `- {objectName: m${i}, secretPath: secret/data/app/many-${i}, secretKey: v}`).join('\n');
    // A provider whose requests to the server wait out the hold below (its default timeout is 10 s).
    w.provider.child.kill('SIGTERM');
    assert.equal(await w.provider.exited, 0);
    const provider = await w.restartProvider(['--request-timeout', '5m']);
    // The Mount is in flight when the SIGTERM lands, by construction rather than by timing: the
    // Arca server is stopped (SIGSTOP) before the Mount is sent, so nothing answers the provider
    // until SIGCONT (the kernel still accepts its connection and queues what it sends). Nothing is
    // queued at the server before the Mount; the provider gets SIGTERM once bytes are (the Mount's
    // login: the Mount has started), and the server resumes only after the provider has logged the
    // signal. So the Mount cannot end before the provider took the SIGTERM.
    w.srv.child.kill('SIGSTOP');
    let pending: ReturnType<typeof mount>;
    try {
      assert.equal(await unreadBytesAt(w.srv.port), 0);
      pending = mount(objects, { extra: { roleName: 'sigterm' } });
      await waitFor('the Mount\'s first request queued at the stopped server', async () => ((await unreadBytesAt(w.srv.port)) > 0 ? true : undefined), 30_000, 20);
      provider.child.kill('SIGTERM');
      await waitFor('the provider to take the SIGTERM', async () => (provider.output().includes('csi provider shutting down') ? true : undefined), 30_000, 20);
    } finally {
      w.srv.child.kill('SIGCONT');
    }
    const res = ok(await pending);
    assert.equal(res.files.length, n);
    assert.equal(await provider.exited, 0);
    assert.equal(existsSync(w.socketPath), false);
    // The provider's own log tells the same order: the signal, this Mount, then the exit.
    const events = provider.output().split('\n').flatMap((line) => {
      try {
        const e = JSON.parse(line) as { msg?: string; role?: string };
        return [e.msg === 'mounted' ? `mounted ${e.role}` : e.msg];
      } catch {
        return [];
      }
    });
    assert.deepEqual(events.filter((e) => e === 'csi provider shutting down' || e === 'mounted sigterm' || e === 'csi provider stopped'), ['csi provider shutting down', 'mounted sigterm', 'csi provider stopped']);
    await w.restartProvider();
  });
});
