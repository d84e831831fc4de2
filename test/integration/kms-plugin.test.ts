/**
 * Issue 6: `arca kms-plugin` conformance over its real unix socket, with a gRPC client, in remote
 * mode (a real `arca server --dev` child, transit key) and in local HSM mode (SoftHSM2 token).
 * Also: stale socket files, a live socket is not stolen, graceful SIGTERM removes the socket.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { decodeEncryptedObject, grpcKmsV1, grpcKmsV2, KmsV2Transformer } from '../../src/k8s/encryption/index.ts';
import { ARCA_BIN, type ConformanceContext, ensureKmsLoad, exerciseKmsPlugin, KmsTestClient, type PluginProcess, rejectsWith, startPlugin, waitUntil } from '../../src/kms-plugin/testing.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { createSoftHsmToken, freePort, type SoftHsmToken, tempDir } from '../harness/index.ts';

const execFileP = promisify(execFile);
const HEALTH_MS = 1000;
const WAIT_MS = 60_000;

describe('kms-plugin, remote mode (transit key on a real arca server)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let plugin: PluginProcess;
  let args: string[];
  const socket = () => join(dir.path, 'kms.sock');

  before(async () => {
    dir = await tempDir('arca-kms-');
    srv = await startArca({ args: ['--dev', '--dev-root-token', 'root-T'] });
    const c = srv.client('root-T');
    await c.write('transit/keys/k8s-kek', {});
    c.close();
    await writeFile(join(dir.path, 'token'), 'root-T\n', { mode: 0o600 });
    args = ['--key', 'k8s-kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token'), '--health-interval', `${HEALTH_MS}ms`];
    plugin = await startPlugin(socket(), args);
  });
  after(async () => {
    await plugin?.stop();
    await srv?.stop();
    await dir?.remove();
  });

  const ctx = (): ConformanceContext => ({
    socket: socket(),
    healthIntervalMs: HEALTH_MS,
    async rotate() {
      const c = srv.client('root-T');
      await c.write('transit/keys/k8s-kek/rotate', {});
      c.close();
    },
    async restart() {
      assert.equal(await plugin.stop(), 0);
      assert.equal(existsSync(socket()), false, 'graceful stop removes the socket');
      plugin = await startPlugin(socket(), args);
    },
  });
  exerciseKmsPlugin(ctx);

  it('works end to end with the apiserver-side KMS v2 transformer and the v1 gRPC client (src/k8s/encryption)', async () => {
    const v2 = grpcKmsV2('arca', `unix://${socket()}`, 3000);
    const v1 = grpcKmsV1('arca-v1', `unix://${socket()}`, 3000);
    try {
      const t = new KmsV2Transformer('arca', v2);
      const aad = Buffer.from('/registry/secrets/default/db');
      const secret = Buffer.from('k8s\u0000 pretend-this-is-a-Secret');
      const stored = await t.toStorage(secret, aad);
      // The stored EncryptedObject names the plugin's key_id and carries its ciphertext.
      const obj = decodeEncryptedObject(stored);
      assert.equal(obj.keyId, (await v2.status()).keyId);
      assert.ok(obj.encryptedDekSource.length <= 1024);
      assert.ok(!Buffer.from(stored).includes(secret));
      const back = await t.fromStorage(stored, aad);
      assert.deepEqual(Buffer.from(back.plaintext), secret);
      assert.equal(back.stale, false);
      // Rotation: the transformer sees the new key_id; old data reads as stale and still decrypts.
      const c = srv.client('root-T');
      await c.write('transit/keys/k8s-kek/rotate', {});
      c.close();
      const oldKeyId = (await v2.status()).keyId;
      const k = new KmsTestClient(socket());
      const newKeyId = await waitForKeyId(k, oldKeyId).finally(() => k.close());
      assert.equal(await t.refresh(), newKeyId);
      const again = await new KmsV2Transformer('arca', v2).fromStorage(stored, aad);
      assert.deepEqual(Buffer.from(again.plaintext), secret);
      assert.equal(again.stale, true);
      const dek = randomBytes(32);
      assert.deepEqual(Buffer.from(await v1.decrypt(await v1.encrypt(dek))), dek);
    } finally {
      v2.close?.();
      v1.close?.();
    }
  });

  it('uses the transit version id as key_id, and a deleted+recreated key gets new key_ids', async () => {
    const c = srv.client('root-T');
    await c.write('transit/keys/again', {});
    const ids1 = Object.values((await c.read('transit/keys/again')).body['data'] as { version_ids: Record<string, string> }['version_ids'] ?? {});
    const p = await startPlugin(join(dir.path, 'again.sock'), ['--key', 'again', '--addr', srv.addr, '--token-file', join(dir.path, 'token'), '--health-interval', `${HEALTH_MS}ms`]);
    const k = new KmsTestClient(p.socket);
    try {
      const first = (await k.status()).key_id;
      const d = (await c.read('transit/keys/again')).body['data'] as { version_ids: Record<string, string> };
      assert.equal(first, d.version_ids['1']);
      await c.write('transit/keys/again/config', { deletion_allowed: true });
      await c.delete('transit/keys/again');
      await c.write('transit/keys/again', {});
      const recreated = (await c.read('transit/keys/again')).body['data'] as { version_ids: Record<string, string> };
      assert.notEqual(recreated.version_ids['1'], first);
      const next = await waitForKeyId(k, first);
      assert.equal(next, recreated.version_ids['1']);
      assert.ok(!ids1.includes(next));
    } finally {
      k.close();
      await p.stop();
      c.close();
    }
  });

  it('re-reads the token file when it changes', async () => {
    const c = srv.client('root-T');
    const t = (await c.write('auth/token/create', { policies: ['root'] })).body['auth'] as { client_token: string };
    c.close();
    await writeFile(join(dir.path, 'token'), 'not-a-valid-token\n');
    const k = new KmsTestClient(socket());
    try {
      await waitFor(k, (s) => s.healthz !== 'ok' && /ERR_(PERMISSION_DENIED|TOKEN_INVALID)/.test(s.healthz));
      await writeFile(join(dir.path, 'token'), `${t.client_token}\n`);
      await waitFor(k, (s) => s.healthz === 'ok');
    } finally {
      k.close();
    }
  });

  it('removes a stale socket file, but refuses to take over a socket a live plugin serves', async () => {
    const stale = join(dir.path, 'stale.sock');
    // A socket file nobody listens on (as a crashed plugin leaves behind).
    await execFileP('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
    assert.ok(existsSync(stale));
    const p = await startPlugin(stale, args);
    try {
      const second = await startPlugin(stale, args, {}, false);
      assert.equal(await second.exited, 2);
      assert.match(second.output(), /ERR_CONFIG_INVALID/);
      const k = new KmsTestClient(stale);
      assert.equal((await k.status()).version, 'v2');
      k.close();
    } finally {
      await p.stop();
    }
  });

  it('serves the Go gRPC client kms-load (grpc-go, like kube-apiserver) without errors', { timeout: 300_000 }, async () => {
    const { load } = await ensureKmsLoad();
    for (const op of ['status', 'encrypt', 'decrypt']) {
      const { stdout } = await execFileP(load, ['-sock', socket(), '-op', op, '-c', '8', '-d', '500ms', '-warm', '50']);
      const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { errors: number; n: number };
      assert.equal(r.errors, 0, `${op}: ${stdout}`);
      assert.ok(r.n > 0, op);
    }
  });

  it('stops decrypting versions below min_decryption_version after a refresh, even ones it has cached', async () => {
    const k = new KmsTestClient(socket());
    const c = srv.client('root-T');
    try {
      const seed = Buffer.from(randomBytes(32));
      const old = await k.encrypt(seed);
      assert.deepEqual(await k.decrypt(old.ciphertext, old.key_id), seed);
      await c.write('transit/keys/k8s-kek/rotate', {});
      const latest = ((await c.read('transit/keys/k8s-kek')).body['data'] as { latest_version: number }).latest_version;
      await waitFor(k, (st) => st.key_id !== old.key_id && st.healthz === 'ok');
      assert.deepEqual(await k.decrypt(old.ciphertext, old.key_id), seed);
      await c.write('transit/keys/k8s-kek/config', { min_decryption_version: latest });
      // Until a health check has fetched the new config the cached seed is still served; then never.
      await waitUntil('the old version refused', () => k.decrypt(old.ciphertext, old.key_id).then(() => undefined, () => true), WAIT_MS);
      await rejectsWith(k.decrypt(old.ciphertext, old.key_id), grpc.status.FAILED_PRECONDITION, 'ERR_TRANSIT_VERSION_DISALLOWED');
      const fresh = await k.encrypt(seed);
      assert.deepEqual(await k.decrypt(fresh.ciphertext, fresh.key_id), seed);
    } finally {
      k.close();
      c.close();
    }
  });

  it('exports metrics: latency per RPC, errors by code, current key_id, cache, remote health', async () => {
    const port = await freePort();
    const p = await startPlugin(join(dir.path, 'metrics.sock'), [...args, '--metrics-listen', `127.0.0.1:${port}`]);
    const k = new KmsTestClient(p.socket);
    try {
      const st = await k.status(); // the second Status: startPlugin waited with one
      const r = await k.encrypt(randomBytes(32));
      await k.decrypt(r.ciphertext, r.key_id);
      await k.decrypt(r.ciphertext, r.key_id);
      await k.decrypt(r.ciphertext, 'wrong').catch(() => undefined);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /arca_kms_plugin_rpc_duration_seconds_count\{rpc="v2.Decrypt"\} 3/);
      assert.match(text, /arca_kms_plugin_rpc_duration_seconds_count\{rpc="v2.Status"\} 2/);
      assert.match(text, /arca_kms_plugin_rpc_errors_total\{rpc="v2.Decrypt",code="ERR_KMS_KEY_ID_UNKNOWN"\} 1/);
      assert.ok(text.includes(`arca_kms_plugin_key_id_info{key_id="${st.key_id}"} 1`));
      assert.match(text, /arca_kms_plugin_cache_lookups_total\{cache="seed",result="hit"\} 1/);
      assert.match(text, /arca_kms_plugin_cache_entries\{cache="seed"\} 1/);
      assert.match(text, /arca_kms_plugin_remote_healthy 1/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      k.close();
      await p.stop();
    }
  });

  it('exits with a usage error without --key', async () => {
    const r = await execFileP(ARCA_BIN, ['kms-plugin', '--listen', `unix://${join(dir.path, 'x.sock')}`]).catch((e: { code: number; stderr: string }) => e);
    assert.equal((r as { code: number }).code, 1);
  });
});

async function waitForKeyId(k: KmsTestClient, old: string): Promise<string> {
  const s = await waitFor(k, (st) => st.key_id !== old && st.healthz === 'ok');
  return s.key_id;
}

/** Waits until Status matches; generous, since a busy machine may take many health intervals. */
async function waitFor(k: KmsTestClient, ok: (s: { healthz: string; key_id: string }) => boolean, ms = WAIT_MS) {
  return waitUntil('a matching Status', async () => {
    const s = await k.status();
    return ok(s) ? s : undefined;
  }, ms);
}

