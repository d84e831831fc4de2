/**
 * Issue 6, outage tolerance: a non-dev Arca server (SQLite data dir, one Shamir share) behind
 * `arca kms-plugin`. With the server stopped, Status turns unhealthy, Decrypt of ciphertexts the
 * plugin has seen still works, Encrypt and Decrypts that need the server fail with UNAVAILABLE; once
 * the server is back (same port, same data dir, unsealed again), health recovers without restarting
 * the plugin.
 *
 * No step measures time: each waits for a condition with a generous deadline. How soon the plugin
 * notices (the first failed check flips Status; a hung check counts as failed after one interval)
 * is shown without a clock in src/kms-plugin/service.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { encodeHeader } from '../../src/kms-plugin/ciphertext.ts';
import { KmsTestClient, type PluginProcess, rejectsWith, startPlugin, waitUntil } from '../../src/kms-plugin/testing.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { tempDir } from '../harness/index.ts';

const HEALTH_MS = 1000;
/** Generous: a busy 2-core machine may take many intervals; nothing here depends on how long. */
const WAIT_MS = 60_000;

describe('kms-plugin while the Arca server is down', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let plugin: PluginProcess;
  let k: KmsTestClient;
  let unsealKey: string;
  let rootToken: string;
  const seen: { ct: Buffer; keyId: string; seed: Buffer }[] = [];
  let oldKeyId = '';

  async function unseal(s: ArcaProcess): Promise<void> {
    const c = s.client();
    await c.write('sys/unseal', { key: unsealKey });
    c.close();
  }

  before(async () => {
    dir = await tempDir('arca-kms-outage-');
    srv = await startArca({ args: ['--data-dir', join(dir.path, 'data')] });
    const c = srv.client();
    const init = (await c.write('sys/init', { secret_shares: 1, secret_threshold: 1 })).body as { keys: string[]; root_token: string };
    unsealKey = init.keys[0]!;
    rootToken = init.root_token;
    c.close();
    await unseal(srv);
    const rc = srv.client(rootToken);
    const mounts = (await rc.read('sys/mounts')).body;
    if (!('transit/' in mounts) && !('transit/' in ((mounts['data'] as Record<string, unknown>) ?? {}))) {
      await rc.write('sys/mounts/transit', { type: 'transit' });
    }
    await rc.write('transit/keys/kek', {});
    rc.close();
    await writeFile(join(dir.path, 'token'), rootToken, { mode: 0o600 });
    plugin = await startPlugin(join(dir.path, 'kms.sock'), [
      '--key', 'kek', '--addr', srv.addr, '--token-file', join(dir.path, 'token'), '--health-interval', `${HEALTH_MS}ms`,
    ]);
    k = new KmsTestClient(plugin.socket);
  });
  after(async () => {
    k?.close();
    await plugin?.stop();
    await srv?.stop();
    await dir?.remove();
  });

  it('is healthy and has seen ciphertexts under the current and a rotated-away key_id', async () => {
    await waitUntil('healthy', async () => ((await k.status()).healthz === 'ok' ? true : undefined));
    const encryptSeen = async () => {
      const seed = randomBytes(32);
      const r = await k.encrypt(seed);
      assert.deepEqual(await k.decrypt(r.ciphertext, r.key_id), seed);
      seen.push({ ct: r.ciphertext, keyId: r.key_id, seed });
    };
    await encryptSeen();
    oldKeyId = (await k.status()).key_id;
    const rc = srv.client(rootToken);
    await rc.write('transit/keys/kek/rotate', {});
    rc.close();
    await waitUntil('rotation', async () => ((await k.status()).key_id !== oldKeyId ? true : undefined));
    await encryptSeen();
    assert.notEqual(seen[0]!.keyId, seen[1]!.keyId);
  });

  it('reports unhealthy once the server is stopped, with a coded reason', async () => {
    await srv.stop();
    const st = await waitUntil('unhealthy', async () => {
      const s = await k.status();
      return s.healthz !== 'ok' ? s : undefined;
    }, WAIT_MS);
    assert.match(st.healthz, /^ERR_SERVER_UNREACHABLE: /);
    assert.ok(st.healthz.length <= 250);
    assert.ok(st.key_id.length > 0);
  });

  it('still decrypts every ciphertext it has seen', async () => {
    for (const s of seen) assert.deepEqual(await k.decrypt(s.ct, s.keyId), s.seed);
  });

  it('refuses Encrypt with UNAVAILABLE: no new data under a KEK it cannot verify', async () => {
    // The refusal comes from the plugin's own health state (its code), not from a call that timed out.
    await rejectsWith(k.encrypt(randomBytes(32)), grpc.status.UNAVAILABLE, 'ERR_KMS_PLUGIN_UNAVAILABLE');
  });

  it('fails a Decrypt that needs the server with UNAVAILABLE', async () => {
    // A local KEK the plugin has never unwrapped: only the server could open it.
    const forged = Buffer.concat([encodeHeader(oldKeyId, Buffer.from(`vault:v1:${randomBytes(60).toString('base64')}`)), randomBytes(60)]);
    await rejectsWith(k.decrypt(forged, oldKeyId), grpc.status.UNAVAILABLE, 'ERR_SERVER_UNREACHABLE');
  });

  it('recovers when the server returns on the same port and data dir, without a plugin restart', async () => {
    const pid = plugin.child.pid;
    srv = await startArca({ port: srv.port, args: ['--data-dir', join(dir.path, 'data')] });
    // A sealed server is still unhealthy: the first check that reaches it says so.
    await waitUntil('a check against the sealed server', async () => ((await k.status()).healthz.startsWith('ERR_SEALED: ') ? true : undefined), WAIT_MS);
    await unseal(srv);
    const st = await waitUntil('healthy again', async () => {
      const s = await k.status();
      return s.healthz === 'ok' ? s : undefined;
    }, WAIT_MS);
    assert.equal(plugin.child.pid, pid);
    assert.equal(plugin.child.exitCode, null);
    const seed = randomBytes(32);
    const r = await k.encrypt(seed);
    assert.equal(r.key_id, st.key_id);
    assert.deepEqual(await k.decrypt(r.ciphertext, r.key_id), seed);
    for (const s of seen) assert.deepEqual(await k.decrypt(s.ct, s.keyId), s.seed);
  });
});
