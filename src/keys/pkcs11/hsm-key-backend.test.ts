import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createSoftHsmToken, type SoftHsmToken } from '../../../test/harness/index.ts';
import { exerciseKeyBackend } from '../conformance.ts';
import { Pkcs11Hsm } from './hsm.ts';
import { HsmKeyBackend } from './hsm-key-backend.ts';

const execFileP = promisify(execFile);
const enc = (s: string) => new TextEncoder().encode(s);

let token: SoftHsmToken;
before(async () => {
  token = await createSoftHsmToken('arca-transit-test');
  process.env.SOFTHSM2_CONF = token.conf;
});
after(async () => {
  await token.remove();
});
const opts = () => ({ module: token.module, tokenLabel: token.label, pin: token.pin });

exerciseKeyBackend('hsm (SoftHSM2)', () => HsmKeyBackend.open(opts()), { type: 'hsm-aes256-gcm96', destroyedCode: 'ERR_HSM_KEY_MISSING' });

describe('HsmKeyBackend', () => {
  it('labels each version arca-transit-<versionId> and refers to it by CKA_ID', async () => {
    const b = await HsmKeyBackend.open(opts());
    const hsm = await Pkcs11Hsm.open(opts());
    try {
      const versionId = randomUUID();
      const ref = await b.createVersion(versionId);
      assert.equal(ref.length, 16);
      const key = await hsm.findKey(`arca-transit-${versionId}`);
      assert.ok(key);
      assert.deepEqual(key.id, ref);
    } finally {
      await hsm.close();
      await b.close();
    }
  });

  it('finds a version again after the module is closed and reopened', async () => {
    const a = await HsmKeyBackend.open(opts());
    const ref = await a.createVersion(randomUUID());
    const ct = await a.encrypt(ref, enc('kept in the token'), enc('aad'));
    await a.close();
    const b = await HsmKeyBackend.open(opts());
    try {
      assert.deepEqual(await b.decrypt(ref, ct, enc('aad')), enc('kept in the token'));
    } finally {
      await b.close();
    }
  });

  it('lets another process decrypt with the persisted ref', async () => {
    const a = await HsmKeyBackend.open(opts());
    try {
      const ref = await a.createVersion(randomUUID());
      const ct = await a.encrypt(ref, enc('cross-process'), enc('aad'));
      const script = `
        import { HsmKeyBackend } from ${JSON.stringify(new URL('./hsm-key-backend.ts', import.meta.url).href)};
        const [refHex, ctHex] = process.argv.slice(-2);
        const b = await HsmKeyBackend.open({ module: process.env.T_MODULE, tokenLabel: process.env.T_LABEL, pin: process.env.T_PIN });
        const pt = await b.decrypt(Buffer.from(refHex, 'hex'), Buffer.from(ctHex, 'hex'), new TextEncoder().encode('aad'));
        await b.close();
        process.stdout.write(Buffer.from(pt).toString('utf8'));
      `;
      const { stdout } = await execFileP(
        process.execPath,
        ['--no-deprecation', '--import', 'tsx', '--input-type=module', '-e', script, '--', Buffer.from(ref).toString('hex'), Buffer.from(ct).toString('hex')],
        { env: { ...process.env, ...token.env, T_MODULE: token.module, T_LABEL: token.label, T_PIN: token.pin } },
      );
      assert.equal(stdout, 'cross-process');
    } finally {
      await a.close();
    }
  });

  it('notices a version destroyed through another handle', async () => {
    const a = await HsmKeyBackend.open(opts());
    const b = await HsmKeyBackend.open(opts());
    try {
      const ref = await a.createVersion(randomUUID());
      const ct = await a.encrypt(ref, enc('x'), enc('a'));
      assert.deepEqual(await b.decrypt(ref, ct, enc('a')), enc('x')); // b now caches the key
      await a.destroyVersion(ref);
      await assert.rejects(b.decrypt(ref, ct, enc('a')), { code: 'ERR_HSM_KEY_MISSING' });
      await assert.rejects(b.encrypt(ref, enc('x'), enc('a')), { code: 'ERR_HSM_KEY_MISSING' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('borrows an injected Pkcs11Hsm without closing it', async () => {
    const hsm = await Pkcs11Hsm.open(opts());
    try {
      const b = new HsmKeyBackend(hsm);
      const ref = await b.createVersion(randomUUID());
      await b.close();
      assert.ok(await hsm.findKeyById(ref));
    } finally {
      await hsm.close();
    }
  });
});
