/**
 * Test helpers: a raw gRPC client for the plugin's socket (keeps the gRPC status code and the
 * `ERR_…` code of the message), a launcher for `arca kms-plugin` as a child process, and the
 * conformance suite every key source must pass over the real socket.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { open, randomKey, seal } from '../crypto/index.ts';
import { ArcaError } from '../errors/index.ts';
import { type KmsApi, kmsMethod } from '../grpc/index.ts';
import { encodeHeader } from './ciphertext.ts';
import type { KeyMeta, KeySource, WrappedKek } from './key-source.ts';

const execFileP = promisify(execFile);

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KMS_LOAD_SOURCES = ['tools/kms-load/build.sh', 'tools/kms-load/cmd/kms-load/main.go', 'tools/kms-load/cmd/kms-echo/main.go', 'src/grpc/proto/kms-v2.proto'];
/**
 * Where kms-load and kms-echo are built once and reused (outside the repo); named by a hash of
 * their sources so an edited tool is rebuilt instead of a stale binary being measured.
 */
export const KMS_LOAD_DIR = join(
  tmpdir(),
  `arca-kms-load-${KMS_LOAD_SOURCES.reduce((h, f) => h.update(readFileSync(join(REPO, f))), createHash('sha256')).digest('hex').slice(0, 12)}`,
);
export const ARCA_BIN = join(REPO, 'bin', 'arca');

/** Builds the project's Go kms-load / kms-echo tools (tools/kms-load) unless already built. */
export async function ensureKmsLoad(): Promise<{ load: string; echo: string }> {
  const load = join(KMS_LOAD_DIR, 'kms-load');
  const echo = join(KMS_LOAD_DIR, 'kms-echo');
  if (!existsSync(load) || !existsSync(echo)) await execFileP('bash', [join(REPO, 'tools', 'kms-load', 'build.sh'), KMS_LOAD_DIR], { maxBuffer: 1 << 24 });
  return { load, echo };
}