describe('kms-plugin, remote mode over the grpc-js transport', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let plugin: PluginProcess;
  let args: string[];
  const socket = () => join(dir.path, 'kms.sock');

  before(async () => {
    dir = await tempDir('arca-kms-grpcjs-');
    srv = await startArca({ args: ['--dev', '--dev-root-token', 'root-T'] });
    const c = srv.client('root-T');
    await c.write('transit/keys/k8s-kek', {});
    c.close();
    await writeFile(join(dir.path, 'token'), 'root-T\n', { mode: 0o600 });
    args = ['--transport', 'grpc-js', '--key', 'k8s-kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token'), '--health-interval', `${HEALTH_MS}ms`];
    plugin = await startPlugin(socket(), args);
  });
  after(async () => {
    await plugin?.stop();
    await srv?.stop();
    await dir?.remove();
  });

  exerciseKmsPlugin(() => ({
    socket: socket(),
    healthIntervalMs: HEALTH_MS,
    async rotate() {
      const c = srv.client('root-T');
      await c.write('transit/keys/k8s-kek/rotate', {});
      c.close();
    },
    async restart() {
      assert.equal(await plugin.stop(), 0);
      assert.equal(existsSync(socket()), false, 'graceful stop removes the socket');
      plugin = await startPlugin(socket(), args);
    },
  }));
});

