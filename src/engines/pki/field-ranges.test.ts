/**
 * Every number and duration field of the pki engine and the cert auth method, fed values outside
 * its range: a 400 (ERR_FIELD_OUT_OF_RANGE, or ERR_INVALID_REQUEST / ERR_PKI_KEY_TYPE when it is
 * not a number at all or not a size Arca signs with) whose message does not quote the value, and
 * nothing written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../../errors/index.ts';
import { silentLogger } from '../../log/index.ts';
import { InmemStorage } from '../../storage/index.ts';
import { createCertAuthEngine } from '../auth-cert/index.ts';
import type { Engine, Operation } from '../types.ts';
import { createPkiEngine } from './index.ts';

const BAD_DURATIONS: unknown[] = [1e20, '99999999999h', '106752d', -1, '-1s', 'soon', '1h 30m', {}, true];
const BAD_INTS: unknown[] = [-2, 1e20, '1e20', 'abc', 1.5, '0x10', {}];

function make(): { engine: Engine; storage: InmemStorage; certAuth: Engine } {
  const storage = new InmemStorage();
  const ctx = { storage, log: silentLogger(), now: Date.now, isActive: () => true };
  return { engine: createPkiEngine(ctx), storage, certAuth: createCertAuthEngine({ ...ctx, storage: new InmemStorage() }) };
}

const call = (e: Engine, op: Operation, path: string, data: Record<string, unknown>, mountPoint = 'pki/') =>
  e.handle({ id: 'r', operation: op, path, mountPoint, data, auth: undefined, clientAddr: '127.0.0.1', can: () => true });

async function refused(p: Promise<unknown>, field: string, v: unknown) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isArcaError(err, 'ERR_FIELD_OUT_OF_RANGE') || isArcaError(err, 'ERR_INVALID_REQUEST') || isArcaError(err, 'ERR_PKI_KEY_TYPE'), `${field}=${String(v)}: ${String(err)}`);
    assert.ok(!err.message.includes(String(v)) || String(v).length < 3, `${field}: message quotes the value`);
    return true;
  }, `${field}=${JSON.stringify(v)} was accepted`);
}

async function keysOf(s: InmemStorage): Promise<string[]> {
  const out: string[] = [];
  const walk = async (prefix: string) => {
    for (const k of await s.list(prefix)) {
      if (k.endsWith('/')) await walk(prefix + k);
      else out.push(prefix + k);
    }
  };
  await walk('');
  return out.sort();
}

describe('pki field ranges', () => {
  it('refuses out-of-range durations and integers everywhere, writing nothing', async () => {
    const { engine, storage, certAuth } = make();
    await call(engine, 'update', 'root/generate/internal', { common_name: 'ca', key_type: 'ec' });
    await call(engine, 'update', 'roles/ok', { allow_any_name: true, key_type: 'ec' });
    const before = await keysOf(storage);
    const cases: [string, string, (v: unknown) => Record<string, unknown>, unknown[]][] = [
      ['roles/r', 'ttl', (v) => ({ ttl: v }), BAD_DURATIONS],
      ['roles/r', 'max_ttl', (v) => ({ max_ttl: v }), BAD_DURATIONS],
      ['roles/r', 'not_before_duration', (v) => ({ not_before_duration: v }), [...BAD_DURATIONS, '25h']],
      ['roles/r', 'key_bits', (v) => ({ key_type: 'ec', key_bits: v }), [...BAD_INTS, 8193, 1024]],
      ['issue/ok', 'ttl', (v) => ({ common_name: 'x', ttl: v }), BAD_DURATIONS],
      ['root/sign-intermediate', 'ttl', (v) => ({ csr: 'x', ttl: v }), BAD_DURATIONS],
      ['root/sign-intermediate', 'max_path_length', (v) => ({ csr: 'x', max_path_length: v }), [...BAD_INTS, 17]],
      ['tidy', 'safety_buffer', (v) => ({ tidy_cert_store: true, safety_buffer: v }), BAD_DURATIONS],
    ];
    for (const [path, field, body, values] of cases) {
      for (const v of values) await refused(call(engine, 'update', path, body(v)), field, v);
    }
    assert.deepEqual(await keysOf(storage), before);
    for (const field of ['token_ttl', 'token_max_ttl', 'ttl', 'max_ttl']) {
      for (const v of BAD_DURATIONS) await refused(call(certAuth, 'update', 'certs/r', { certificate: 'x', [field]: v }, 'auth/cert/'), field, v);
    }
  });
});
