/**
 * Which writes may be relaxed (Storage.commit durability): only the token a login issues. A real core
 * on real in-memory storage that records each write's durability; a minimal auth method issues tokens.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { InmemStorage } from '../storage/index.ts';
import type { CommitOps } from '../storage/storage.ts';
import { ROOT_AUTHORIZER } from './authz.ts';
import { Core } from './core.ts';
import type { EngineRegistry } from './engine-registry.ts';
import { AuthMounts } from './builtin/auth-mounts.ts';
import { createSystemEngine } from './builtin/system.ts';
import { createTokenEngine } from './builtin/token.ts';
import type { LogicalRequest } from './request.ts';

/** In-memory storage that remembers, per written key, whether the write that made it was relaxed. */
class RecordingStorage extends InmemStorage {
  writes: { keys: string[]; relaxed: boolean }[] = [];
  override async put(key: string, value: Uint8Array): Promise<void> {
    this.writes.push({ keys: [key], relaxed: false });
    return super.put(key, value);
  }
  override async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined): Promise<boolean> {
    this.writes.push({ keys: [key], relaxed: false });
    return super.putIf(key, value, expected);
  }
  override async delete(key: string): Promise<void> {
    this.writes.push({ keys: [key], relaxed: false });
    return super.delete(key);
  }
  override async commit(ops: CommitOps): Promise<boolean> {
    this.writes.push({ keys: [...(ops.puts ?? []).map(([k]) => k), ...(ops.deletes ?? [])], relaxed: ops.durability === 'relaxed' });
    return super.commit(ops);
  }
}

async function start(numUses: number) {
  const raw = new RecordingStorage();
  const engines: EngineRegistry = new Map();
  engines.set('system', (_ctx, _o, core) => createSystemEngine(core, [new AuthMounts(() => core, ['test-login'])]));
  engines.set('token', (_ctx, _o, core) => createTokenEngine(core));
  engines.set('test-login', () => ({
    type: 'test-login',
    handle: async () => ({ issue: { policies: ['p'], displayName: 'test', ttlSeconds: 600, renewable: true, metadata: {}, orphan: true, numUses } }),
  }));
  // Policies are not under test: every token may do everything.
  const core = new Core({ raw, log: pino({ level: 'silent' }), storageType: 'inmem', engines, authorizer: async () => ROOT_AUTHORIZER });
  await core.start();
  const init = await core.init({ secretShares: 1, secretThreshold: 1, recoveryShares: 1, recoveryThreshold: 1 });
  await core.submitUnsealKey(init.keys[0]!);
  let n = 0;
  const call = (operation: LogicalRequest['operation'], path: string, data: Record<string, unknown>, token: string | undefined) =>
    core.handle({ id: `r${n++}`, operation, path, data, token, clientAddr: '127.0.0.1' });
  await call('write', 'sys/auth/test', { type: 'test-login' }, init.rootToken);
  return { raw, core, call, root: init.rootToken };
}

const tokenKeys = (keys: string[]) => keys.filter((k) => /(^|\/)(id|accessor|parent)\//.test(k));

describe('login token durability', () => {
  it('writes the token a login issues relaxed, and nothing else', async () => {
    const { raw, core, call } = await start(0);
    raw.writes = [];
    const res = await call('write', 'auth/test/login', {}, undefined);
    const token = (res.auth as { client_token: string }).client_token;
    const relaxed = raw.writes.filter((w) => w.relaxed);
    assert.equal(relaxed.length, 1, 'one relaxed commit: the new token');
    assert.equal(tokenKeys(relaxed[0]!.keys).length, 2, 'its entry and accessor index, together');
    raw.writes = [];
    await call('write', 'auth/token/revoke-self', {}, token);
    assert.ok(raw.writes.length > 0, 'the revocation wrote');
    assert.equal(raw.writes.filter((w) => w.relaxed).length, 0, 'a revocation is never relaxed');
    await core.close();
  });

  it('keeps use-count decrements and the last use revocation durable', async () => {
    const { raw, core, call } = await start(2);
    const res = await call('write', 'auth/test/login', {}, undefined);
    const token = (res.auth as { client_token: string }).client_token;
    raw.writes = [];
    await call('read', 'auth/token/lookup-self', {}, token);
    await call('read', 'auth/token/lookup-self', {}, token);
    assert.ok(raw.writes.length >= 2, 'each use wrote');
    assert.equal(raw.writes.filter((w) => w.relaxed).length, 0);
    await core.close();
  });

  it('writes a token made by auth/token/create durably', async () => {
    const { raw, core, call, root } = await start(0);
    raw.writes = [];
    await call('write', 'auth/token/create', { policies: ['p'] }, root);
    assert.ok(raw.writes.some((w) => tokenKeys(w.keys).length > 0), 'the token was written');
    assert.equal(raw.writes.filter((w) => w.relaxed).length, 0);
    await core.close();
  });
});
