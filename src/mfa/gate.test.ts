import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isArcaError } from '../errors/index.ts';
import { EngineRouter, type AuthContext } from '../engines/index.ts';
import { InmemStorage } from '../storage/index.ts';
import { MAX_ATTEMPTS, MfaGate, STEP_UP_CONSTRAINT } from './gate.ts';
import { MfaStore } from './store.ts';
import { codeAt, newSecret } from './totp.ts';
import { MAX_ASSERTION_CHARS, Webauthn } from './webauthn.ts';

const MOUNT = { accessor: 'auth_userpass_1', type: 'userpass' };
const NOW = 1_700_000_015_000;

/** A gate over real in-memory storage; `issue` answers what it was given, `stepUp` names the accessor. */
function setup() {
  const store = new MfaStore(() => storage);
  const storage = new InmemStorage();
  const webauthn = new Webauthn({ store, now: () => NOW });
  const issued: unknown[] = [];
  const gate = new MfaGate<{ login: string }>({
    store, webauthn, now: () => NOW, groupIdsOf: async () => [],
    issue: async (create) => {
      issued.push(create);
      return { client_token: 'hvs.issued' };
    },
    stepUp: async (accessor) => ({ login: `step-up of ${accessor}` }),
  });
  return { store, gate, issued };
}

async function totp(store: MfaStore, entityId: string) {
  const m = await store.saveMethod(undefined, { name: 'phone' });
  const secret = newSecret();
  await store.enroll(m.id, entityId, { secret, lastStep: 0, recovery: [] });
  return { id: m.id, secret };
}

const webauthnMethod = (store: MfaStore) => store.saveWebauthnMethod(undefined, { name: 'key', rp_id: 'localhost', origins: ['http://localhost:8200'] });
const credential = (id: string, counter = 0) => ({ id, public_key: 'AAAA', counter, transports: ['usb'], label: 'yubi', created: new Date(NOW).toISOString() });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isArcaError(err));
    return err.code;
  }
  return 'ok';
}

type Requirement = { mfa_request_id: string; mfa_constraints: Record<string, { any: Record<string, unknown>[] }> };
const requirementOf = (a: Record<string, unknown> | undefined) => a!['mfa_requirement'] as Requirement;

