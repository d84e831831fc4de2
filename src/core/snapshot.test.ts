import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isArcaError } from '../errors/index.ts';
import { encodeSealRecord } from '../seal/index.ts';
import { parseSnapshot, SNAPSHOT_FORMAT } from './snapshot.ts';

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const SEAL = b64(encodeSealRecord({ v: 1, type: 'shamir', initId: 'init-1', createdAt: 0 }));
const valid = (): { format: string; created: string; init_id: string; storage: string; entries: [string, string][] } => ({
  format: SNAPSHOT_FORMAT,
  created: '2026-12-08T00:00:00.000Z',
  init_id: 'init-1',
  storage: 'sqlite',
  entries: [['core/keyring', b64('ring')], ['core/root-key', b64('root')], ['core/seal-config', SEAL], ['sys/token/id/a', b64('t')]],
});
const file = (doc: unknown) => gzipSync(JSON.stringify(doc));

function refused(f: Uint8Array, why: RegExp): void {
  assert.throws(() => parseSnapshot(f), (err: unknown) => {
    assert.ok(isArcaError(err, 'ERR_INVALID_REQUEST'), String(err));
    assert.match(err.message, /^not an Arca snapshot \(/);
    assert.match(err.message, why);
    assert.doesNotMatch(err.message, /secret-value/, 'never quotes what it holds');
    return true;
  });
}

describe('snapshot files', () => {
  it('reads a snapshot: its init id and every entry, decoded', () => {
    const s = parseSnapshot(file(valid()));
    assert.equal(s.initId, 'init-1');
    assert.deepEqual([...s.entries.keys()], ['core/keyring', 'core/root-key', 'core/seal-config', 'sys/token/id/a']);
    assert.equal(Buffer.from(s.entries.get('core/root-key')!).toString(), 'root');
  });

  it('refuses, with a 400 saying why, whatever the store would otherwise choke on later', () => {
    const with_ = (f: (d: ReturnType<typeof valid>) => void) => {
      const d = valid();
      f(d);
      return file(d);
    };
    refused(Buffer.from('secret-value, not gzip'), /not gzip data/);
    refused(gzipSync('secret-value'), /not JSON inside/);
    refused(with_((d) => (d.format = 'vault-raft')), /format is not arca-snapshot\/v1/);
    refused(with_((d) => d.entries.push(['/abs', b64('x')])), /invalid storage key/);
    refused(with_((d) => d.entries.push(['a\u0000b', b64('x')])), /invalid storage key/);
    refused(with_((d) => d.entries.push(['', b64('x')])), /invalid storage key/);
    refused(with_((d) => d.entries.push(['sys/token/id/a', b64('again')])), /appears twice/);
    refused(with_((d) => d.entries.push(['k', 'secret-value!'])), /fields missing or malformed/);
    refused(with_((d) => (d.entries = d.entries.filter(([k]) => k !== 'core/root-key'))), /seal records are missing/);
    refused(with_((d) => (d.entries[2]![1] = b64('{"secret-value":1}'))), /seal configuration is malformed/);
    refused(with_((d) => (d.init_id = 'init-2')), /header and seal configuration disagree/);
  });

  it('refuses a small file that inflates past the bound, without inflating it all', () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
    assert.ok(bomb.length < 64 * 1024);
    assert.throws(() => parseSnapshot(bomb, 1024 * 1024), (err: unknown) => isArcaError(err, 'ERR_INVALID_REQUEST') && /larger than 1 MiB once decompressed/.test(err.message));
  });
});
