/**
 * Issue 21's quorum flow in a real browser against a real server: alice (key-admin policy; rotating a
 * key needs 2 approvals from group key-admins, by approvers who logged in with MFA in the last 5
 * minutes) asks to rotate a key on the Keys page; bob (already stepped up) and carol (steps up in the UI with a TOTP
 * code) approve it on the Approvals page; alice runs it from "My requests" and the key version
 * increments; erin steps up with a security key (CDP virtual authenticator) instead; the Audit page
 * shows the approvals with the chain's verification badge.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { codeAt } from '../../src/mfa/index.ts';
import { tempDir } from '../harness/index.ts';
import { loginWithToken, newPage, persistentStorageText, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

type Body = Record<string, unknown>;

const KEY_ADMIN = `
path "transit/keys/+/rotate" {
  capabilities = ["update"]
  control_group = {
    ttl = "1h"
    factor "key-admins" {
      identity { group_names = ["key-admins"] approvals = 2 }
      require_mfa_within = "5m"
    }
  }
}
path "transit/keys/*" { capabilities = ["read"] }
path "sys/control-group/request" { capabilities = ["update"] }`;
const APPROVER = `
path "sys/control-group/*" { capabilities = ["update", "list"] }
path "sys/mfa/step-up" { capabilities = ["update"] }`;

/**
 * Runs in erin's tab: registers a security key (register/begin → navigator.credentials.create →
 * register/finish) with base64url ↔ bytes around the browser API. A string, so the test's compiler
 * adds nothing the page does not have.
 */
const REGISTER_KEY = `async ({ token, methodId }) => {
  const bin = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)).buffer;
  const b64u = (b) => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const post = async (path, body) => (await (await fetch('/v1/' + path, { method: 'POST', headers: { 'X-Vault-Token': token, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json()).data;
  const o = (await post('identity/mfa/method/webauthn/register/begin', { method_id: methodId })).options;
  const c = await navigator.credentials.create({ publicKey: { ...o, challenge: bin(o.challenge), user: { ...o.user, id: bin(o.user.id) }, excludeCredentials: [] } });
  const response = { id: c.id, rawId: b64u(c.rawId), type: c.type, clientExtensionResults: {},
    response: { clientDataJSON: b64u(c.response.clientDataJSON), attestationObject: b64u(c.response.attestationObject), transports: c.response.getTransports() } };
  return (await post('identity/mfa/method/webauthn/register/finish', { method_id: methodId, response, name: 'erin-key' })).credential_id;
}`;

