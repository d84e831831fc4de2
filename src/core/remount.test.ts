/**
 * sys/remount through a real core over in-memory storage: the engine at the new path serves the same
 * data, and a move whose new engine cannot start changes nothing (the old path keeps serving).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Engine } from '../engines/index.ts';
import { isArcaError } from '../errors/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { AuthMounts } from './builtin/auth-mounts.ts';
import { createSystemEngine } from './builtin/system.ts';
import { createTokenEngine } from './builtin/token.ts';
import { Core } from './core.ts';
import type { CoreEngineFactory, EngineRegistry } from './engine-registry.ts';
import type { LogicalRequest } from './request.ts';

const silent = pino({ level: 'silent' });

/** A tiny engine over its storage view: `value` read and write. Its factory fails while `failing` is set. */
function notes(state: { failing: boolean; closed: number }): CoreEngineFactory {
  return async (ctx) => {
    if (state.failing) throw new Error('engine start failed');
    const engine: Engine = {
      type: 'notes',
      handle: async (r) => {
        if (r.operation === 'read') return { data: { value: new TextDecoder().decode((await ctx.storage.get('value')) ?? new Uint8Array()) } };
        await ctx.storage.put('value', new TextEncoder().encode(String(r.data['value'])));
        return undefined;
      },
      close: async () => {
        state.closed++;
      },
    };
    return engine;
  };
}

async function server() {
  const state = { failing: false, closed: 0 };
  const engines: EngineRegistry = new Map();
  engines.set('system', (_ctx, _o, core) => createSystemEngine(core, [new AuthMounts(() => core, [])]));
  engines.set('token', (_ctx, _o, core) => createTokenEngine(core));
  engines.set('notes', notes(state));
  const core = new Core({ raw: new InmemStorage(), log: silent, storageType: 'inmem', engines });
  await core.start();
  const init = await core.init({ secretShares: 1, secretThreshold: 1, recoveryShares: 1, recoveryThreshold: 1 });
  await core.submitUnsealKey(init.keys[0]!);
  let n = 0;
  const call = (operation: LogicalRequest['operation'], path: string, data: Record<string, unknown> = {}) =>
    core.handle({ id: `r${n++}`, operation, path, data, clientAddr: '127.0.0.1', token: init.rootToken });
  await core.mount('notes/', 'notes', {}, '');
  await call('write', 'notes/x', { value: 'kept' });
  return { core, call, state };
}

describe('sys/remount in the core', () => {
  it('serves the same data at the new path and closes the old engine', async () => {
    const { core, call, state } = await server();
    await call('write', 'sys/remount', { from: 'notes', to: 'team/notes' });
    assert.equal(((await call('read', 'team/notes/x')).data as { value: string }).value, 'kept');
    await assert.rejects(call('read', 'notes/x'), (e: unknown) => isArcaError(e, 'ERR_NOT_FOUND'));
    assert.equal(state.closed, 1);
    assert.deepEqual(core.mounts.all.map((m) => m.path).filter((p) => p.includes('notes')), ['team/notes/']);
  });

  it('refuses a move whose target was taken around or inside meanwhile (a mount enabled while the new engine started)', async () => {
    const { core } = await server();
    const plan = core.mounts.planMove('notes/', 'team/');
    await core.mounts.add('team/sub/', 'notes');
    assert.equal(await core.mounts.applyMove(plan), false);
    assert.deepEqual(core.mounts.all.map((m) => m.path).filter((p) => p.includes('notes') || p.startsWith('team')), ['notes/', 'team/sub/']);
  });

  it('changes nothing when the engine cannot start at the new path', async () => {
    const { core, call, state } = await server();
    state.failing = true;
    await assert.rejects(call('write', 'sys/remount', { from: 'notes', to: 'team/notes' }), /engine start failed|internal/);
    state.failing = false;
    assert.deepEqual(core.mounts.all.map((m) => m.path).filter((p) => p.includes('notes')), ['notes/'], 'the table still has the old path');
    assert.equal(((await call('read', 'notes/x')).data as { value: string }).value, 'kept', 'the old engine still serves');
    assert.equal(state.closed, 0);
  });
});