describe('kms-plugin, local HSM mode (SoftHSM2)', () => {
  let token: SoftHsmToken;
  let plugin: PluginProcess;
  let args: string[];
  const socket = () => join(token.dir, 'kms.sock');

  before(async () => {
    token = await createSoftHsmToken('kms-node');
    await writeFile(join(token.dir, 'pin'), `${token.pin}\n`, { mode: 0o600 });
    args = [
      '--pkcs11-module', token.module, '--pkcs11-token', token.label, '--pkcs11-pin-file', join(token.dir, 'pin'),
      '--pkcs11-key-label', 'arca-kms', '--health-interval', `${HEALTH_MS}ms`,
    ];
    plugin = await startPlugin(socket(), args, token.env);
  });
  after(async () => {
    await plugin?.stop();
    await token?.remove();
  });

  exerciseKmsPlugin(() => ({
    socket: socket(),
    healthIntervalMs: HEALTH_MS,
    async rotate() {
      const { stdout } = await execFileP(ARCA_BIN, ['kms-plugin', '--pkcs11-rotate', ...args], { env: { ...process.env, ...token.env } });
      assert.match(stdout.trim(), /^pkcs11-[0-9a-f]{32}$/);
    },
    async restart() {
      assert.equal(await plugin.stop(), 0);
      plugin = await startPlugin(socket(), args, token.env);
    },
  }));
});