describe('Approvals page: quorum rotation with step-up (real server, Chromium)', () => {
  let w: UiWorld;
  let dir: { path: string; remove(): Promise<void> };
  const ops: Record<string, { token: string; entityId: string; totp?: string }> = {};
  let methodId = '';

  const root = () => w.srv.client(w.root);
  const version = async () => ((await root().request('GET', 'transit/keys/k8s-kek')).body['data'] as { latest_version: number }).latest_version;

  async function operator(name: string, policies: string[]): Promise<void> {
    await root().write(`auth/userpass/users/${name}`, { password: `pw-${name}-secret`, token_policies: policies });
    const r = await w.srv.client().request('POST', `auth/userpass/login/${name}`, { password: `pw-${name}-secret` });
    const a = r.body['auth'] as { client_token: string; entity_id: string };
    await root().request('POST', `identity/entity/id/${a.entity_id}`, { name });
    ops[name] = { token: a.client_token, entityId: a.entity_id };
  }

  async function enrollTotp(name: string): Promise<void> {
    const r = await root().request('POST', 'identity/mfa/method/totp/admin-generate', { method_id: methodId, entity_id: ops[name]!.entityId });
    ops[name]!.totp = new URL((r.body['data'] as { url: string }).url).searchParams.get('secret')!;
  }

  before(async () => {
    w = await startUiWorld();
    dir = await tempDir('arca-ui-approvals-');
    const c = root();
    await c.write('sys/audit/file', { type: 'file', options: { file_path: join(dir.path, 'audit.log') } });
    await c.write('sys/auth/userpass', { type: 'userpass' });
    await c.write('sys/policies/acl/key-admin', { policy: KEY_ADMIN });
    await c.write('sys/policies/acl/approver', { policy: APPROVER });
    await c.write('transit/keys/k8s-kek', {});
    await operator('alice', ['key-admin']);
    await operator('bob', ['approver']);
    await operator('carol', ['approver']);
    await c.request('POST', 'identity/group', { name: 'key-admins', member_entity_ids: ['alice', 'bob', 'carol'].map((n) => ops[n]!.entityId) });
    const m = await c.request('POST', 'identity/mfa/method/totp', { method_name: 'authenticator', issuer: 'Arca' });
    methodId = (m.body['data'] as { method_id: string }).method_id;
    await enrollTotp('bob');
    await enrollTotp('carol');
  });
  after(async () => {
    await w?.close();
    await dir?.remove();
  });

  /** Alice rotates the key on the Keys page; the server holds it and the page remembers the request. */
  async function requestRotation(page: Page): Promise<string> {
    await page.goto('/ui/keys/transit/k8s-kek');
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByRole('dialog', { name: 'Rotate k8s-kek?' }).getByRole('button', { name: 'Rotate', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Rotate key k8s-kek needs approval' }).waitFor();
    const held = await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('arca.requests'));
    const accessor = (JSON.parse(held ?? '[]') as { accessor: string; what: string }[]).find((r) => r.what === 'Rotate key k8s-kek')?.accessor;
    assert.ok(accessor, 'the Keys page remembered the held request');
    return accessor;
  }

  it('holds the rotation, two operators approve (one stepping up with TOTP), the requester runs it', async () => {
    assert.equal(await version(), 1);
    const alice = await newPage(w);
    await loginWithToken(alice.page, ops['alice']!.token);
    const accessor = await requestRotation(alice.page);
    assert.equal(await version(), 1, 'held, not run');
    await alice.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Approvals' }).click();
    const mine = alice.page.getByRole('region', { name: 'My requests' });
    await mine.getByRole('row', { name: /Rotate key k8s-kek/ }).getByText(/Pending \(0\/2\)/).waitFor();
    assert.equal(await mine.getByRole('button', { name: 'Run Rotate key k8s-kek' }).isDisabled(), true);
    await alice.page.getByText(/you are not an approver/).waitFor();
    assert.deepEqual(await seriousA11yViolations(alice.page), [], 'approvals: requester view');
    await screenshot(alice.page, 'approvals-mine-pending');

    // Bob logged in with his second factor a moment ago (a step-up token made through the API).
    const su = await w.srv.client(ops['bob']!.token).request('POST', 'sys/mfa/step-up', {});
    const rid = ((su.body['auth'] as Body)['mfa_requirement'] as { mfa_request_id: string }).mfa_request_id;
    const v = await w.srv.client().request('POST', 'sys/mfa/validate', { mfa_request_id: rid, mfa_payload: { [methodId]: [codeAt(ops['bob']!.totp!, Date.now())] } });
    const bobToken = (v.body['auth'] as { client_token: string }).client_token;
    const bob = await newPage(w);
    await loginWithToken(bob.page, bobToken);
    await bob.page.goto('/ui/approvals');
    const row = bob.page.getByRole('row', { name: /transit\/keys\/k8s-kek\/rotate/ });
    await row.getByRole('cell', { name: 'alice', exact: true }).waitFor();
    await row.getByText('key-admins: 0 / 2').waitFor();
    await row.getByText(/needs MFA within 5 min/).waitFor();
    assert.deepEqual(await seriousA11yViolations(bob.page), [], 'approvals: pending list');
    await screenshot(bob.page, 'approvals-pending');
    await row.getByRole('button', { name: /^Approve .* requested by alice$/ }).click();
    await bob.page.getByRole('status').filter({ hasText: 'more approvals are needed' }).waitFor();
    await row.getByText('key-admins: 1 / 2').waitFor();

    // Carol's token is from a plain password login: the server asks for step-up, the UI runs it.
    const carol = await newPage(w);
    await loginWithToken(carol.page, ops['carol']!.token);
    await carol.page.goto('/ui/approvals');
    const crow = carol.page.getByRole('row', { name: /transit\/keys\/k8s-kek\/rotate/ });
    await crow.getByRole('button', { name: /^Approve/ }).click();
    const step = carol.page.getByRole('region', { name: 'Step-up' });
    await step.getByLabel(/Authentication code/).waitFor();
    assert.deepEqual(await seriousA11yViolations(carol.page), [], 'approvals: step-up prompt');
    await screenshot(carol.page, 'approvals-step-up');
    await step.getByLabel(/Authentication code/).fill(codeAt(ops['carol']!.totp!, Date.now()));
    await step.getByRole('button', { name: 'Verify code' }).click();
    await carol.page.getByRole('status').filter({ hasText: /now has every approval it needs/ }).waitFor();
    await crow.getByText('Approved: waiting for the requester to run it').waitFor();
    assert.equal(await crow.getByRole('button', { name: /^Approve/ }).count(), 0, 'nothing left to approve');
    // The session now runs on the step-up token: a new token of carol's entity, not the old one.
    const stored = await carol.page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('arca.session'));
    assert.ok(stored && !stored.includes(ops['carol']!.token), 'the step-up token replaced the session token');
    const view = await root().request('POST', 'sys/control-group/request', { accessor });
    const d = view.body['data'] as { approved: boolean; authorizations: { entity_name: string }[] };
    assert.equal(d.approved, true);
    assert.deepEqual(d.authorizations.map((a) => a.entity_name).sort(), ['bob', 'carol']);
    assert.equal(await version(), 1, 'approval alone does not run it');

    // Alice runs it from the tab that asked.
    await alice.page.reload();
    await mine.getByRole('row', { name: /Rotate key k8s-kek/ }).getByText('Approved').waitFor();
    await mine.getByRole('button', { name: 'Run Rotate key k8s-kek' }).click();
    await alice.page.getByRole('status').filter({ hasText: /Rotate key k8s-kek\s*ran/ }).waitFor();
    assert.equal(await version(), 2, 'the key version incremented once');
    await mine.getByText(/No request of yours is held/).waitFor();
    assert.deepEqual(await seriousA11yViolations(alice.page), [], 'approvals: after run');
    for (const p of [alice.page, bob.page, carol.page]) {
      const text = await persistentStorageText(p);
      assert.ok(!/hvs\./.test(text), 'no token in localStorage/IndexedDB');
    }
    await Promise.all([alice.context.close(), bob.context.close(), carol.context.close()]);
  });

  it('approves with a security key as the step-up factor (WebAuthn virtual authenticator)', async () => {
    const c = root();
    const m = await c.request('POST', 'identity/mfa/method/webauthn', { method_name: 'security-key', rp_id: 'localhost', origins: [w.origin] });
    const keyMethod = (m.body['data'] as { method_id: string }).method_id;
    await c.write('sys/policies/acl/key-owner', { policy: 'path "identity/mfa/method/webauthn/register/*" { capabilities = ["update"] }' });
    await operator('erin', ['approver', 'key-owner']);
    await c.request('POST', 'identity/group/name/key-admins', { member_entity_ids: ['alice', 'bob', 'carol', 'erin'].map((n) => ops[n]!.entityId) });
    const held = await w.srv.client(ops['alice']!.token).request('POST', 'transit/keys/k8s-kek/rotate', {});
    const accessor = (held.body['wrap_info'] as { accessor: string }).accessor;

    const { context, page } = await newPage(w);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await loginWithToken(page, ops['erin']!.token);
    // Erin registers her key (the account page does this in the UI; here the same calls from her tab).
    const registered = await page.evaluate(`(${REGISTER_KEY})(${JSON.stringify({ token: ops['erin']!.token, methodId: keyMethod })})`);
    assert.ok(typeof registered === 'string' && registered.length > 0, 'key registered');

    await page.goto('/ui/approvals');
    const row = page.getByRole('row', { name: new RegExp(`request ${accessor}`) });
    await row.getByRole('button', { name: /^Approve/ }).click();
    const step = page.getByRole('region', { name: 'Step-up' });
    await step.getByRole('button', { name: /Use security key/ }).click();
    await page.getByRole('status').filter({ hasText: 'more approvals are needed' }).waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'approvals: after a security-key step-up');
    const view = await root().request('POST', 'sys/control-group/request', { accessor });
    assert.deepEqual((view.body['data'] as { authorizations: { entity_name: string }[] }).authorizations.map((a) => a.entity_name), ['erin']);
    await context.close();
  });

  it('shows the approvals and the rotation on the Audit page, with the chain verification badge', async () => {
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/approvals');
    await page.getByRole('link', { name: 'approvals in the audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
    assert.equal(await page.getByLabel('Path prefix').inputValue(), 'sys/control-group/');
    await page.getByRole('status', { name: 'Chain verification' }).waitFor();
    await page.getByRole('cell', { name: 'sys/control-group/authorize' }).first().waitFor();
    await page.getByLabel('Path prefix').fill('transit/keys/k8s-kek/rotate');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('cell', { name: 'transit/keys/k8s-kek/rotate' }).first().waitFor();
    const verification = page.getByRole('status', { name: 'Chain verification' });
    await verification.getByText(/Not proven yet|Verified/).first().waitFor();
    await context.close();
  });
});
