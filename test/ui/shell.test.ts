/**
 * The UI shell in a real browser against a real server: the CSP and caching headers, token login,
 * navigation, a sealed/unreachable server said in words, nothing stored persistently, no serious
 * accessibility violations on the login page and the shell.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UI_CSP } from '../../src/http/ui-static.ts';
import { loginWithToken, newPage, persistentStorageText, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

describe('web UI shell', () => {
  let w: UiWorld;
  before(async () => {
    w = await startUiWorld();
  });
  after(async () => {
    await w?.close();
  });

  it('serves the app under a strict CSP, hashed assets immutable, index no-store, / redirects to /ui/', async () => {
    const index = await fetch(`${w.origin}/ui/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-security-policy'), UI_CSP);
    assert.match(UI_CSP, /script-src 'self'(;|$)/);
    assert.equal(index.headers.get('cache-control'), 'no-store');
    const html = await index.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'the entry script is a hashed asset');
    const js = await fetch(`${w.origin}${asset}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${w.origin}/ui/assets/nope-123.js`)).status, 404);
    const deep = await fetch(`${w.origin}/ui/secrets/secret/app`);
    assert.equal(deep.status, 200, 'client-side routes answer the index');
    assert.equal(deep.headers.get('content-security-policy'), UI_CSP);
    const root = await fetch(`${w.origin}/`, { redirect: 'manual' });
    assert.equal(root.headers.get('location'), '/ui/');
  });

  it('logs in with a token under the CSP (no violation reported), navigates, keeps nothing in localStorage/IndexedDB', async () => {
    const { context, page } = await newPage(w);
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto('/ui/');
    assert.deepEqual(await seriousA11yViolations(page), [], 'login page');
    await screenshot(page, 'login');
    await page.getByLabel('Token', { exact: true }).fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /token/i }).waitFor();
    // A child token: signing out revokes the token it signed in with.
    const child = ((await w.srv.client(w.root).write('auth/token/create', { policies: ['root'], display_name: 'ui-shell' })).body as { auth: { client_token: string } }).auth.client_token;
    await loginWithToken(page, child);
    assert.match(page.url(), /\/ui\/secrets$/);
    for (const name of ['Keys', 'Approvals', 'Audit', 'Access', 'Posture', 'Secrets']) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
      await page.getByRole('heading', { level: 1, name }).waitFor();
    }
    assert.deepEqual(await seriousA11yViolations(page), [], 'shell');
    assert.deepEqual(cspErrors, []);
    const stored = await persistentStorageText(page);
    assert.ok(!stored.includes(child), 'the token is not in localStorage/IndexedDB');
    // A reload in the same tab keeps the session (sessionStorage); a new tab/context does not.
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const other = await w.browser.newContext({ baseURL: w.origin });
    const p2 = await other.newPage();
    await p2.goto('/ui/');
    await p2.getByLabel('Token', { exact: true }).waitFor();
    await other.close();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token', { exact: true }).waitFor();
    const gone = await w.srv.client(child).request('GET', 'auth/token/lookup-self');
    assert.equal(gone.status, 403, 'sign out revoked the token');
    await context.close();
  });

  it('the storage check reads localStorage items and IndexedDB records, so it can catch a value in either', async () => {
    const { context, page } = await newPage(w);
    await page.goto('/ui/');
    assert.equal(await persistentStorageText(page), '', 'a fresh page stores nothing');
    await page.evaluate(async () => {
      const g = globalThis as unknown as {
        localStorage: { setItem(k: string, v: string): void };
        indexedDB: { open(n: string, v: number): { result: unknown; onupgradeneeded: (() => void) | null; onsuccess: (() => void) | null } };
      };
      g.localStorage.setItem('probe', 'in-local-storage');
      await new Promise<void>((resolve) => {
        const r = g.indexedDB.open('probe-db', 1);
        r.onupgradeneeded = () => (r.result as { createObjectStore(n: string): { put(v: unknown, k: string): void } }).createObjectStore('s').put({ v: 'in-indexeddb-record' }, 'k');
        r.onsuccess = () => {
          (r.result as { close(): void }).close();
          resolve();
        };
      });
    });
    const text = await persistentStorageText(page);
    assert.ok(text.includes('in-local-storage'), text);
    assert.ok(text.includes('in-indexeddb-record'), text);
    await context.close();
  });

  it('says so when the server is sealed', async () => {
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    const c = w.srv.client(w.root);
    await c.write('sys/seal', {});
    try {
      await page.reload();
      await page.getByRole('alert').filter({ hasText: /sealed/i }).first().waitFor();
      await screenshot(page, 'sealed');
    } finally {
      const st = await c.request('GET', 'sys/seal-status');
      assert.equal((st.body as { sealed: boolean }).sealed, true);
    }
    await context.close();
  });
});
