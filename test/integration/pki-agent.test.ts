/**
 * The control-plane cert agent (`arca pki control-plane agent`) with a 2-minute TTL: it renews
 * before expiry, etcd (running on the files it wrote) keeps accepting the renewed client
 * certificate, and the reload command ran after the renewal.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { ARCA_BIN } from '../harness/arca.ts';
import { type EtcdTlsHandle, startEtcdTls } from '../harness/etcd-tls.ts';
import { stopChild, tempDir, waitFor } from '../harness/index.ts';
import { execFileP } from '../harness/util.ts';

const ROOT = 'agent-root-token';

describe('control-plane cert agent (2-minute certificates, real etcd)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: RunningServer;
  let agent: ChildProcess | undefined;
  let etcd: EtcdTlsHandle | undefined;
  let agentOut = '';
  const env = () => ({ ...process.env, ARCA_ADDR: srv.address, ARCA_TOKEN: ROOT });
  const serial = (pki: string) => execFileSync('openssl', ['x509', '-in', join(pki, 'apiserver-etcd-client.crt'), '-noout', '-serial'], { encoding: 'utf8' }).trim();
  const reloads = async (f: string) => (await readFile(f, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

  before(async () => {
    dir = await tempDir();
    srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'inmem' }, dev: true }), silentLogger(), dir.path);
    await devBootstrap(srv.core, ROOT);
    await execFileP(ARCA_BIN, ['pki', 'control-plane', 'init'], { env: env() });
  });
  after(async () => {
    if (agent) await stopChild(agent);
    await etcd?.stop();
    await srv?.close();
    await dir?.remove();
  });

  it('renews before expiry, runs the reload command, and etcd accepts the renewed client cert', async () => {
    const pki = join(dir.path, 'pki');
    const reloadFile = join(dir.path, 'reloads');
    agent = spawn(ARCA_BIN, ['pki', 'control-plane', 'agent', '--node', 'cp-1', '--dir', pki, '--ttl', '2m', '--renew-fraction', '0.5',
      '--reload-command', `echo reloaded >> '${reloadFile}'`], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (d: Buffer) => (agentOut += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentOut += d.toString()));
    await waitFor('first issuance and reload', async () => ((await reloads(reloadFile)) >= 1 ? true : undefined), 60_000, 200);
    const first = serial(pki);
    const notAfter = new Date(execFileSync('openssl', ['x509', '-in', join(pki, 'apiserver-etcd-client.crt'), '-noout', '-enddate'], { encoding: 'utf8' }).trim().replace('notAfter=', ''));
    etcd = await startEtcdTls(pki, 'cp-1');
    await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['put', 'k', 'v1']);

    await waitFor('a renewal', async () => ((await reloads(reloadFile)) >= 2 && serial(pki) !== first ? true : undefined), 180_000, 500).catch((err: unknown) => {
      throw new Error(`${String(err)}\nagent output:\n${agentOut}`);
    });
    assert.ok(Date.now() < notAfter.getTime(), 'renewed before the first certificate expired');
    assert.notEqual(serial(pki), first);
    // etcd reads its certificate files per handshake: the renewed client cert works.
    await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['put', 'k', 'v2']);
    assert.equal((await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['get', 'k', '--print-value-only'])).trim(), 'v2');
  });
});
