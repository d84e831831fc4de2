import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../log/index.ts';
import { InmemStorage } from '../../storage/index.ts';
import { createCertAuthEngine } from './index.ts';

describe('cert auth login', () => {
  const engine = createCertAuthEngine({ storage: new InmemStorage(), log: silentLogger(), now: Date.now, isActive: () => true });
  const login = (tlsClientCerts: Uint8Array[] | undefined) =>
    engine.handle({ id: 'r', operation: 'update', path: 'login', mountPoint: 'auth/cert/', data: {}, auth: undefined, clientAddr: '127.0.0.1', tlsClientCerts, can: () => true });

  it('refuses a request that did not come over TLS (e.g. through a TLS-terminating proxy)', async () => {
    await assert.rejects(login(undefined), { code: 'ERR_CERT_AUTH_TLS_REQUIRED' });
  });
  it('refuses TLS without a client certificate', async () => {
    await assert.rejects(login([]), { code: 'ERR_CERT_AUTH_INVALID' });
  });
  it('refuses bytes that are not a certificate', async () => {
    await assert.rejects(login([new Uint8Array([1, 2, 3])]), { code: 'ERR_CERT_AUTH_INVALID' });
  });
});
