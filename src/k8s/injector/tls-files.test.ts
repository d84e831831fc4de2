import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCerts } from './certs.ts';
import { loadTlsPair, watchTlsPair } from './tls-files.ts';

describe('serving certificate files', () => {
  let dir: string;
  const cert = () => join(dir, 'tls.crt');
  const key = () => join(dir, 'tls.key');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arca-tls-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps the pair in service while the files do not match, and takes the new pair once they do', async () => {
    const a = await createCerts({ service: 'arca-injector', namespace: 'arca-system', days: 1 });
    const b = await createCerts({ service: 'arca-injector', namespace: 'arca-system', days: 1 });
    await writeFile(cert(), a.certPem);
    await writeFile(key(), a.keyPem);
    const first = loadTlsPair(cert(), key());
    const taken: string[] = [];
    const errors: string[] = [];
    const w = watchTlsPair(cert(), key(), first, (p) => taken.push(p.cert.toString()), (e) => errors.push((e as { code: string }).code), 3_600_000);
    try {
      assert.equal(w.check(), false, 'unchanged files: nothing to do');
      await writeFile(cert(), b.certPem); // mid-rotation: new cert, old key
      assert.equal(w.check(), false);
      assert.deepEqual(errors, ['ERR_CONFIG_INVALID']);
      assert.deepEqual(taken, []);
      await writeFile(key(), b.keyPem);
      assert.equal(w.check(), true);
      assert.deepEqual(taken, [b.certPem]);
    } finally {
      w.close();
    }
  });

  it('names the problem without quoting file contents', async () => {
    await writeFile(cert(), 'not a certificate');
    assert.throws(() => loadTlsPair(cert(), key()), (e: { code: string; message: string }) => e.code === 'ERR_CONFIG_INVALID' && !e.message.includes('not a certificate'));
    assert.throws(() => loadTlsPair(join(dir, 'missing.crt'), key()), { code: 'ERR_CONFIG_READ' });
  });
});
