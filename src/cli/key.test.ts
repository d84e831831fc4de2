import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ArcaProcess } from '../../test/harness/arca.ts';
import { cliDevServer, runArca } from './testing.ts';

describe('arca key / encrypt / decrypt (CLI against a dev server)', () => {
  let srv: ArcaProcess;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    ({ srv, env } = await cliDevServer());
  });
  after(() => srv.stop());

  const arca = (args: string[], input?: string | Buffer) => runArca(env, args, input);

  it('creates, lists, shows and rotates keys', async () => {
    assert.equal((await arca(['key', 'list'])).out, '');
    assert.equal((await arca(['key', 'create', 'orders', '-o', 'json'])).code, 0);
    await arca(['key', 'create', 'billing']);
    assert.equal((await arca(['key', 'list'])).out, 'billing\norders\n');
    const rotated = JSON.parse((await arca(['key', 'rotate', 'orders', '-o', 'json'])).out) as { latest_version: number };
    assert.equal(rotated.latest_version, 2);
    const shown = await arca(['key', 'show', 'orders']);
    assert.equal(shown.code, 0);
    assert.match(shown.out, /Version\s+Created\s+Version ID/);
    assert.match(shown.out, /^2\s+\d{4}-\d\d-\d\dT\S+\s+[0-9a-f-]{36}$/m);
  });

  it('encrypts stdin and decrypts back to the same bytes, binary included', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 0x80]);
    const enc = await arca(['encrypt', '--key', 'files'], bytes);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.out, /^vault:v1:[A-Za-z0-9+/=]+\n$/);
    const dec = await arca(['decrypt', '--key', 'files'], enc.out);
    assert.equal(dec.code, 0, dec.stderr);
    assert.deepEqual(dec.stdout, bytes);
  });

  it('passes a context for derived keys', async () => {
    await arca(['key', 'create', 'tenants', '--derived']);
    const enc = await arca(['encrypt', '--key', 'tenants', '--context', 'tenant-a'], 'hello');
    assert.equal((await arca(['decrypt', '--key', 'tenants', '--context', 'tenant-a'], enc.out)).out, 'hello');
    const wrong = await arca(['decrypt', '--key', 'tenants', '--context', 'tenant-b'], enc.out);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /ERR_CRYPTO_DECRYPT/);
  });

  it('configures and deletes keys, with usage errors exiting 1 and server errors 2', async () => {
    await arca(['key', 'create', 'temp']);
    const refused = await arca(['key', 'delete', 'temp']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ERR_TRANSIT_DELETION_DISALLOWED/);
    assert.equal((await arca(['key', 'config', 'temp', '--deletion-allowed', 'true'])).code, 0);
    assert.equal((await arca(['key', 'delete', 'temp'])).code, 0);
    assert.equal((await arca(['key', 'config', 'temp'])).code, 1);
    assert.equal((await arca(['key', 'config', 'orders', '--min-decryption-version', 'x'])).code, 1);
    // A missing key is a runtime answer (exit 2, ERR_NOT_FOUND) like every other not-found.
    const gone = await arca(['key', 'show', 'temp']);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /ERR_NOT_FOUND: no key named temp/);
  });

  it('honours -o json and -o yaml for encrypt and decrypt', async () => {
    await arca(['key', 'create', 'formats']);
    const enc = await arca(['encrypt', '--key', 'formats', '-o', 'json'], 'hello');
    assert.equal(enc.code, 0, enc.stderr);
    const e = JSON.parse(enc.out) as { ciphertext: string; key_version: number };
    assert.match(e.ciphertext, /^vault:v1:/);
    assert.equal(e.key_version, 1);
    const dec = await arca(['decrypt', '--key', 'formats', '-o', 'json'], e.ciphertext);
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(Buffer.from((JSON.parse(dec.out) as { plaintext: string }).plaintext, 'base64').toString(), 'hello');
    const yaml = await arca(['encrypt', '--key', 'formats', '-o', 'yaml'], 'hello');
    assert.match(yaml.out, /^ciphertext: vault:v1:/m);
  });
});
