/**
 * Issue 21, WebAuthn item, server side, against a real `arca server` and a real browser: Debian's
 * Chromium driven by playwright-core, with a CTAP2 virtual authenticator (Chrome DevTools Protocol)
 * doing the signing. The browser runs the ceremonies on the server's own origin
 * (http://localhost:<port>: the RP ID must be a host name), the test carries the JSON between the
 * browser and the API. Covered: registration; userpass login with a WebAuthn enforcement; an
 * assertion made on another origin, a replayed one and one from a cloned key (counter behind) are
 * refused; an entity without a key cannot pass; step-up yields a token that can approve a control
 * group requiring recent MFA where the plain login token cannot; nothing raw in audit or storage.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core';
import type { ArcaClient } from '../../src/client/index.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { tempDir } from '../harness/index.ts';

const ROOT = 'webauthn-root-token';

/** Runs in the page: base64url <-> ArrayBuffer around navigator.credentials (no DOM types in this project). */
const BROWSER_HELPERS = `(() => {
  const bin = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)).buffer;
  const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const creds = (l) => (l || []).map((c) => ({ ...c, id: bin(c.id) }));
  globalThis.arcaWebauthn = {
    async create(o) {
      const c = await navigator.credentials.create({ publicKey: { ...o, challenge: bin(o.challenge), user: { ...o.user, id: bin(o.user.id) }, excludeCredentials: creds(o.excludeCredentials) } });
      return { id: c.id, rawId: b64u(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
        response: { clientDataJSON: b64u(c.response.clientDataJSON), attestationObject: b64u(c.response.attestationObject), transports: c.response.getTransports() } };
    },
    async get(o) {
      const c = await navigator.credentials.get({ publicKey: { ...o, challenge: bin(o.challenge), allowCredentials: creds(o.allowCredentials) } });
      const r = c.response;
      return { id: c.id, rawId: b64u(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
        response: { clientDataJSON: b64u(r.clientDataJSON), authenticatorData: b64u(r.authenticatorData), signature: b64u(r.signature), ...(r.userHandle ? { userHandle: b64u(r.userHandle) } : {}) } };
    },
  };
})()`;
interface Helpers {
  arcaWebauthn: { create(o: unknown): Promise<Record<string, unknown>>; get(o: unknown): Promise<Record<string, unknown>> };
}

type Options = { challenge: string; allowCredentials: { id: string }[] };
interface Requirement {
  mfa_request_id: string;
  mfa_constraints: Record<string, { any: { type: string; id: string; uses_passcode: boolean; name: string; webauthn_options?: Options }[] }>;
}