/** An in-process key source (a software AES key) for unit tests; its unwrap can be held (a hung source). */
export class MemoryKeySource implements KeySource {
  readonly description = 'memory';
  readonly #key = randomKey();
  /** While set, unwrap waits for it to resolve. */
  unwrapGate: Promise<void> | undefined;
  unwrapsStarted = 0;
  async refresh(): Promise<KeyMeta> {
    return { currentKeyId: 'mem-1', allows: (id) => id === 'mem-1' };
  }
  async wrap(kek: Uint8Array): Promise<WrappedKek> {
    return { keyId: 'mem-1', wrapped: seal(this.#key, kek, Buffer.from('mem-1')) };
  }
  async unwrap(keyId: string, wrapped: Uint8Array): Promise<Uint8Array> {
    this.unwrapsStarted++;
    await this.unwrapGate;
    if (keyId !== 'mem-1') throw new ArcaError('ERR_KMS_KEY_ID_UNKNOWN', 'unknown');
    return open(this.#key, wrapped, Buffer.from(keyId));
  }
  async probe(): Promise<void> {}
  async close(): Promise<void> {}
}

export class KmsCallError extends Error {
  constructor(
    readonly grpcCode: number,
    readonly details: string,
  ) {
    super(`${grpc.status[grpcCode]}: ${details}`);
  }
  /** The Arca error code the plugin put in front of its message. */
  get code(): string {
    return /^(ERR_[A-Z0-9_]+)/.exec(this.details)?.[1] ?? '';
  }
}

export class KmsTestClient {
  readonly #c: grpc.Client;
  constructor(socket: string) {
    this.#c = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'localhost' });
  }

  /** The deadline only keeps a hung call from hanging the test; no test measures time with it. */
  call(api: KmsApi, rpc: string, req: object, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const m = kmsMethod(api, rpc);
    return new Promise((resolve, reject) => {
      this.#c.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(new KmsCallError(err.code, err.details)) : resolve(res as Record<string, unknown>),
      );
    });
  }

  async status(): Promise<{ version: string; healthz: string; key_id: string }> {
    return (await this.call('v2', 'Status', {})) as { version: string; healthz: string; key_id: string };
  }
  async encrypt(plaintext: Uint8Array): Promise<{ ciphertext: Buffer; key_id: string; annotations: Record<string, Buffer> }> {
    return (await this.call('v2', 'Encrypt', { plaintext, uid: randomUUID() })) as { ciphertext: Buffer; key_id: string; annotations: Record<string, Buffer> };
  }
  async decrypt(ciphertext: Uint8Array, keyId: string, annotations: Record<string, Uint8Array> = {}): Promise<Buffer> {
    return (await this.call('v2', 'Decrypt', { ciphertext, key_id: keyId, uid: randomUUID(), annotations }))['plaintext'] as Buffer;
  }
  close(): void {
    this.#c.close();
  }
}

export async function rejectsWith(p: Promise<unknown>, grpcCode: number, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KmsCallError, String(e));
    assert.equal(e.grpcCode, grpcCode, e.message);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface PluginProcess {
  socket: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `arca kms-plugin --listen unix://<socket> ...args`; resolves once Status answers. */
export async function startPlugin(socket: string, args: string[], env: Record<string, string> = {}, wait = true): Promise<PluginProcess> {
  const child = spawn(ARCA_BIN, ['kms-plugin', '--listen', `unix://${socket}`, ...args], {
    env: { ...process.env, ARCA_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p: PluginProcess = {
    socket,
    child,
    exited,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  if (wait) {
    const c = new KmsTestClient(socket);
    try {
      await waitUntil('kms plugin socket', async () => {
        if (child.exitCode !== null) throw new Error(`kms-plugin exited with ${child.exitCode}: ${out}`);
        return existsSync(socket) ? await c.status() : undefined;
      }, 30_000);
    } finally {
      c.close();
    }
  }
  return p;
}

export interface ConformanceContext {
  socket: string;
  healthIntervalMs: number;
  /** Rotates the plugin's key so that a new key_id appears (transit rotate / next HSM version). */
  rotate(): Promise<void>;
  /** Stops the plugin and starts it again on the same socket with the same settings. */
  restart(): Promise<void>;
}

/** The KMS plugin conformance suite, over the real socket; call inside a describe(). */
export function exerciseKmsPlugin(ctx: () => ConformanceContext): void {
  let c: KmsTestClient;
  const client = () => (c ??= new KmsTestClient(ctx().socket));
  const seed = () => new Uint8Array(randomBytes(32));

  it('creates its socket with mode 0600', () => {
    assert.equal(statSync(ctx().socket).mode & 0o777, 0o600);
  });

  it('Status reports version v2, healthz ok and a non-empty key_id', async () => {
    const st = await waitUntil('healthz ok', async () => {
      const s = await client().status();
      return s.healthz === 'ok' ? s : undefined;
    });
    assert.equal(st.version, 'v2');
    assert.ok(st.key_id.length > 0 && Buffer.byteLength(st.key_id) <= 1024);
  });

  it('round-trips a 32-byte seed; ciphertext ≤ 1024 bytes under the Status key_id, annotations valid', async () => {
    const st = await client().status();
    const s = seed();
    const r = await client().encrypt(s);
    assert.equal(r.key_id, st.key_id);
    assert.ok(r.ciphertext.length > 0 && r.ciphertext.length <= 1024);
    assert.ok(!r.ciphertext.includes(Buffer.from(s)));
    let total = 0;
    for (const [k, v] of Object.entries(r.annotations)) {
      assert.match(k, /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      total += k.length + v.length;
    }
    assert.ok(total <= 32 * 1024);
    assert.deepEqual(await client().decrypt(r.ciphertext, r.key_id, r.annotations), Buffer.from(s));
    // Two encryptions of one seed differ (fresh nonces).
    assert.notDeepEqual((await client().encrypt(s)).ciphertext, r.ciphertext);
  });

  it('reports a new key_id after rotation; ciphertexts of the old key_id still decrypt, also after a restart', async () => {
    const before = await client().status();
    const s1 = seed();
    const old = await client().encrypt(s1);
    await ctx().rotate();
    const after = await waitUntil('new key_id', async () => {
      const s = await client().status();
      return s.key_id !== before.key_id && s.healthz === 'ok' ? s : undefined;
    }, 60_000);
    const s2 = seed();
    const fresh = await client().encrypt(s2);
    assert.equal(fresh.key_id, after.key_id);
    assert.deepEqual(await client().decrypt(old.ciphertext, old.key_id), Buffer.from(s1));
    assert.deepEqual(await client().decrypt(fresh.ciphertext, fresh.key_id), Buffer.from(s2));
    // A restarted plugin has no caches: the old local KEK must come back from the key source.
    client().close();
    c = undefined as unknown as KmsTestClient;
    await ctx().restart();
    assert.deepEqual(await client().decrypt(old.ciphertext, old.key_id), Buffer.from(s1));
    assert.deepEqual(await client().decrypt(fresh.ciphertext, fresh.key_id), Buffer.from(s2));
    assert.equal((await client().status()).key_id, after.key_id);
  });

  it('rejects an unknown key_id with INVALID_ARGUMENT / ERR_KMS_KEY_ID_UNKNOWN', async () => {
    const r = await client().encrypt(seed());
    await rejectsWith(client().decrypt(r.ciphertext, randomUUID()), grpc.status.INVALID_ARGUMENT, 'ERR_KMS_KEY_ID_UNKNOWN');
    // A ciphertext that itself names a key_id the key never had: the source is asked and says no.
    const bogusId = randomUUID();
    const forged = Buffer.concat([encodeHeader(bogusId, Buffer.from('vault:v1:AAAA')), randomBytes(60)]);
    await rejectsWith(client().decrypt(forged, bogusId), grpc.status.INVALID_ARGUMENT, 'ERR_KMS_KEY_ID_UNKNOWN');
  });

  it('rejects tampered and garbage ciphertexts with INVALID_ARGUMENT / ERR_CRYPTO_DECRYPT', async () => {
    const r = await client().encrypt(seed());
    const t = Buffer.from(r.ciphertext);
    t[t.length - 20]! ^= 1;
    await rejectsWith(client().decrypt(t, r.key_id), grpc.status.INVALID_ARGUMENT, 'ERR_CRYPTO_DECRYPT');
    await rejectsWith(client().decrypt(randomBytes(80), r.key_id), grpc.status.INVALID_ARGUMENT, 'ERR_CRYPTO_DECRYPT');
    await rejectsWith(client().decrypt(r.ciphertext.subarray(0, r.ciphertext.length - 1), r.key_id), grpc.status.INVALID_ARGUMENT, 'ERR_CRYPTO_DECRYPT');
  });

  it('rejects oversized input with INVALID_ARGUMENT / ERR_PAYLOAD_TOO_LARGE', async () => {
    await rejectsWith(client().encrypt(randomBytes(4096)), grpc.status.INVALID_ARGUMENT, 'ERR_PAYLOAD_TOO_LARGE');
    await rejectsWith(client().encrypt(new Uint8Array(0)), grpc.status.INVALID_ARGUMENT, 'ERR_PAYLOAD_TOO_LARGE');
    const st = await client().status();
    await rejectsWith(client().decrypt(randomBytes(2048), st.key_id), grpc.status.INVALID_ARGUMENT, 'ERR_PAYLOAD_TOO_LARGE');
    await rejectsWith(client().decrypt(randomBytes(100), 'k'.repeat(2000)), grpc.status.INVALID_ARGUMENT, 'ERR_PAYLOAD_TOO_LARGE');
  });

  it('serves v1beta1: Version, then an Encrypt/Decrypt round trip', async () => {
    const v = await client().call('v1beta1', 'Version', { version: 'v1beta1' });
    assert.equal(v['version'], 'v1beta1');
    assert.ok(String(v['runtime_name']).length > 0);
    const dek = randomBytes(32);
    const enc = await client().call('v1beta1', 'Encrypt', { version: 'v1beta1', plain: dek });
    const dec = await client().call('v1beta1', 'Decrypt', { version: 'v1beta1', cipher: enc['cipher'] });
    assert.deepEqual(dec['plain'], dek);
  });

  after(() => c?.close());
}
