/**
 * Login in a real browser against a real server (issue 21 item 2): the sign-in tabs by keyboard, a
 * token, userpass + TOTP (codes computed with `otpauth` from the enrolment URL), userpass + a WebAuthn
 * security key registered through the account page (CDP virtual authenticator), and OIDC redirect
 * login against a real `oidc-provider`; wrong password, wrong code and a foreign OIDC state are said in
 * words; axe-clean states; nothing persistent in localStorage/IndexedDB.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Provider from 'oidc-provider';
import * as OTPAuth from 'otpauth';
import type { Page } from 'playwright-core';
import type { ArcaClient } from '../../src/client/index.ts';
import { loginWithToken, newPage, persistentStorageText, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

/** The element that has the keyboard focus, by its text (this project compiles without the DOM library). */
const focusedText = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } }).document.activeElement?.textContent ?? '');
const focusedName = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute('name') ?? '');
const sessionStorageText = (page: Page) =>
  page.evaluate(() => {
    const s = (globalThis as unknown as { sessionStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null } }).sessionStorage;
    let out = '';
    for (let i = 0; i < s.length; i++) out += `${s.key(i)}=${s.getItem(s.key(i)!)}\n`;
    return out;
  });

describe('web UI login', () => {
  let w: UiWorld;
  let c: ArcaClient;
  /** A TOTP method (admin-enrolled in one test, self-enrolled on the account page in another). */
  let totpMethod: string;

  /** A userpass user who logged in once through the API (so it has an entity): its entity id. */
  const makeUser = async (name: string, password: string, policies: string[] = []): Promise<string> => {
    await c.write(`auth/userpass/users/${name}`, { password, token_policies: policies });
    const r = await w.srv.client().request('POST', `auth/userpass/login/${name}`, { password });
    const a = r.body['auth'] as { client_token: string; entity_id: string };
    await w.srv.client(w.root).write('auth/token/revoke', { token: a.client_token });
    return a.entity_id;
  };
  const userpassLogin = async (page: Page, user: string, password: string) => {
    await page.goto('/ui/');
    await page.getByRole('tab', { name: 'Username & password' }).click();
    await page.getByLabel('User name', { exact: true }).fill(user);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  before(async () => {
    w = await startUiWorld();
    c = w.srv.client(w.root);
    await c.write('sys/auth/userpass', { type: 'userpass' });
    const m = await c.write('identity/mfa/method/totp', { method_name: 'authenticator', issuer: 'Arca' });
    totpMethod = (m.body['data'] as { method_id: string }).method_id;
  });
  after(async () => {
    await w?.close();
  });

  it('moves between sign-in methods with the arrow keys, Home and End (one tab stop), and signs in with a token', async () => {
    const { context, page } = await newPage(w);
    await page.goto('/ui/');
    const tab = (name: string) => page.getByRole('tab', { name });
    assert.equal(await tab('Token').getAttribute('aria-selected'), 'true');
    assert.equal(await tab('Username & password').getAttribute('tabindex'), '-1', 'only the selected tab is a tab stop');
    await tab('Token').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await tab('Username & password').getAttribute('aria-selected'), 'true');
    assert.equal(await focusedText(page), 'Username & password');
    await page.getByLabel('User name', { exact: true }).waitFor();
    await page.keyboard.press('End');
    assert.equal(await tab('Single sign-on (OIDC)').getAttribute('aria-selected'), 'true');
    await page.getByLabel('Role', { exact: true }).waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'OIDC tab');
    await screenshot(page, 'login-oidc');
    await page.keyboard.press('ArrowRight');
    assert.equal(await tab('Token').getAttribute('aria-selected'), 'true', 'the arrows wrap around');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Home');
    assert.equal(await focusedText(page), 'Token');
    assert.deepEqual(await seriousA11yViolations(page), [], 'token tab');
    await screenshot(page, 'login-token');
    await loginWithToken(page, w.root);
    await context.close();
  });

  it('says a wrong password in words, and leaves no password in any storage', async () => {
    await makeUser('tom', 'tom-correct-password');
    const { context, page } = await newPage(w);
    await userpassLogin(page, 'tom', 'tom-wrong-password');
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'userpass error');
    await screenshot(page, 'login-userpass-error');
    const stored = (await persistentStorageText(page)) + (await sessionStorageText(page));
    assert.ok(!stored.includes('tom-wrong-password'), 'the password is stored nowhere');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the refused password is cleared from the form');
    // A mount path where no auth method is.
    await page.getByLabel('Password', { exact: true }).fill('tom-correct-password');
    await page.getByLabel('Mount path').fill('no-such-mount');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'No such auth method at this path' }).waitFor();
    await context.close();
  });

  it('signs in with userpass + TOTP: a wrong code is refused in words, the right code signs in', async () => {
    const entity = await makeUser('tina', 'tina-password');
    const g = await c.write('identity/mfa/method/totp/admin-generate', { method_id: totpMethod, entity_id: entity });
    const totp = OTPAuth.URI.parse((g.body['data'] as { url: string }).url) as OTPAuth.TOTP;
    await c.write('identity/mfa/login-enforcement/tina-totp', { mfa_method_ids: [totpMethod], identity_entity_ids: [entity] });

    const { context, page } = await newPage(w);
    await userpassLogin(page, 'tina', 'tina-password');
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    assert.match(await focusedName(page), /^totp-/, 'the keyboard focus moves to the code field');
    assert.deepEqual(await seriousA11yViolations(page), [], 'TOTP prompt');
    await screenshot(page, 'login-mfa-totp');
    const now = Date.now();
    const valid = new Set([-1, 0, 1].map((d) => totp.generate({ timestamp: now + d * 30_000 })));
    let wrong = '000000';
    while (valid.has(wrong)) wrong = String(Number(wrong) + 111111).padStart(6, '0');
    const code = page.getByLabel(/Authentication code/);
    await code.fill(wrong);
    await page.getByRole('button', { name: 'Verify code' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'The second factor was refused' });
    await refused.waitFor();
    assert.doesNotMatch((await refused.textContent()) ?? '', /Permission denied/, 'a refused code is not worded as a policy refusal');
    await screenshot(page, 'login-mfa-error');
    await code.fill(totp.generate());
    await page.getByRole('button', { name: 'Verify code' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('link', { name: 'userpass-tina' }).waitFor();
    const stored = await persistentStorageText(page);
    assert.equal(stored, '', 'nothing in localStorage or IndexedDB');
    await context.close();
  });

  it('registers a security key and enrols an authenticator app on the account page, then signs in with userpass + the key (virtual authenticator)', async () => {
    const m = await c.write('identity/mfa/method/webauthn', { method_name: 'security-key', rp_id: 'localhost', origins: [w.origin], user_verification: 'required' });
    const methodId = (m.body['data'] as { method_id: string }).method_id;
    await c.write('sys/policies/acl/self-mfa', {
      policy: [
        'path "identity/mfa/method/" { capabilities = ["list"] }',
        'path "identity/mfa/method/webauthn/register/*" { capabilities = ["update"] }',
        'path "identity/mfa/method/webauthn/credentials" { capabilities = ["read"] }',
        'path "identity/mfa/method/totp/generate" { capabilities = ["update"] }',
      ].join('\n'),
    });
    const entity = await makeUser('wendy', 'wendy-password', ['self-mfa']);

    const { context, page } = await newPage(w);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await userpassLogin(page, 'wendy', 'wendy-password');
    await page.getByRole('link', { name: 'userpass-wendy' }).click();
    await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    const keys = page.getByRole('region', { name: 'Security keys · security-key' });
    await keys.getByText('No security key registered yet.').waitFor();
    await keys.getByLabel('Name for the new key').fill('virtual key');
    await keys.getByRole('button', { name: 'Register security key' }).click();
    await keys.getByRole('status').filter({ hasText: 'registered' }).waitFor();
    await keys.getByRole('cell', { name: 'virtual key' }).waitFor();
    // TOTP self-enrolment: the QR code (data: PNG under the CSP), the link and recovery codes, once.
    const app = page.getByRole('region', { name: 'Authenticator app · authenticator' });
    await app.getByRole('button', { name: 'Set up authenticator app' }).click();
    await app.getByRole('img', { name: 'QR code to scan with your authenticator app' }).waitFor();
    assert.equal(await app.getByRole('listitem').count(), 10, 'ten recovery codes');
    assert.deepEqual(await seriousA11yViolations(page), [], 'account page');
    await screenshot(page, 'login-account');
    const url = await app.locator('code.wrap').textContent();
    assert.match(url ?? '', /^otpauth:\/\/totp\//);
    const secret = new URL(url!).searchParams.get('secret')!;
    assert.ok(!(await persistentStorageText(page)).includes(secret) && !(await sessionStorageText(page)).includes(secret), 'the TOTP secret is stored nowhere');

    // From now on wendy's logins need the key.
    await c.write('identity/mfa/login-enforcement/wendy-key', { mfa_method_ids: [methodId], identity_entity_ids: [entity] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await userpassLogin(page, 'wendy', 'wendy-password');
    const use = page.getByRole('button', { name: 'Use security key (security-key)' });
    await use.waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'security key prompt');
    await screenshot(page, 'login-mfa-webauthn');
    await use.click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('link', { name: 'userpass-wendy' }).waitFor();
    assert.equal(await persistentStorageText(page), '', 'nothing in localStorage or IndexedDB');
    await context.close();
  });

  it('says so when the user has no security key for the method the login requires', async () => {
    const entity = await makeUser('nora', 'nora-password');
    const m = await c.write('identity/mfa/method/webauthn', { method_name: 'nora-key', rp_id: 'localhost', origins: [w.origin] });
    await c.write('identity/mfa/login-enforcement/nora-key', { mfa_method_ids: [(m.body['data'] as { method_id: string }).method_id], identity_entity_ids: [entity] });
    const { context, page } = await newPage(w);
    await userpassLogin(page, 'nora', 'nora-password');
    await page.getByText('No security key of yours is registered for nora-key').waitFor();
    await context.close();
  });

  describe('OIDC redirect login against a real OpenID Provider', () => {
    let op: http.Server;
    before(async () => {
      op = http.createServer();
      await new Promise<void>((r) => op.listen(0, '127.0.0.1', r));
      const issuer = `http://127.0.0.1:${(op.address() as AddressInfo).port}`;
      const redirect = `${w.origin}/ui/oidc/callback`;
      const provider = new Provider(issuer, {
        clients: [{ client_id: 'arca-ui', client_secret: 'arca-ui-client-secret-0123456789', redirect_uris: [redirect], grant_types: ['authorization_code'], response_types: ['code'] }],
        pkce: { required: () => true },
        findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
      });
      op.on('request', provider.callback());
      await c.write('sys/auth/oidc', { type: 'oidc' });
      await c.write('auth/oidc/config', { oidc_discovery_url: issuer, oidc_client_id: 'arca-ui', oidc_client_secret: 'arca-ui-client-secret-0123456789', default_role: 'ui' });
      await c.write('auth/oidc/role/ui', { allowed_redirect_uris: [redirect], bound_audiences: ['arca-ui'], user_claim: 'sub', token_policies: ['default'] });
    });
    after(() => op?.close());

    /** The provider's own development login and consent pages (its HTML, not ours). */
    const atProvider = async (page: Page, user: string) => {
      await page.locator('input[name="login"]').fill(user);
      await page.locator('input[name="password"]').fill('any');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();
    };

    it('goes to the provider and comes back signed in, on the Secrets page, with the code gone from the address', async () => {
      const { context, page } = await newPage(w);
      await page.goto('/ui/');
      await page.getByRole('tab', { name: 'Single sign-on (OIDC)' }).click();
      await page.getByRole('button', { name: 'Continue to the identity provider' }).click();
      await page.waitForURL((u) => !u.href.startsWith(w.origin));
      await atProvider(page, 'olga');
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.getByRole('link', { name: 'oidc-olga' }).waitFor();
      assert.match(page.url(), /\/ui\/secrets$/);
      const stored = await sessionStorageText(page);
      assert.doesNotMatch(stored, /arca\.oidc/, 'the pending state is removed at the callback');
      assert.equal(await persistentStorageText(page), '');
      await context.close();
    });

    it('refuses an answer whose state is not the one this tab started (said in words, nothing sent)', async () => {
      const { context, page } = await newPage(w);
      await page.goto('/ui/');
      await page.getByRole('tab', { name: 'Single sign-on (OIDC)' }).click();
      await page.getByRole('button', { name: 'Continue to the identity provider' }).click();
      await page.waitForURL((u) => !u.href.startsWith(w.origin));
      // Another login's answer arrives in this tab (what a login-CSRF attempt looks like).
      await page.goto('/ui/oidc/callback?state=someone-elses-state&code=stolen-code');
      await page.getByRole('alert').filter({ hasText: 'OIDC state mismatch' }).waitFor();
      assert.deepEqual(await seriousA11yViolations(page), [], 'OIDC error');
      await screenshot(page, 'login-oidc-error');
      // The callback without any login started in the tab.
      await page.goto('/ui/oidc/callback?state=x&code=y');
      await page.getByRole('alert').filter({ hasText: 'No single sign-on was started in this tab' }).waitFor();
      await context.close();
    });
  });
});
