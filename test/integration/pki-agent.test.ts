/**
 * The control-plane cert agent (`arca pki control-plane agent`) with a 2-minute TTL: it renews
 * before expiry, etcd (running on the files it wrote) keeps accepting the renewed client
 * certificate, and the reload command ran after the renewal.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { x509 } from '../../src/engines/pki/x509-lib.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { ARCA_BIN } from '../harness/arca.ts';
import { type EtcdTlsHandle, startEtcdTls } from '../harness/etcd-tls.ts';
import { stopChild, tempDir, waitFor } from '../harness/index.ts';
import { execFileP } from '../harness/util.ts';

const ROOT = 'agent-root-token';
/** The agent's --ttl. */
const TTL_MS = 2 * 60_000;
/**
 * When Arca issued `c`: Arca sets NotAfter to issuance + the requested TTL. NotBefore cannot tell,
 * as the control-plane roles backdate it by 5 minutes (not_before_duration), more than the TTL.
 */
const issuedAt = (c: x509.X509Certificate) => c.notAfter.getTime() - TTL_MS;

describe('control-plane cert agent (2-minute certificates, real etcd)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: RunningServer;
  let agent: ChildProcess | undefined;
  let etcd: EtcdTlsHandle | undefined;
  let agentOut = '';
  const env = () => ({ ...process.env, ARCA_ADDR: srv.address, ARCA_TOKEN: ROOT });
  /** The etcd client certificate on disk, read once (serial and dates from the same file). */
  const clientCert = async (pki: string) => new x509.X509Certificate(await readFile(join(pki, 'apiserver-etcd-client.crt'), 'utf8'));
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
    agent = spawn(ARCA_BIN, ['pki', 'control-plane', 'agent', '--node', 'cp-1', '--dir', pki, '--ttl', `${TTL_MS / 60_000}m`, '--renew-fraction', '0.5',
      '--reload-command', `echo reloaded >> '${reloadFile}'`], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (d: Buffer) => (agentOut += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (agentOut += d.toString()));
    await waitFor('first issuance and reload', async () => ((await reloads(reloadFile)) >= 1 ? true : undefined), 60_000, 200);
    const first = await clientCert(pki);
    etcd = await startEtcdTls(pki, 'cp-1');
    await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['put', 'k', 'v1']);

    const renewed = await waitFor('a renewal', async () => {
      if ((await reloads(reloadFile)) < 2) return undefined;
      const c = await clientCert(pki);
      return c.serialNumber !== first.serialNumber ? c : undefined;
    }, 180_000, 500).catch((err: unknown) => {
      throw new Error(`${String(err)}\nagent output:\n${agentOut}`);
    });
    assert.notEqual(renewed.serialNumber, first.serialNumber);
    // Renewed before expiry, read off the certificates (not off when this test got to look): the
    // renewal was issued after the first certificate and before that one's NotAfter.
    const at = (ms: number) => new Date(ms).toISOString();
    assert.ok(issuedAt(renewed) > issuedAt(first), `renewal issued at ${at(issuedAt(renewed))}, not after the first certificate (${at(issuedAt(first))})`);
    assert.ok(issuedAt(renewed) < first.notAfter.getTime(), `renewal issued at ${at(issuedAt(renewed))}, after the first certificate expired (${first.notAfter.toISOString()})`);
    // etcd reads its certificate files per handshake: the renewed client cert works.
    await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['put', 'k', 'v2']);
    assert.equal((await etcd.ctl('apiserver-etcd-client.crt', 'apiserver-etcd-client.key', ['get', 'k', '--print-value-only'])).trim(), 'v2');
  });
});
