/**
 * sys/rekey through a real core (barrier, seal manager, token store over in-memory storage), Shamir
 * seal with 3 shares and a threshold of 2: the status shape, the refusals (each starting or changing
 * nothing), new shares that unseal while the old ones no longer do, the conditional write, and a
 * second replica on the same storage that learns the new record when a new key is given to it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { HTTP_STATUS, isArcaError } from '../errors/index.ts';
import { encodeSealRecord, readSealRecord, ROOT_KEY_PATH, SEAL_CONFIG_PATH } from '../seal/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { AuthMounts } from './builtin/auth-mounts.ts';
import { createSystemEngine } from './builtin/system.ts';
import { createTokenEngine } from './builtin/token.ts';
import { Core } from './core.ts';
import type { EngineRegistry } from './engine-registry.ts';
import type { LogicalRequest, LogicalResponse } from './request.ts';

const silent = pino({ level: 'silent' });

function core(raw: InmemStorage): Core {
  const engines: EngineRegistry = new Map();
  engines.set('system', (_ctx, _o, c) => createSystemEngine(c, [new AuthMounts(() => c, [])]));
  engines.set('token', (_ctx, _o, c) => createTokenEngine(c));
  // A fixed clock: the unseal rate limit's bucket never refills during a test.
  return new Core({ raw, log: silent, storageType: 'inmem', engines, now: () => 1_800_000_000_000 });
}

async function server() {
  const raw = new InmemStorage();
  const c = core(raw);
  await c.start();
  const init = await c.init({ secretShares: 3, secretThreshold: 2, recoveryShares: 1, recoveryThreshold: 1 });
  for (const k of init.keys.slice(0, 2)) await c.submitUnsealKey(k);
  let n = 0;
  const call = (operation: LogicalRequest['operation'], path: string, data: Record<string, unknown> = {}) =>
    c.handle({ id: `r${n++}`, operation, path, data, clientAddr: '127.0.0.1', token: '' });
  return { core: c, raw, init, call };
}

const body = (r: LogicalResponse) => JSON.parse(Buffer.from(r.raw!.body).toString('utf8')) as Record<string, unknown>;
const refused = (code: string, message: RegExp) => (err: unknown) => isArcaError(err) && err.code === code && message.test(err.message);

async function rekey(call: Awaited<ReturnType<typeof server>>['call'], keys: string[], shares = 5, threshold = 3) {
  const { nonce } = body(await call('write', 'sys/rekey/init', { secret_shares: shares, secret_threshold: threshold })) as { nonce: string };
  let last: Record<string, unknown> = {};
  for (const key of keys) last = body(await call('write', 'sys/rekey/update', { key, nonce }));
  return last as { complete?: boolean; keys: string[]; keys_base64: string[]; progress?: number };
}

describe('sys/rekey', () => {
  it("answers Vault's status shape, and refuses what it does not offer, starting nothing", async () => {
    const { call } = await server();
    const idle = { nonce: '', started: false, t: 0, n: 0, progress: 0, required: 2, pgp_fingerprints: null, backup: false, verification_required: false };
    assert.deepEqual(body(await call('read', 'sys/rekey/init')), idle);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ secret_shares: 5, secret_threshold: 3, pgp_keys: ['mQENBF'] }, /PGP/],
      [{ secret_shares: 5, secret_threshold: 3, backup: true }, /backup/],
      [{ secret_shares: 5, secret_threshold: 3, require_verification: true }, /verification is not supported/],
      [{ secret_shares: 0, secret_threshold: 0 }, /secret_shares must be 1\.\.255/],
      [{ secret_shares: 256, secret_threshold: 3 }, /secret_shares must be 1\.\.255/],
      [{ secret_shares: 3, secret_threshold: 4 }, /secret_threshold 1\.\.secret_shares/],
      [{ secret_shares: 3, secret_threshold: 1 }, /at least 2/],
      [{ secret_threshold: 2 }, /secret_shares/],
    ];
    for (const [data, message] of bad) {
      await assert.rejects(call('write', 'sys/rekey/init', data), (err: unknown) => isArcaError(err) && HTTP_STATUS[err.code] === 400 && message.test(err.message), JSON.stringify(data));
    }
    assert.deepEqual(body(await call('read', 'sys/rekey/init')), idle, 'no refused start began an attempt');
    // The Go SDK's init body: stored_shares 0, no PGP.
    const started = body(await call('write', 'sys/rekey/init', { secret_shares: 5, secret_threshold: 3, stored_shares: 0, pgp_keys: null, backup: false, require_verification: false }));
    assert.deepEqual({ ...started, nonce: '' }, { ...idle, started: true, t: 3, n: 5 });
    await assert.rejects(call('write', 'sys/rekey/init', { secret_shares: 5, secret_threshold: 3 }), refused('ERR_INVALID_REQUEST', /rekey already in progress/));
    await assert.rejects(call('read', 'sys/rekey-recovery-key/init'), refused('ERR_INVALID_REQUEST', /only with the HSM seal/));
  });

  it('replaces the unseal keys: the new ones unseal, the old ones no longer do, the data stays', async () => {
    const { core: c, raw, init, call } = await server();
    const rootBefore = await raw.get(ROOT_KEY_PATH);
    const progress = await rekey(call, [init.keys[2]!]);
    assert.equal(progress.progress, 1);
    assert.equal(progress.complete, undefined);
    const { nonce } = body(await call('read', 'sys/rekey/init')) as { nonce: string };
    const done = body(await call('write', 'sys/rekey/update', { key: init.keysBase64[0], nonce })) as { complete: boolean; keys: string[]; keys_base64: string[] };
    assert.equal(done.complete, true);
    assert.equal(done.keys.length, 5);
    assert.deepEqual(done.keys.map((k) => Buffer.from(k, 'hex').toString('base64')), done.keys_base64);
    assert.equal(done.keys.some((k) => init.keys.includes(k)), false, 'all new shares');
    assert.notDeepEqual(await raw.get(ROOT_KEY_PATH), rootBefore, 'the root key is wrapped anew');
    assert.equal((await readSealRecord(raw))!.unseal!.threshold, 3);
    assert.equal(body(await call('read', 'sys/rekey/init'))['started'], false);

    await c.sealNow();
    await assert.rejects(c.submitUnsealKey(init.keys[0]!), refused('ERR_SEAL_SHARE_UNKNOWN', /not one of the unseal keys/));
    assert.equal(await c.submitUnsealKey(done.keys[4]!), false);
    assert.equal(await c.submitUnsealKey(done.keys[1]!), false);
    assert.equal(await c.submitUnsealKey(done.keys_base64[3]!), true);
    const self = await c.handle({ id: 'x', operation: 'read', path: 'auth/token/lookup-self', data: {}, clientAddr: '127.0.0.1', token: init.rootToken });
    assert.deepEqual((self.data as { policies: string[] }).policies, ['root'], 'the root token from init still works: the data is untouched');
  });

  it('refuses a key share from another server, and a record changed meanwhile, writing nothing', async () => {
    const { raw, init, call } = await server();
    const { nonce } = body(await call('write', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1 })) as { nonce: string };
    const foreign = (await server()).init.keys[0];
    await assert.rejects(call('write', 'sys/rekey/update', { key: foreign, nonce }), refused('ERR_SEAL_SHARE_UNKNOWN', /rekey progress is unchanged/));
    await call('write', 'sys/rekey/update', { key: init.keys[0], nonce });
    // Another replica rewrote the seal record (a rekey of its own) after this attempt checked its shares.
    const other = { ...(await readSealRecord(raw))!, createdAt: 1 };
    await raw.put(SEAL_CONFIG_PATH, encodeSealRecord(other));
    const rootBefore = await raw.get(ROOT_KEY_PATH);
    await assert.rejects(call('write', 'sys/rekey/update', { key: init.keys[1], nonce }), refused('ERR_STORAGE_CONFLICT', /nothing was changed/));
    assert.deepEqual(await raw.get(ROOT_KEY_PATH), rootBefore);
    assert.deepEqual(await readSealRecord(raw), other);
  });

  it('ends a root generation in progress: its shares were of the old set', async () => {
    const { init, call } = await server();
    const gen = body(await call('write', 'sys/generate-root/attempt', {})) as { nonce: string };
    await call('write', 'sys/generate-root/update', { key: init.keys[0], nonce: gen.nonce });
    assert.equal((await rekey(call, init.keys.slice(1, 3), 2, 2)).complete, true);
    await assert.rejects(call('write', 'sys/generate-root/update', { key: init.keys[1], nonce: gen.nonce }), refused('ERR_INVALID_REQUEST', /no root generation in progress/));
  });

  it('a replica taking over reads the new record: old shares are refused there, the new ones generate root', async () => {
    const { raw, init, call } = await server();
    const other = core(raw);
    await other.start();
    for (const k of init.keys.slice(0, 2)) await other.submitUnsealKey(k);
    const done = await rekey(call, init.keys.slice(0, 2), 2, 2);
    await other.becomeActive();
    let n = 0;
    const callOther = (operation: LogicalRequest['operation'], path: string, data: Record<string, unknown> = {}) =>
      other.handle({ id: `o${n++}`, operation, path, data, clientAddr: '127.0.0.2', token: '' });
    const { nonce } = body(await callOther('write', 'sys/generate-root/attempt', {})) as { nonce: string };
    await assert.rejects(callOther('write', 'sys/generate-root/update', { key: init.keys[0], nonce }), refused('ERR_SEAL_SHARE_UNKNOWN', /not one of the unseal keys/));
    await callOther('write', 'sys/generate-root/update', { key: done.keys[0], nonce });
    assert.equal(body(await callOther('write', 'sys/generate-root/update', { key: done.keys[1], nonce }))['complete'], true);
  });

  it('takes one share at a time: of two sent together at the threshold, the second finds the rekey over', async () => {
    const { init, call } = await server();
    const { nonce } = body(await call('write', 'sys/rekey/init', { secret_shares: 1, secret_threshold: 1 })) as { nonce: string };
    await call('write', 'sys/rekey/update', { key: init.keys[0], nonce });
    const [a, b] = await Promise.allSettled([call('write', 'sys/rekey/update', { key: init.keys[1], nonce }), call('write', 'sys/rekey/update', { key: init.keys[2], nonce })]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(body((a as PromiseFulfilledResult<LogicalResponse>).value)['complete'], true);
    assert.equal(b.status, 'rejected');
    assert.match(String((b as PromiseRejectedResult).reason.message), /no rekey in progress/);
  });

  it('a replica that read the old record unseals with the new keys, reading the record again', async () => {
    const { raw, init, call } = await server();
    const standby = core(raw);
    await standby.start();
    assert.equal(standby.state, 'sealed');
    const done = await rekey(call, init.keys.slice(0, 2), 2, 2);
    assert.equal(done.complete, true);
    assert.equal(await standby.submitUnsealKey(done.keys[0]!), false, 'a new key is taken once the record is read again');
    assert.equal(await standby.submitUnsealKey(done.keys[1]!), true);
    assert.equal(standby.state, 'unsealed');
  });
});