describe('WebAuthn MFA with a real browser (real server)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let root: ArcaClient;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let aid: string;
  let other: Server;
  let origin: string;
  let otherOrigin: string;
  let methodId: string;
  let auditLog: string;
  const users = new Map<string, { token: string; entityId: string }>();
  /** What the browser produced, to look for in audit and storage afterwards. */
  const produced: string[] = [];

  const errCode = (r: { body: Record<string, unknown> }) => (r.body['error'] as { code?: string } | undefined)?.code;
  const client = (token?: string) => srv.client(token);

  const onPage = async (url: string) => {
    await page.goto(url);
    await page.evaluate(BROWSER_HELPERS);
  };
  const create = (o: unknown) => page.evaluate((x) => (globalThis as unknown as Helpers).arcaWebauthn.create(x), o);
  const get = async (o: unknown) => {
    const a = await page.evaluate((x) => (globalThis as unknown as Helpers).arcaWebauthn.get(x), o);
    produced.push((a['response'] as { signature: string }).signature);
    return JSON.stringify(a);
  };

  const login = async (name: string) => {
    const r = await client().request('POST', `auth/userpass/login/${name}`, { password: `pw-${name}-secret` });
    assert.equal(r.status, 200);
    return r.body['auth'] as { client_token: string; entity_id: string; mfa_requirement: Requirement | null };
  };
  const requirement = async (name: string) => {
    const a = await login(name);
    assert.equal(a.client_token, '');
    assert.ok(a.mfa_requirement, `${name}'s login needs MFA`);
    return a.mfa_requirement;
  };
  const webauthnEntry = (req: Requirement, constraint: string) => {
    const e = req.mfa_constraints[constraint]!.any.find((x) => x.id === methodId)!;
    assert.equal(e.type, 'webauthn');
    assert.equal(e.uses_passcode, false);
    return e.webauthn_options!;
  };
  const validate = (id: string, assertion: string) => client().request('POST', 'sys/mfa/validate', { mfa_request_id: id, mfa_payload: { [methodId]: [assertion] } });

  /** Registers a key on the virtual authenticator for `name` (browser on the server's origin). */
  const register = async (name: string, label: string) => {
    const c = client(users.get(name)!.token);
    const begin = await c.request('POST', 'identity/mfa/method/webauthn/register/begin', { method_id: methodId });
    assert.equal(begin.status, 200);
    const response = await create((begin.body['data'] as { options: unknown }).options);
    produced.push((response['response'] as { attestationObject: string }).attestationObject);
    const finish = await c.request('POST', 'identity/mfa/method/webauthn/register/finish', { method_id: methodId, response, name: label });
    assert.equal(finish.status, 200, JSON.stringify(finish.body));
    const id = (finish.body['data'] as { credential_id: string }).credential_id;
    assert.equal(id, response['id']);
    return id;
  };

  before(async () => {
    dir = await tempDir('arca-webauthn-');
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT, '--data-dir', join(dir.path, 'data')] });
    root = srv.client(ROOT);
    origin = `http://localhost:${srv.port}`;
    auditLog = join(dir.path, 'audit.log');
    assert.equal((await root.write('sys/audit/file', { type: 'file', options: { file_path: auditLog } })).status, 204);
    await root.write('sys/auth/userpass', { type: 'userpass' });
    // What an operator grants for self-service registration (docs/governance.md).
    await root.write('sys/policies/acl/own-keys', {
      policy: 'path "identity/mfa/method/webauthn/register/*" { capabilities = ["update"] }\npath "identity/mfa/method/webauthn/credentials" { capabilities = ["read"] }',
    });
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      await root.write(`auth/userpass/users/${name}`, { password: `pw-${name}-secret`, token_policies: ['own-keys'] });
      const a = await login(name);
      users.set(name, { token: a.client_token, entityId: a.entity_id });
    }
    const m = await root.request('POST', 'identity/mfa/method/webauthn', { method_name: 'security-key', rp_id: 'localhost', origins: [origin], user_verification: 'required' });
    assert.equal(m.status, 200);
    methodId = (m.body['data'] as { method_id: string }).method_id;
    // Another site on the same RP ID (a phishing page on another port): a plain page, nothing else.
    other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other</title>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherOrigin = `http://localhost:${(other.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await (await browser.newContext()).newPage();
    cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId: aid } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }));
    await onPage(`${origin}/v1/sys/health`);
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (other ? other.close(r) : r(undefined)));
    await srv?.stop();
    await dir?.remove();
  });

  it("registers a security key for the caller's own entity and lists it", async () => {
    const id = await register('alice', 'yubikey-a');
    const list = await client(users.get('alice')!.token).request('GET', `identity/mfa/method/webauthn/credentials?method_id=${methodId}`);
    const creds = (list.body['data'] as { credentials: { id: string; label: string; created: string }[] }).credentials;
    assert.deepEqual(creds.map((c) => [c.id, c.label]), [[id, 'yubikey-a']]);
    assert.ok(!Number.isNaN(Date.parse(creds[0]!.created)));
    // The same key again is excluded by the browser itself (excludeCredentials): nothing new is stored.
    const begin = await client(users.get('alice')!.token).request('POST', 'identity/mfa/method/webauthn/register/begin', { method_id: methodId });
    const opts = (begin.body['data'] as { options: { excludeCredentials: { id: string }[] } }).options;
    assert.deepEqual(opts.excludeCredentials.map((c) => c.id), [id]);
    await register('carol', 'carol-key');
  });

  it('logs in with userpass and a WebAuthn assertion, and refuses the assertion replayed', async () => {
    const ids = [users.get('alice')!.entityId, users.get('bob')!.entityId];
    const e = await root.request('POST', 'identity/mfa/login-enforcement/keys', { mfa_method_ids: [methodId], identity_entity_ids: ids });
    assert.equal(e.status, 204);
    const req = await requirement('alice');
    const opts = webauthnEntry(req, 'keys');
    assert.equal(opts.allowCredentials.length, 1);
    const assertion = await get(opts);
    const ok = await validate(req.mfa_request_id, assertion);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const auth = ok.body['auth'] as { client_token: string; entity_id: string };
    assert.match(auth.client_token, /^hvs\./);
    assert.equal(auth.entity_id, users.get('alice')!.entityId);
    assert.equal((await client(auth.client_token).request('GET', 'auth/token/lookup-self')).status, 200);
    // Replayed: on the spent request, and on a fresh login (whose challenge differs).
    assert.equal(errCode(await validate(req.mfa_request_id, assertion)), 'ERR_MFA_INVALID');
    assert.equal(errCode(await validate((await requirement('alice')).mfa_request_id, assertion)), 'ERR_MFA_INVALID');
  });

  it('refuses an assertion made on another origin, then accepts one from the right origin for the same login', async () => {
    const req = await requirement('alice');
    const opts = webauthnEntry(req, 'keys');
    await onPage(`${otherOrigin}/`);
    try {
      const phished = await get(opts);
      const r = await validate(req.mfa_request_id, phished);
      assert.equal(errCode(r), 'ERR_MFA_INVALID');
      assert.equal(JSON.stringify(r.body).includes(otherOrigin), false, 'the error does not quote the payload');
    } finally {
      await onPage(`${origin}/v1/sys/health`);
    }
    assert.equal((await validate(req.mfa_request_id, await get(opts))).status, 200);
  });

  it('refuses an assertion from a cloned key whose signature counter is behind', async () => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: aid });
    assert.equal(credentials.length, 2, "alice's and carol's keys");
    const alices = (await client(users.get('alice')!.token).request('GET', `identity/mfa/method/webauthn/credentials?method_id=${methodId}`)).body['data'] as { credentials: { id: string }[] };
    const cred = credentials.find((c) => Buffer.from(c.credentialId, 'base64').toString('base64url') === alices.credentials[0]!.id)!;
    assert.ok(cred.signCount > 1, 'the virtual authenticator counts signatures');
    await cdp.send('WebAuthn.removeCredential', { authenticatorId: aid, credentialId: cred.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId: aid, credential: { ...cred, signCount: 0 } });
    const req = await requirement('alice');
    assert.equal(errCode(await validate(req.mfa_request_id, await get(webauthnEntry(req, 'keys')))), 'ERR_MFA_INVALID');
    // Put the counter back ahead: the same login then passes (the failure was the counter alone).
    await cdp.send('WebAuthn.removeCredential', { authenticatorId: aid, credentialId: cred.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId: aid, credential: { ...cred, signCount: cred.signCount + 10 } });
    assert.equal((await validate(req.mfa_request_id, await get(webauthnEntry(req, 'keys')))).status, 200);
  });

  it('refuses an entity without a registered key, even with a key of another entity', async () => {
    const req = await requirement('bob');
    const opts = webauthnEntry(req, 'keys');
    assert.deepEqual(opts.allowCredentials, []);
    const alices = (await client(users.get('alice')!.token).request('GET', `identity/mfa/method/webauthn/credentials?method_id=${methodId}`)).body['data'] as { credentials: { id: string }[] };
    const borrowed = await get({ ...opts, allowCredentials: [{ id: alices.credentials[0]!.id, type: 'public-key' }] });
    assert.equal(errCode(await validate(req.mfa_request_id, borrowed)), 'ERR_MFA_NOT_ENROLLED');
  });

  it('steps up a plain token to one that can approve a control group requiring recent MFA', async () => {
    await root.write('sys/policies/acl/held', { policy: 'path "transit/keys/+/rotate" { capabilities = ["update"]\n control_group = { factor "f" { identity { group_names = ["approvers"] approvals = 1 }\n require_mfa_within = "5m" } } }' });
    await root.write('sys/policies/acl/approve', { policy: 'path "sys/control-group/*" { capabilities = ["update"] }\npath "sys/mfa/step-up" { capabilities = ["update"] }' });
    await root.write('transit/keys/held-key', {});
    await root.request('POST', 'identity/group', { name: 'approvers', policies: ['approve'], member_entity_ids: [users.get('carol')!.entityId] });
    await root.request('POST', `identity/entity/id/${users.get('dave')!.entityId}`, { policies: ['held'] });
    const held = await client(users.get('dave')!.token).request('POST', 'transit/keys/held-key/rotate', {});
    const accessor = (held.body['wrap_info'] as { accessor: string }).accessor;
    const carol = users.get('carol')!.token;
    assert.equal(errCode(await client(carol).request('POST', 'sys/control-group/authorize', { accessor })), 'ERR_CONTROL_GROUP_MFA_REQUIRED');

    const up = await client(carol).request('POST', 'sys/mfa/step-up', {});
    assert.equal(up.status, 200, JSON.stringify(up.body));
    const req = (up.body['auth'] as { mfa_requirement: Requirement }).mfa_requirement;
    assert.deepEqual(Object.keys(req.mfa_constraints), ['step-up']);
    const ok = await validate(req.mfa_request_id, await get(webauthnEntry(req, 'step-up')));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const stepped = (ok.body['auth'] as { client_token: string }).client_token;
    const before = (await client(carol).request('GET', 'auth/token/lookup-self')).body['data'] as Record<string, unknown>;
    const after = (await client(stepped).request('GET', 'auth/token/lookup-self')).body['data'] as Record<string, unknown>;
    assert.equal(after['entity_id'], before['entity_id']);
    assert.deepEqual(after['policies'], before['policies']);
    assert.equal(after['display_name'], before['display_name']);
    assert.ok((after['ttl'] as number) <= (before['ttl'] as number), 'never outlives the token that stepped up');
    const approved = await client(stepped).request('POST', 'sys/control-group/authorize', { accessor });
    assert.equal((approved.body['data'] as { approved: boolean }).approved, true, JSON.stringify(approved.body));
    // Without any enrollment, step-up says so.
    await root.write('sys/policies/acl/stepup-only', { policy: 'path "sys/mfa/step-up" { capabilities = ["update"] }' });
    await root.request('POST', `identity/entity/id/${users.get('dave')!.entityId}`, { policies: ['held', 'stepup-only'] });
    assert.equal(errCode(await client(users.get('dave')!.token).request('POST', 'sys/mfa/step-up', {})), 'ERR_MFA_NOT_ENROLLED');
  });

  it('keeps attestations and assertions out of the audit log and storage files', async () => {
    assert.ok(produced.length > 5);
    const dataDir = join(dir.path, 'data');
    const files = [...(await readdir(dataDir)).map((f) => join(dataDir, f)), auditLog];
    const audit = await readFile(auditLog, 'utf8');
    assert.ok(audit.includes('sys/mfa/step-up'), 'step-up is audited');
    for (const f of files) {
      const b = await readFile(f).catch(() => Buffer.alloc(0));
      for (const p of produced) assert.equal(b.includes(p), false, `browser output found in ${f}`);
    }
  });

});
