/**
 * Transit benchmarks (issue 4), each a ratio against a baseline measured in the same run:
 *  - transit.encrypt.c1 / transit.encrypt.c16: `POST /v1/transit/encrypt/<key>` with 128 B of
 *    plaintext from `wrk -t1 -c1|-c16` in a separate process (lib/wrk.ts), against the Arca dev server
 *    vs a bare node:http server (child process) that returns the same response body; each figure
 *    prints the generator's ceiling. Goal 0.5.
 *  - transit.hsm-encrypt: the transit engine encrypting 128 B with an `hsm-aes256-gcm96` key (SoftHSM)
 *    vs a bare pkcs11js C_EncryptInit/C_Encrypt (CKM_AES_GCM) loop on the same token. In-process:
 *    pkcs11js calls are synchronous, so concurrency adds nothing. Goal 0.7.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { createTransitEngine } from '../src/engines/transit/index.ts';
import type { Engine } from '../src/engines/types.ts';
import { HsmKeyBackend, SoftwareKeyBackend } from '../src/keys/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { InmemStorage } from '../src/storage/index.ts';
import { createSoftHsmToken, stopChild } from '../test/harness/index.ts';
import { compareHttp } from './lib/http-compare.ts';
import { comparePairs } from './lib/report.ts';
import { api, type Served, startArca, startBare } from './lib/servers.ts';
import type { WrkRequest } from './lib/wrk.ts';

const DURATION_MS = 3000;
const PLAINTEXT_B64 = randomBytes(128).toString('base64');

async function httpEncrypt(): Promise<void> {
  const arca = await startArca();
  let bare: Served | undefined;
  try {
    // Dev servers may not mount transit by default; mounting twice is a harmless 400.
    await api(arca.port, arca.token, 'POST', '/v1/sys/mounts/transit', { type: 'transit' });
    const created = await api(arca.port, arca.token, 'POST', '/v1/transit/keys/bench', {});
    if (created.status >= 300) throw new Error(`cannot create the bench key: ${created.status} ${created.body}`);
    const target: WrkRequest = {
      port: arca.port,
      method: 'POST',
      path: '/v1/transit/encrypt/bench',
      headers: { 'X-Vault-Token': arca.token },
      body: JSON.stringify({ plaintext: PLAINTEXT_B64 }),
    };
    const sample = await api(arca.port, arca.token, 'POST', target.path, { plaintext: PLAINTEXT_B64 });
    if (sample.status !== 200) throw new Error(`encrypt failed: ${sample.status} ${sample.body}`);
    bare = await startBare(sample.body);
    for (const c of [1, 16]) {
      await compareHttp({
        name: `transit.encrypt.c${c}`,
        arca: target,
        bare: { ...target, port: bare.port },
        connections: c,
        arcaPid: arca.child.pid!,
        barePid: bare.child.pid!,
        goal: 0.5,
        extra: { plaintextBytes: 128 },
      });
    }
  } finally {
    if (bare) await stopChild(bare.child);
    await stopChild(arca.child);
  }
}

/**
 * Runs each op in turn for `sliceMs` at a time until each has had `ms` in total; returns each op's
 * operations per second. Slicing spreads any drift in machine speed evenly over all ops.
 */
async function interleaved(ops: (() => Promise<unknown> | unknown)[], ms: number, sliceMs = 100): Promise<number[]> {
  const counts = ops.map(() => 0);
  const spent = ops.map(() => 0);
  for (let round = 0; round * sliceMs < ms; round++) {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < sliceMs) {
        for (let j = 0; j < 20; j++) await op();
        n += 20;
      }
      spent[i]! += performance.now() - t0;
      counts[i]! += n;
    }
  }
  return counts.map((n, i) => n / (spent[i]! / 1000));
}

/** Runs `op` back to back for `ms`; returns operations per second. */
async function loop(op: () => Promise<unknown> | unknown, ms = DURATION_MS): Promise<number> {
  let n = 0;
  const started = performance.now();
  const end = started + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await op();
    n += 50;
  }
  return n / ((performance.now() - started) / 1000);
}

