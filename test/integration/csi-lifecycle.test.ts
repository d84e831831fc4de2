/**
 * Issue 17, process lifecycle of `arca csi-provider`: a stale socket left by a killed provider is
 * replaced, a live one is not stolen, and SIGTERM stops it cleanly and removes the socket.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CsiTestClient, startCsiProvider } from '../../src/k8s/csi/testing.ts';
import { tempDir } from '../harness/index.ts';

describe('arca csi-provider lifecycle', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let sock: string;
  before(async () => {
    dir = await tempDir('arca-csi-life-');
    sock = join(dir.path, 'arca.sock');
  });
  after(async () => {
    await dir?.remove();
  });

  it('replaces a stale socket left by a killed provider, refuses to steal a live one, and stops on SIGTERM', async () => {
    const first = await startCsiProvider({ socketPath: sock, arcaAddr: 'http://127.0.0.1:9' });
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(lstatSync(sock).isSocket(), 'a killed provider leaves its socket file behind');

    const second = await startCsiProvider({ socketPath: sock, arcaAddr: 'http://127.0.0.1:9' });
    const c = new CsiTestClient(sock);
    try {
      assert.equal((await c.version()).version, 'v1alpha1');
      // A third provider on the same, live socket must not take it over.
      await assert.rejects(startCsiProvider({ socketPath: sock, arcaAddr: 'http://127.0.0.1:9' }), /another process is serving/);
      assert.equal((await c.version()).version, 'v1alpha1', 'the live provider keeps serving');
    } finally {
      c.close();
    }
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    assert.equal(existsSync(sock), false, 'the socket is removed on SIGTERM');
    assert.match(second.output(), /csi provider stopped/);
  });

  it('refuses an endpoint that is not unix:///absolute/path with a usage error', async () => {
    await assert.rejects(startCsiProvider({ socketPath: 'relative.sock' }), /exited with 1/);
  });
});