describe('MFA gate with WebAuthn methods', () => {
  it("answers a webauthn entry with request options over the entity's own credentials only", async () => {
    const { store, gate } = setup();
    const t = await totp(store, 'e1');
    const w = await webauthnMethod(store);
    await store.addWebauthnCredential(w.id, 'e1', credential('Y3JlZC1h'));
    await store.addWebauthnCredential(w.id, 'e2', credential('b3RoZXI'));
    await store.saveEnforcement({ name: 'ops', mfa_method_ids: [t.id, w.id], auth_method_accessors: [MOUNT.accessor], auth_method_types: [], identity_group_ids: [], identity_entity_ids: [] });
    const any = requirementOf(await gate.gate(MOUNT, 'e1', { login: 'e1' })).mfa_constraints['ops']!.any;
    assert.deepEqual(any[0], { type: 'totp', id: t.id, uses_passcode: true, name: 'phone' });
    const we = any[1]!;
    assert.equal(we['type'], 'webauthn');
    assert.equal(we['uses_passcode'], false);
    assert.equal(we['name'], 'key');
    const opts = we['webauthn_options'] as { rpId: string; challenge: string; userVerification: string; allowCredentials: { id: string }[] };
    assert.equal(opts.rpId, 'localhost');
    assert.equal(opts.userVerification, 'preferred');
    assert.match(opts.challenge, /^[A-Za-z0-9_-]{20,}$/);
    assert.deepEqual(opts.allowCredentials.map((c) => c.id), ['Y3JlZC1h']);
  });

  it('counts refused assertions as failed attempts and drops the request after the last one', async () => {
    const { store, gate, issued } = setup();
    const t = await totp(store, 'e1');
    const w = await webauthnMethod(store);
    await store.addWebauthnCredential(w.id, 'e1', credential('Y3JlZC1h'));
    await store.saveEnforcement({ name: 'ops', mfa_method_ids: [w.id, t.id], auth_method_accessors: [], auth_method_types: ['userpass'], identity_group_ids: [], identity_entity_ids: [] });
    const id = requirementOf(await gate.gate(MOUNT, 'e1', { login: 'e1' })).mfa_request_id;
    const forged = JSON.stringify({ id: 'Y3JlZC1h', rawId: 'Y3JlZC1h', type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' } });
    const payloads = ['not json', '{}', forged, forged.replaceAll('Y3JlZC1h', 'b3RoZXI'), 'x'.repeat(MAX_ASSERTION_CHARS)];
    assert.equal(payloads.length, MAX_ATTEMPTS);
    for (const p of payloads) assert.equal(await code(gate.validate({ mfa_request_id: id, mfa_payload: { [w.id]: [p] } })), 'ERR_MFA_INVALID');
    // The request is gone: even a good TOTP code no longer completes it.
    assert.equal(await code(gate.validate({ mfa_request_id: id, mfa_payload: { [t.id]: [codeAt(t.secret, NOW)] } })), 'ERR_MFA_INVALID');
    assert.deepEqual(issued, []);
  });

  it('refuses an entity without a credential for the required webauthn method with ERR_MFA_NOT_ENROLLED', async () => {
    const { store, gate } = setup();
    const w = await webauthnMethod(store);
    await store.addWebauthnCredential(w.id, 'someone-else', credential('Y3JlZC1h'));
    await store.saveEnforcement({ name: 'ops', mfa_method_ids: [w.id], auth_method_accessors: [], auth_method_types: ['userpass'], identity_group_ids: [], identity_entity_ids: [] });
    const req = requirementOf(await gate.gate(MOUNT, 'e1', { login: 'e1' }));
    const opts = req.mfa_constraints['ops']!.any[0]!['webauthn_options'] as { allowCredentials: unknown[] };
    assert.deepEqual(opts.allowCredentials, []);
    assert.equal(await code(gate.validate({ mfa_request_id: req.mfa_request_id, mfa_payload: { [w.id]: ['{}'] } })), 'ERR_MFA_NOT_ENROLLED');
  });

  it('checks a method named by two enforcements once, so one code satisfies both', async () => {
    const { store, gate, issued } = setup();
    const t = await totp(store, 'e1');
    const base = { mfa_method_ids: [t.id], auth_method_accessors: [], identity_group_ids: [], identity_entity_ids: [] };
    await store.saveEnforcement({ ...base, name: 'by-type', auth_method_types: ['userpass'] });
    await store.saveEnforcement({ ...base, name: 'by-entity', auth_method_types: [], identity_entity_ids: ['e1'] });
    const id = requirementOf(await gate.gate(MOUNT, 'e1', { login: 'e1' })).mfa_request_id;
    const res = await gate.validate({ mfa_request_id: id, mfa_payload: { [t.id]: [codeAt(t.secret, NOW)] } });
    assert.equal(res['client_token'], 'hvs.issued');
    assert.deepEqual(issued, [{ login: 'e1' }]);
  });

  it('keeps TOTP passcodes short while an assertion may reach 16 KiB, and refuses larger elements as bad input', async () => {
    const { store, gate } = setup();
    const t = await totp(store, 'e1');
    await store.saveEnforcement({ name: 'ops', mfa_method_ids: [t.id], auth_method_accessors: [], auth_method_types: ['userpass'], identity_group_ids: [], identity_entity_ids: [] });
    const id = requirementOf(await gate.gate(MOUNT, 'e1', { login: 'e1' })).mfa_request_id;
    assert.equal(await code(gate.validate({ mfa_request_id: id, mfa_payload: { [t.id]: ['1'.repeat(65)] } })), 'ERR_MFA_INVALID');
    assert.equal(await code(gate.validate({ mfa_request_id: id, mfa_payload: { [t.id]: ['1'.repeat(MAX_ASSERTION_CHARS + 1)] } })), 'ERR_INVALID_REQUEST');
  });
});

describe('MFA step-up', () => {
  const auth = (entityId: string): AuthContext => ({ accessor: 'acc1', policies: ['default'], displayName: 'userpass-alice', root: false, metadata: {}, entityId });

  it('needs a token with an entity that is enrolled in some method', async () => {
    const { store, gate } = setup();
    assert.equal(await code(gate.stepUp(undefined)), 'ERR_MFA_ENTITY_REQUIRED');
    assert.equal(await code(gate.stepUp(auth(''))), 'ERR_MFA_ENTITY_REQUIRED');
    await totp(store, 'someone-else');
    const w = await webauthnMethod(store);
    await store.addWebauthnCredential(w.id, 'someone-else', credential('Y3JlZC1h'));
    assert.equal(await code(gate.stepUp(auth('e1'))), 'ERR_MFA_NOT_ENROLLED');
  });

  it('refuses a batch token (no accessor to issue a child of) before asking for a factor', async () => {
    const { store, gate } = setup();
    await totp(store, 'e1');
    await assert.rejects(gate.stepUp({ ...auth('e1'), accessor: '' }), (e: unknown) => isArcaError(e, 'ERR_INVALID_REQUEST') && /batch tokens cannot step up/.test((e as Error).message));
    assert.ok(requirementOf(await gate.stepUp(auth('e1'))), 'the same entity with a service token may');
  });

  it("lists every method the entity is enrolled in and, once passed, issues the caller's step-up token", async () => {
    const { store, gate, issued } = setup();
    const t = await totp(store, 'e1');
    const w = await webauthnMethod(store);
    await store.addWebauthnCredential(w.id, 'e1', credential('Y3JlZC1h'));
    await webauthnMethod(store); // not enrolled: not listed
    const req = requirementOf(await gate.stepUp(auth('e1')));
    const listed = req.mfa_constraints[STEP_UP_CONSTRAINT]!.any.map((e) => [e['type'], e['id']]);
    assert.deepEqual(listed.sort(), [['totp', t.id], ['webauthn', w.id]].sort());
    await gate.validate({ mfa_request_id: req.mfa_request_id, mfa_payload: { [t.id]: [codeAt(t.secret, NOW)] } });
    assert.deepEqual(issued, [{ login: 'step-up of acc1' }]);
  });

  it('registers validate and step-up on the system router', () => {
    const { gate } = setup();
    const r = new EngineRouter();
    gate.register(r);
    assert.deepEqual(r.routes().map((x) => x.pattern), ['mfa/validate', 'mfa/step-up']);
  });
});

describe('WebAuthn credential store', () => {
  it('moves a counter only forward, and lets counter-less authenticators (always 0) through', async () => {
    const { store } = setup();
    const w = await webauthnMethod(store);
    await store.addWebauthnCredential(w.id, 'e1', credential('a', 5));
    await store.addWebauthnCredential(w.id, 'e1', credential('b', 0));
    assert.equal(await store.advanceWebauthnCounter(w.id, 'e1', 'a', 5), false);
    assert.equal(await store.advanceWebauthnCounter(w.id, 'e1', 'a', 4), false);
    assert.equal(await store.advanceWebauthnCounter(w.id, 'e1', 'a', 6), true);
    assert.equal((await store.webauthnCredentials(w.id, 'e1')).find((c) => c.id === 'a')?.counter, 6);
    assert.equal(await store.advanceWebauthnCounter(w.id, 'e1', 'b', 0), true);
    assert.equal(await store.advanceWebauthnCounter(w.id, 'e1', 'missing', 9), false);
  });

  it('refuses a credential registered twice, and more than 16 per entity and method', async () => {
    const { store } = setup();
    const w = await webauthnMethod(store);
    for (let i = 0; i < 16; i++) await store.addWebauthnCredential(w.id, 'e1', credential(`c${i}`));
    assert.equal(await code(store.addWebauthnCredential(w.id, 'e1', credential('c0'))), 'ERR_INVALID_REQUEST');
    assert.equal(await code(store.addWebauthnCredential(w.id, 'e1', credential('c16'))), 'ERR_INVALID_REQUEST');
    await store.unenroll(w.id, 'e1');
    assert.deepEqual(await store.webauthnCredentials(w.id, 'e1'), []);
  });

  it('keeps TOTP and WebAuthn methods apart', async () => {
    const { store } = setup();
    const t = await totp(store, 'e1');
    const w = await webauthnMethod(store);
    assert.deepEqual(await store.methodIds('totp'), [t.id]);
    assert.deepEqual(await store.methodIds('webauthn'), [w.id]);
    assert.equal(await store.totpMethod(w.id), undefined);
    assert.equal(await code(store.saveMethod(w.id, { issuer: 'x' })), 'ERR_NOT_FOUND');
    await store.deleteMethod(w.id, 'totp');
    assert.ok(await store.webauthnMethod(w.id), 'a TOTP delete leaves a WebAuthn method alone');
  });
});