function engineRequest(path: string, data: Record<string, unknown>) {
  return { id: 'bench', operation: 'update' as const, path, mountPoint: 'transit/', data, auth: undefined, clientAddr: '127.0.0.1', can: () => true };
}

/**
 * A bare pkcs11js session on the same token with its own persistent (CKA_TOKEN), non-extractable
 * AES-256 key — the same kind of object a transit HSM version is — and CKM_AES_GCM per call.
 */
function bareGcm(module: string, tokenLabel: string, pin: string): { encrypt: () => Buffer; close: () => void } {
  const p11 = new pkcs11js.PKCS11();
  p11.load(module);
  let ownsInit = true;
  try {
    p11.C_Initialize();
  } catch (err) {
    // The transit backend already initialised the module in this process.
    if (!String(err).includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw err;
    ownsInit = false;
  }
  const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trimEnd() === tokenLabel);
  if (!slot) throw new Error(`token ${tokenLabel} not found`);
  const session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    p11.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (err) {
    if (!String(err).includes('CKR_USER_ALREADY_LOGGED_IN')) throw err;
  }
  const key = p11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_LABEL, value: 'bench-bare-gcm' },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
  ]);
  const plaintext = randomBytes(128);
  return {
    encrypt: () => {
      const parameter: pkcs11js.AesGCM = { type: pkcs11js.CK_PARAMS_AES_GCM, iv: randomBytes(12), aad: Buffer.alloc(0), ivBits: 96, tagBits: 128 };
      p11.C_EncryptInit(session, { mechanism: pkcs11js.CKM_AES_GCM, parameter }, key);
      return p11.C_Encrypt(session, plaintext, Buffer.alloc(plaintext.length + 16));
    },
    close: () => {
      p11.C_DestroyObject(session, key);
      p11.C_CloseSession(session);
      if (ownsInit) p11.C_Finalize();
    },
  };
}

async function hsmEncrypt(): Promise<void> {
  const token = await createSoftHsmToken('arca-bench');
  process.env['SOFTHSM2_CONF'] = token.conf;
  const hsm = await HsmKeyBackend.open({ module: token.module, tokenLabel: token.label, pin: token.pin });
  const bare = bareGcm(token.module, token.label, token.pin);
  try {
    const engine: Engine = createTransitEngine(
      { storage: new InmemStorage(), log: silentLogger(), now: Date.now, isActive: () => true },
      { software: new SoftwareKeyBackend(), hsm },
    );
    await engine.handle(engineRequest('keys/bench', { type: 'hsm-aes256-gcm96' }));
    // The backend alone (no engine), to show where the time goes.
    const ref = await hsm.createVersion(randomUUID());
    const raw = randomBytes(128);
    const backendOnly = () => hsm.encrypt(ref, raw, new Uint8Array(0));
    const req = engineRequest('encrypt/bench', { plaintext: PLAINTEXT_B64 });
    await loop(() => engine.handle(req), 500);
    await loop(bare.encrypt, 500);
    await comparePairs({
      name: 'transit.hsm-encrypt',
      unit: 'ops/s',
      baseline: 'bare-pkcs11js-gcm',
      goal: 0.7,
      // In-process loops on a shared token: noisier than the HTTP pair, so more pairs for the median.
      rounds: 5,
      pair: async () => {
        // Interleaved in short slices: this machine's speed drifts by tens of percent within
        // seconds, which back-to-back 3 s loops turned into ratio noise.
        const [baselineValue = 0, value = 0, backendValue = 0] = await interleaved([bare.encrypt, () => engine.handle(req), backendOnly], DURATION_MS);
        return { value, baselineValue, extra: { plaintextBytes: 128, token: 'softhsm2', hsmKeyBackendOpsPerSec: Math.round(backendValue) } };
      },
    });
  } finally {
    bare.close();
    await hsm.close();
    await token.remove();
  }
}

export default async function transitBench(): Promise<void> {
  await hsmEncrypt();
  // BENCH_ONLY=hsm skips the HTTP figure (it needs a server build).
  if (process.env['BENCH_ONLY'] !== 'hsm') await httpEncrypt();
}
