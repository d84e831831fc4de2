/**
 * sys/generate-root through a real core (barrier, seal manager, token store over in-memory storage),
 * Shamir seal with 3 shares and a threshold of 2: the attempt's status shape, the refusals (each
 * leaving the attempt as it was), and the token a quorum mints, decoded with the OTP and used.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { isArcaError } from '../errors/index.ts';
import { ROOT_KEY_PATH } from '../seal/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { AuthMounts } from './builtin/auth-mounts.ts';
import { createSystemEngine } from './builtin/system.ts';
import { createTokenEngine } from './builtin/token.ts';
import { Core } from './core.ts';
import type { EngineRegistry } from './engine-registry.ts';
import { decodeRootToken, encodeRootToken } from '../crypto/index.ts';
import { ROOT_OTP_LENGTH } from './generate-root.ts';
import type { LogicalRequest, LogicalResponse } from './request.ts';

const silent = pino({ level: 'silent' });

async function server() {
  const engines: EngineRegistry = new Map();
  engines.set('system', (_ctx, _o, core) => createSystemEngine(core, [new AuthMounts(() => core, [])]));
  engines.set('token', (_ctx, _o, core) => createTokenEngine(core));
  const raw = new InmemStorage();
  // A fixed clock: the unseal rate limit's bucket never refills during a test.
  const core = new Core({ raw, log: silent, storageType: 'inmem', engines, now: () => 1_800_000_000_000 });
  await core.start();
  const init = await core.init({ secretShares: 3, secretThreshold: 2, recoveryShares: 1, recoveryThreshold: 1 });
  for (const k of init.keys.slice(0, 2)) await core.submitUnsealKey(k);
  let n = 0;
  const call = (operation: LogicalRequest['operation'], path: string, data: Record<string, unknown> = {}, token?: string) =>
    core.handle({ id: `r${n++}`, operation, path, data, clientAddr: '127.0.0.1', token: token ?? '' });
  return { core, raw, init, call };
}

const body = (r: LogicalResponse) => JSON.parse(Buffer.from(r.raw!.body).toString('utf8')) as Record<string, unknown>;
const refused = (code: string, message: RegExp) => (err: unknown) => isArcaError(err) && err.code === code && message.test(err.message);

describe('root token encoding (Vault: raw base64 of OTP xor token)', () => {
  it('matches a vector computed outside this code, and decodes back', () => {
    // Computed with Python: base64.b64encode(bytes(a ^ b for a, b in zip(token, otp))).rstrip('=')
    const token = 'hvs.AAAAbbbbCCCCddddEEEEffffGGGGhhhh';
    const otp = '0123456789abcdefghijABCDEFGHIJKLMNOP';
    assert.equal(encodeRootToken(token, otp), 'WEdBHXV0d3ZaWwMAICcmJQMMDQ4EBwYBIyAhLg4NDAslJic4');
    assert.equal(decodeRootToken('WEdBHXV0d3ZaWwMAICcmJQMMDQ4EBwYBIyAhLg4NDAslJic4', otp), token);
    assert.throws(() => decodeRootToken('WEdBHXV0', otp), /OTP is 36 characters but the encoded token holds 6/);
    assert.throws(() => decodeRootToken('not base64!', otp), /not base64/);
  });
});

describe('sys/generate-root', () => {
  it('reports no attempt, starts one with a generated OTP, and refuses a second start', async () => {
    const { call } = await server();
    const idle = body(await call('read', 'sys/generate-root/attempt'));
    assert.deepEqual(idle, {
      started: false, nonce: '', progress: 0, required: 2, complete: false, encoded_token: '', encoded_root_token: '', pgp_fingerprint: '', otp: '', otp_length: ROOT_OTP_LENGTH,
    });
    const started = body(await call('write', 'sys/generate-root/attempt', {}));
    assert.equal(started['started'], true);
    assert.match(started['nonce'] as string, /^[0-9a-f-]{36}$/);
    assert.match(started['otp'] as string, /^[A-Za-z0-9]{36}$/);
    const status = body(await call('read', 'sys/generate-root/attempt'));
    assert.equal(status['nonce'], started['nonce']);
    assert.equal(status['otp'], '', 'the OTP is shown once, when the attempt starts');
    await assert.rejects(call('write', 'sys/generate-root/attempt', {}), refused('ERR_INVALID_REQUEST', /already in progress/));
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['nonce'], started['nonce'], 'the refused start changed nothing');
  });

  it('refuses a PGP key and an OTP of the wrong length, starting nothing', async () => {
    const { call } = await server();
    await assert.rejects(call('write', 'sys/generate-root/attempt', { pgp_key: 'mQENBF...' }), refused('ERR_INVALID_REQUEST', /PGP/));
    await assert.rejects(call('write', 'sys/generate-root/attempt', { otp: 'c2hvcnQ=' }), refused('ERR_INVALID_REQUEST', /wrong length: it must be 36/));
    // 36 characters but 72 bytes: it could not pad a 36-byte token (a root token would be minted for nobody).
    await assert.rejects(call('write', 'sys/generate-root/attempt', { otp: 'é'.repeat(36) }), refused('ERR_INVALID_REQUEST', /36 printable ASCII characters/));
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['started'], false);
  });

  it('mints a root token from a quorum of unseal keys, returned only XORed with the OTP', async () => {
    const { call, init } = await server();
    const { nonce, otp } = body(await call('write', 'sys/generate-root/attempt', {})) as { nonce: string; otp: string };
    await assert.rejects(call('write', 'sys/generate-root/update', { key: init.keys[0], nonce: 'another-nonce' }), refused('ERR_INVALID_REQUEST', /incorrect nonce/));
    const first = body(await call('write', 'sys/generate-root/update', { key: init.keys[0], nonce }));
    assert.deepEqual([first['progress'], first['complete'], first['encoded_token']], [1, false, '']);
    await assert.rejects(call('write', 'sys/generate-root/update', { key: init.keys[0], nonce }), refused('ERR_INVALID_REQUEST', /already been provided/));
    const foreign = (await server()).init.keys[0];
    await assert.rejects(call('write', 'sys/generate-root/update', { key: foreign, nonce }), refused('ERR_SEAL_SHARE_UNKNOWN', /root generation progress is unchanged/));
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['progress'], 1, 'refused keys changed nothing');

    const done = await call('write', 'sys/generate-root/update', { key: init.keysBase64[2], nonce });
    const last = body(done);
    assert.deepEqual([last['complete'], last['progress'], last['required']], [true, 2, 2]);
    assert.equal(last['encoded_root_token'], last['encoded_token']);
    const token = decodeRootToken(last['encoded_token'] as string, otp);
    assert.match(token, /^hvs\./);
    assert.equal(JSON.stringify(last).includes(token), false, 'the token itself is not in the answer');
    assert.equal(JSON.stringify(done.data).includes(last['encoded_token'] as string), false, 'nor the encoded token in what is audited');
    const self = await call('read', 'auth/token/lookup-self', {}, token);
    assert.deepEqual((self.data as { policies: string[] }).policies, ['root']);
    assert.equal((self.data as { accessor: string }).accessor, (done.data as { root_token_accessor: string }).root_token_accessor);
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['started'], false, 'the attempt is over');
    await assert.rejects(call('write', 'sys/generate-root/update', { key: init.keys[1], nonce }), refused('ERR_INVALID_REQUEST', /no root generation in progress/));
  });

  it('is cancelled by DELETE and by a seal, and answers sealed while sealed', async () => {
    const { core, call, init } = await server();
    const { nonce } = body(await call('write', 'sys/generate-root/attempt', {})) as { nonce: string };
    await call('write', 'sys/generate-root/update', { key: init.keys[0], nonce });
    assert.equal((await call('delete', 'sys/generate-root/attempt')).status, 204);
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['started'], false);

    await call('write', 'sys/generate-root/attempt', {});
    await core.sealNow();
    await assert.rejects(call('read', 'sys/generate-root/attempt'), refused('ERR_SEALED', /sealed/));
    for (const k of init.keys.slice(1)) await core.submitUnsealKey(k);
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['started'], false, 'sealing ended the attempt');
  });

  it('ends the attempt when the combined keys do not open the stored root key', async () => {
    const { raw, call, init } = await server();
    // Storage altered behind the server's back: the shares still match their fingerprints.
    const blob = (await raw.get(ROOT_KEY_PATH))!;
    blob[blob.length - 1]! ^= 1;
    await raw.put(ROOT_KEY_PATH, blob);
    const { nonce } = body(await call('write', 'sys/generate-root/attempt', {})) as { nonce: string };
    await call('write', 'sys/generate-root/update', { key: init.keys[0], nonce });
    await assert.rejects(call('write', 'sys/generate-root/update', { key: init.keys[1], nonce }), refused('ERR_SEAL_UNSEAL_FAILED', /verification failed/));
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['started'], false);
    assert.deepEqual(((await call('list', 'auth/token/accessors', {}, init.rootToken)).data as { keys: string[] }).keys.length, 1, 'no token was minted');
  });

  it("counts refused keys toward the caller's unseal rate limit", async () => {
    const { call, init } = await server();
    const { nonce } = body(await call('write', 'sys/generate-root/attempt', {})) as { nonce: string };
    const foreign = (await server()).init.keys;
    for (let i = 0; i < 10; i++) {
      await assert.rejects(call('write', 'sys/generate-root/update', { key: foreign[i % 3], nonce }), refused('ERR_SEAL_SHARE_UNKNOWN', /not one of the unseal keys/));
    }
    await assert.rejects(call('write', 'sys/generate-root/update', { key: init.keys[0], nonce }), refused('ERR_RATE_LIMITED', /too many failed/));
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['progress'], 0, 'the limited key was not taken');
  });

  it('needs no token, and a bad key body gets a clear 400', async () => {
    const { call } = await server();
    const { nonce } = body(await call('write', 'sys/generate-root/attempt', {})) as { nonce: string };
    await assert.rejects(call('write', 'sys/generate-root/update', { nonce }), refused('ERR_INVALID_REQUEST', /'key' must be specified/));
    await assert.rejects(call('write', 'sys/generate-root/update', { key: 'zz', nonce }), refused('ERR_SEAL_SHARE_MALFORMED', /not a valid unseal key/));
    assert.equal(body(await call('read', 'sys/generate-root/attempt'))['progress'], 0);
  });
});
