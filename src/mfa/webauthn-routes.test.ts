import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { type AuthContext, type EngineRequest, EngineRouter, type Operation } from '../engines/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { MfaStore } from './store.ts';
import { Webauthn } from './webauthn.ts';
import { registerWebauthnRoutes } from './webauthn-routes.ts';

function setup() {
  const storage = new InmemStorage();
  const store = new MfaStore(() => storage);
  const router = new EngineRouter();
  registerWebauthnRoutes(router, { store, webauthn: new Webauthn({ store, now: () => Date.now() }), entityExists: async (id) => (id === 'e1' ? { name: 'alice' } : undefined) });
  const call = async (operation: Operation, path: string, data: Record<string, unknown> = {}, entityId = 'e1') => {
    const auth: AuthContext = { accessor: 'a', policies: [], displayName: 'x', root: false, metadata: {}, entityId };
    const req: EngineRequest = { id: 'r', operation, path, mountPoint: 'identity/', data, auth, clientAddr: '', can: () => true };
    try {
      return { code: 'ok', res: await router.dispatch(req) };
    } catch (err) {
      assert.ok(isArcaError(err));
      return { code: err.code, message: err.message, field: err.details?.['field'] };
    }
  };
  return { store, call };
}

describe('WebAuthn method routes', () => {
  it('creates, reads and updates a method with its defaults', async () => {
    const { call } = setup();
    const c = await call('update', 'mfa/method/webauthn', { method_name: 'keys', rp_id: 'Arca.Example.com', origins: ['https://arca.example.com', 'https://ui.arca.example.com:8443'] });
    const id = (c.res!.data as { method_id: string }).method_id;
    const read = async () => (await call('read', `mfa/method/webauthn/${id}`)).res!.data;
    assert.deepEqual(await read(), {
      id, type: 'webauthn', method_name: 'keys', rp_id: 'arca.example.com', rp_name: 'Arca',
      origins: ['https://arca.example.com', 'https://ui.arca.example.com:8443'], user_verification: 'preferred',
    });
    assert.equal((await call('update', `mfa/method/webauthn/${id}`, { user_verification: 'required', rp_name: 'Ops' })).code, 'ok');
    assert.equal((await read())!['user_verification'], 'required');
    assert.equal((await read())!['rp_name'], 'Ops');
    assert.deepEqual((await call('list', 'mfa/method/webauthn/')).res!.data, { keys: [id] });
    assert.equal((await call('update', 'mfa/method/webauthn/nope', { rp_name: 'x' })).code, 'ERR_NOT_FOUND');
  });

  it('refuses an RP ID that is not a host name and origins the browser would never send for it', async () => {
    const { call } = setup();
    const bad: [Record<string, unknown>, string][] = [
      [{ origins: ['http://localhost:8200'] }, 'rp_id'],
      [{ rp_id: 'localhost' }, 'origins'],
      [{ rp_id: '127.0.0.1', origins: ['http://127.0.0.1:8200'] }, 'rp_id'],
      [{ rp_id: 'https://localhost', origins: ['http://localhost:8200'] }, 'rp_id'],
      [{ rp_id: 'localhost', origins: [] }, 'origins'],
      [{ rp_id: 'localhost', origins: ['http://localhost:8200/'] }, 'origins'],
      [{ rp_id: 'localhost', origins: ['http://localhost:8200/ui'] }, 'origins'],
      [{ rp_id: 'localhost', origins: ['localhost:8200'] }, 'origins'],
      [{ rp_id: 'example.com', origins: ['http://example.com'] }, 'origins'],
      [{ rp_id: 'example.com', origins: ['https://evil-example.com'] }, 'origins'],
      [{ rp_id: 'localhost', origins: Array.from({ length: 9 }, (_, i) => `http://localhost:${8000 + i}`) }, 'origins'],
      [{ rp_id: 'localhost', origins: ['http://localhost:1'], user_verification: 'always' }, 'user_verification'],
    ];
    for (const [body, field] of bad) {
      const r = await call('update', 'mfa/method/webauthn', body);
      assert.equal(r.code, 'ERR_INVALID_REQUEST', JSON.stringify(body));
      assert.equal(r.field, field, JSON.stringify(body));
    }
  });

  it("registers only for the caller's own entity, and answers ERR_MFA_REGISTRATION_FAILED without a begun challenge", async () => {
    const { call } = setup();
    const id = ((await call('update', 'mfa/method/webauthn', { rp_id: 'localhost', origins: ['http://localhost:8200'] })).res!.data as { method_id: string }).method_id;
    assert.equal((await call('update', 'mfa/method/webauthn/register/begin', { method_id: id }, '')).code, 'ERR_MFA_ENTITY_REQUIRED');
    assert.equal((await call('read', 'mfa/method/webauthn/credentials', { method_id: id }, '')).code, 'ERR_MFA_ENTITY_REQUIRED');
    assert.equal((await call('update', 'mfa/method/webauthn/register/begin', { method_id: 'nope' })).code, 'ERR_INVALID_REQUEST');
    const begin = await call('update', 'mfa/method/webauthn/register/begin', { method_id: id });
    const opts = (begin.res!.data as { options: { rp: { id: string }; user: { name: string }; excludeCredentials: unknown[]; challenge: string } }).options;
    assert.equal(opts.rp.id, 'localhost');
    assert.equal(opts.user.name, 'alice');
    assert.deepEqual(opts.excludeCredentials, []);
    // A malformed answer spends the challenge: the next finish has none left.
    const finish = { method_id: id, response: { id: 'x', rawId: 'x', type: 'public-key', response: {} } };
    const first = await call('update', 'mfa/method/webauthn/register/finish', finish);
    assert.equal(first.code, 'ERR_MFA_REGISTRATION_FAILED');
    assert.equal((await call('update', 'mfa/method/webauthn/register/finish', finish)).code, 'ERR_MFA_REGISTRATION_FAILED');
    assert.equal(first.message!.includes(opts.challenge), false);
    assert.deepEqual((await call('read', 'mfa/method/webauthn/credentials', { method_id: id })).res!.data, { credentials: [] });
  });
});
