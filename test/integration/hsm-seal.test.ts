/**
 * Issue 2: HSM auto-unseal with SoftHSM2 — a restart unseals by itself; with the HSM key gone,
 * startup fails with a clear coded error and the data is intact once the key is back.
 */
import assert from 'node:assert/strict';
import { cp, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { createSoftHsmToken, execFileP, type PostgresHandle, type SoftHsmToken, startPostgres, tempDir, waitFor } from '../harness/index.ts';

describe('PKCS#11 auto-unseal (SoftHSM2)', () => {
  let hsm: SoftHsmToken;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess | undefined;
  let rootToken: string;
  let recoveryKeys: string[];
  const config = () => ({
    dataDir: dir.path,
    seal: { type: 'pkcs11', module: hsm.module, tokenLabel: hsm.label, pinFile: `${hsm.dir}/pin`, keyLabel: 'arca-root-wrap' },
  });
  const start = (wait = true) => startArca({ config: config(), configDir: dir.path, env: hsm.env, wait });

  before(async () => {
    hsm = await createSoftHsmToken('arca-seal');
    dir = await tempDir();
    await execFileP('sh', ['-c', `printf '%s\\n' '${hsm.pin}' > '${hsm.dir}/pin'`]);
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
    await hsm?.remove();
  });

  it('initializes with recovery shares and is unsealed at once', async () => {
    srv = await start();
    const c = srv.client();
    const st = (await c.read('sys/seal-status')).body;
    assert.equal(st['type'], 'pkcs11');
    assert.equal(st['recovery_seal'], true);
    const init = (await c.write('sys/init', { recovery_shares: 3, recovery_threshold: 2 })).body as Record<string, unknown>;
    assert.deepEqual(init['keys'], []);
    assert.equal((init['recovery_keys'] as string[]).length, 3);
    rootToken = init['root_token'] as string;
    recoveryKeys = init['recovery_keys'] as string[];
    assert.equal((await c.read('sys/seal-status')).body['sealed'], false);
    await srv.client(rootToken).write('secret/data/hsm', { data: { v: 'kept-through-hsm-outage' } });
  });

  it('generates a root token from a quorum of recovery keys (sys/generate-root), not from a foreign key', async () => {
    const c = srv!.client();
    const { nonce, otp, required } = (await c.write('sys/generate-root/attempt', {})).body as { nonce: string; otp: string; required: number };
    assert.equal(required, 2, "the recovery set's threshold");
    const foreign = await c.request('PUT', 'sys/generate-root/update', { key: 'ab'.repeat(33), nonce });
    assert.equal(foreign.status, 400);
    assert.match((foreign.body['errors'] as string[])[0]!, /not one of the recovery keys/);
    assert.equal(((await c.write('sys/generate-root/update', { key: recoveryKeys[0], nonce })).body as { progress: number }).progress, 1);
    const done = (await c.write('sys/generate-root/update', { key: recoveryKeys[2], nonce })).body as { complete: boolean; encoded_token: string };
    assert.equal(done.complete, true);
    const token = Buffer.from(Buffer.from(done.encoded_token, 'base64').map((b, i) => b ^ otp.charCodeAt(i))).toString();
    const self = (await srv!.client(token).read('auth/token/lookup-self')).body['data'] as { policies: string[] };
    assert.deepEqual(self.policies, ['root']);
  });

  it('rekeys the recovery keys (sys/rekey-recovery-key): the new ones generate a root token, the old ones no longer do', async () => {
    const c = srv!.client();
    const wrongTarget = await c.request('PUT', 'sys/rekey/init', { secret_shares: 3, secret_threshold: 2 });
    assert.equal(wrongTarget.status, 400);
    assert.match((wrongTarget.body['errors'] as string[])[0]!, /no unseal keys: rekey its recovery keys/);
    // A root generation started with the old shares: the rekey ends it.
    const early = (await c.write('sys/generate-root/attempt', {})).body as { nonce: string };
    await c.write('sys/generate-root/update', { key: recoveryKeys[0], nonce: early.nonce });
    const { nonce } = (await c.write('sys/rekey-recovery-key/init', { secret_shares: 2, secret_threshold: 2 })).body as { nonce: string };
    await c.write('sys/rekey-recovery-key/update', { key: recoveryKeys[1], nonce });
    const done = (await c.write('sys/rekey-recovery-key/update', { key: recoveryKeys[2], nonce })).body as { complete: boolean; keys: string[] };
    assert.equal(done.complete, true);
    assert.equal(done.keys.length, 2);
    const late = await c.request('PUT', 'sys/generate-root/update', { key: recoveryKeys[1], nonce: early.nonce });
    assert.equal(late.status, 400);
    assert.match((late.body['errors'] as string[])[0]!, /no root generation in progress/);
    const attempt = (await c.write('sys/generate-root/attempt', {})).body as { nonce: string; required: number };
    assert.equal(attempt.required, 2);
    const old = await c.request('PUT', 'sys/generate-root/update', { key: recoveryKeys[0], nonce: attempt.nonce });
    assert.equal(old.status, 400, 'an old recovery key no longer counts');
    await c.write('sys/generate-root/update', { key: done.keys[0], nonce: attempt.nonce });
    assert.equal(((await c.write('sys/generate-root/update', { key: done.keys[1], nonce: attempt.nonce })).body as { complete: boolean }).complete, true);
    recoveryKeys = done.keys;
  });

  it('unseals by itself after a restart', async () => {
    await srv!.stop();
    srv = await start();
    assert.equal((await srv.client().read('sys/seal-status')).body['sealed'], false);
    const r = (await srv.client(rootToken).read('secret/data/hsm')).body as { data: { data: { v: string } } };
    assert.equal(r.data.data.v, 'kept-through-hsm-outage');
    await srv.stop();
  });

  it('fails to start with a clear error while the HSM key is gone, and recovers when it is back', async () => {
    const backup = `${hsm.dir}/tokens.bak`;
    await cp(`${hsm.dir}/tokens`, backup, { recursive: true });
    await execFileP('pkcs11-tool', ['--module', hsm.module, '--token-label', hsm.label, '--login', '--pin', hsm.pin,
      '--delete-object', '--type', 'secrkey', '--label', 'arca-root-wrap'], { env: { ...process.env, ...hsm.env } });
    srv = await start(false);
    const code = await srv.exited;
    assert.equal(code, 2);
    assert.match(srv.output(), /ERR_HSM_KEY_MISSING/);
    assert.match(srv.output(), /arca-root-wrap/);
    assert.doesNotMatch(srv.output(), /\n\s+at .*\.ts:\d+/, 'no stack trace');
    // Restore the token (as an operator would restore the HSM from backup) and start again.
    await rm(`${hsm.dir}/tokens`, { recursive: true });
    await cp(backup, `${hsm.dir}/tokens`, { recursive: true });
    srv = await start();
    const r = (await srv.client(rootToken).read('secret/data/hsm')).body as { data: { data: { v: string } } };
    assert.equal(r.data.data.v, 'kept-through-hsm-outage');
  });
});

describe('PKCS#11 auto-unseal of an HA replica started before init (SoftHSM2, PostgreSQL)', () => {
  let hsm: SoftHsmToken;
  let pg: PostgresHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const procs: ArcaProcess[] = [];

  before(async () => {
    hsm = await createSoftHsmToken('arca-seal-ha');
    pg = await startPostgres();
    dir = await tempDir();
    await execFileP('sh', ['-c', `printf '%s\\n' '${hsm.pin}' > '${hsm.dir}/pin'`]);
  });
  after(async () => {
    for (const p of procs) await p.stop().catch(() => {});
    await pg?.stop();
    await dir?.remove();
    await hsm?.remove();
  });

  it('unseals the other replica by itself once one replica ran init, without a restart', async () => {
    const url = await pg.createDatabase();
    const config = {
      storage: { type: 'postgres', url },
      ha: { leaseSeconds: 3 },
      seal: { type: 'pkcs11', module: hsm.module, tokenLabel: hsm.label, pinFile: `${hsm.dir}/pin`, keyLabel: 'arca-root-wrap' },
    };
    const [a, b] = await Promise.all([0, 1].map(() => startArca({ config, configDir: dir.path, env: hsm.env })));
    procs.push(a!, b!);
    assert.equal((await b!.client().read('sys/seal-status')).body['initialized'], false);
    const init = (await a!.client().write('sys/init', { recovery_shares: 1, recovery_threshold: 1 })).body as { root_token: string };
    // Nobody asks b anything until it has unsealed itself (its HA loop re-reads the seal record).
    await waitFor('b auto-unsealed', async () => (b!.output().includes('"msg":"unsealed"') ? true : undefined), 60_000, 200);
    const st = (await b!.client().read('sys/seal-status')).body;
    assert.equal(st['initialized'], true);
    assert.equal(st['sealed'], false);
    await waitFor('b serves', async () => ((await b!.client(init.root_token).request('GET', 'auth/token/lookup-self')).status === 200 ? true : undefined), 30_000, 200);
  });
});
