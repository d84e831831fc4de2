/**
 * The Secrets page in a real browser against a real server: create a secret, search it by path and
 * by custom metadata, write v2 and view v1, reveal (the value is in the page only after the click and
 * in no storage after it), delete / undelete / destroy a version and delete the whole secret — each
 * checked on the server through the API; axe on every state; screenshots.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { loginWithToken, newPage, persistentStorageText, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

type Meta = { current_version: number; versions: Record<string, { deletion_time: string; destroyed: boolean }> };

/** Everything in sessionStorage as text (the harness reads localStorage and IndexedDB). */
function sessionStorageText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const s = (globalThis as unknown as { sessionStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null } }).sessionStorage;
    const parts: string[] = [];
    for (let i = 0; i < s.length; i++) parts.push(`${s.key(i)}=${s.getItem(s.key(i)!)}`);
    return parts.join('\n');
  });
}

async function axeClean(page: Page, state: string): Promise<void> {
  assert.deepEqual(await seriousA11yViolations(page), [], state);
}

describe('web UI: Secrets', () => {
  let w: UiWorld;
  before(async () => {
    w = await startUiWorld();
  });
  after(async () => {
    await w?.close();
  });

  const meta = async (path: string): Promise<Meta> => ((await w.srv.client(w.root).read(`secret/metadata/${path}`)).body as { data: Meta }).data;

  it('creates a secret, finds it by path and by metadata, writes v2, shows v1, reveals on click only, keeps values out of storage', async () => {
    const { context, page } = await newPage(w);
    const c = w.srv.client(w.root);
    await c.write('secret/data/apps/web/api', { data: { token: 'tok-web-1' } });
    await c.write('secret/metadata/apps/web/api', { custom_metadata: { owner: 'team-web' } });
    await loginWithToken(page, w.root);
    await page.getByRole('link', { name: 'secret/' }).click();
    await page.getByRole('list', { name: 'Contents of secret/' }).getByRole('link', { name: 'apps/' }).waitFor();
    await axeClean(page, 'mount root');

    // Create through the UI (cas 0), in a folder reached by the tree.
    await page.getByRole('link', { name: 'apps/' }).click();
    assert.match(page.url(), /\/ui\/secrets\/secret\/apps\/$/);
    await page.getByRole('button', { name: 'New secret' }).click();
    await page.getByLabel('Path', { exact: true }).fill('db/primary');
    await page.getByLabel('Key 1').fill('password');
    await page.getByLabel('Value 1').fill('s3cret-v1-value');
    await page.getByRole('button', { name: 'Add row' }).click();
    await page.getByLabel('Key 2').fill('user');
    await page.getByLabel('Value 2').fill('app');
    await axeClean(page, 'new secret form');
    await screenshot(page, 'secrets-new');
    await page.getByRole('button', { name: 'Create secret' }).click();
    await page.waitForURL(/\/ui\/secrets\/secret\/apps\/db\/primary$/);
    const v1 = ((await c.read('secret/data/apps/db/primary')).body as { data: { data: Record<string, string>; metadata: { version: number } } }).data;
    assert.deepEqual(v1.data, { password: 's3cret-v1-value', user: 'app' });
    assert.equal(v1.metadata.version, 1);

    // Breadcrumbs lead back; search by path and by custom metadata link to the secret.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'secret/' }).click();
    await page.getByLabel('Path contains').fill('PRIM');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/\?q=PRIM$/);
    const results = page.getByRole('list', { name: 'Search results' });
    await results.getByRole('link', { name: 'secret/apps/db/primary' }).waitFor();
    assert.equal(await results.getByRole('listitem').count(), 1);
    await axeClean(page, 'search results');
    await screenshot(page, 'secrets-search');
    await page.getByLabel('Path contains').fill('');
    await page.getByLabel('Metadata key').fill('owner');
    await page.getByLabel('Metadata value').fill('team-web');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await results.getByRole('link', { name: 'secret/apps/web/api' }).waitFor();
    assert.equal(await results.getByRole('listitem').count(), 1);
    await results.getByRole('link', { name: 'secret/apps/web/api' }).click();
    await page.getByRole('heading', { name: 'secret/apps/web/api' }).waitFor();
    await page.getByText('team-web').waitFor();

    // Version 2 through the editor, starting from the current values; cas is the shown version.
    await page.goto('/ui/secrets/secret/apps/db/primary');
    await page.getByRole('button', { name: 'Write new version' }).click();
    await page.getByRole('button', { name: 'Start from current values' }).click();
    await page.getByLabel('Key 2').waitFor(); // v1 had two keys: the rows were filled from it
    assert.equal(await page.getByLabel('Value 1').inputValue(), 's3cret-v1-value');
    await page.getByLabel('Value 1').fill('s3cret-v2-value');
    await page.getByRole('button', { name: 'Save version' }).click();
    await page.waitForURL(/\?version=2$/);
    await page.getByRole('table', { name: 'Versions' }).getByText('v2 (shown)').waitFor();
    const v2 = ((await c.read('secret/data/apps/db/primary')).body as { data: { data: Record<string, string>; metadata: { version: number } } }).data;
    assert.equal(v2.metadata.version, 2);
    assert.equal(v2.data['password'], 's3cret-v2-value');

    // View v1: hidden until Reveal, fetched on the click.
    await page.getByRole('link', { name: 'View v1' }).click();
    await page.getByRole('heading', { name: 'Values of version 1' }).waitFor();
    assert.equal(await page.getByText('s3cret-v1-value').count(), 0, 'hidden before Reveal');
    assert.ok(!(await page.content()).includes('s3cret-v1-value'), 'not in the DOM before Reveal');
    await axeClean(page, 'secret view');
    await screenshot(page, 'secrets-secret');
    await page.getByRole('button', { name: 'Reveal' }).click();
    await page.getByRole('table', { name: 'Values of version 1' }).getByText('s3cret-v1-value').waitFor();
    await axeClean(page, 'revealed');
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: 'Copy password' }).click();
    await page.getByText('Copied').waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText()), 's3cret-v1-value');
    const stored = `${await persistentStorageText(page)}\n${await sessionStorageText(page)}`;
    for (const v of ['s3cret-v1-value', 's3cret-v2-value', 'tok-web-1']) assert.ok(!stored.includes(v), 'no secret value in localStorage, IndexedDB or sessionStorage');
    await page.getByRole('button', { name: 'Hide' }).click();
    assert.equal(await page.getByText('s3cret-v1-value').count(), 0);
    await context.close();
  });

  it('deletes, undeletes and destroys a version and deletes the whole secret, each after a confirmation', async () => {
    const { context, page } = await newPage(w);
    const c = w.srv.client(w.root);
    await c.write('secret/data/ops/rotate-me', { data: { a: '1' } });
    await c.write('secret/data/ops/rotate-me', { data: { a: '2' } });
    await loginWithToken(page, w.root);
    await page.goto('/ui/secrets/secret/ops/rotate-me');
    const versions = page.getByRole('table', { name: 'Versions' });

    await versions.getByRole('button', { name: 'Delete v2', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete version 2?' });
    await dialog.waitFor();
    await axeClean(page, 'confirm dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await meta('ops/rotate-me')).versions['2']?.deletion_time, '', 'Cancel did nothing');
    await versions.getByRole('button', { name: 'Delete v2', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete v2', exact: true }).click();
    await versions.getByRole('button', { name: 'Undelete v2', exact: true }).waitFor();
    assert.notEqual((await meta('ops/rotate-me')).versions['2']?.deletion_time, '');
    await page.getByText('This version was deleted or destroyed').waitFor();
    await axeClean(page, 'deleted version');

    await versions.getByRole('button', { name: 'Undelete v2', exact: true }).click();
    await page.getByRole('dialog', { name: 'Undelete version 2?' }).getByRole('button', { name: 'Undelete v2', exact: true }).click();
    await versions.getByRole('button', { name: 'Delete v2', exact: true }).waitFor();
    assert.equal((await meta('ops/rotate-me')).versions['2']?.deletion_time, '');

    await versions.getByRole('button', { name: 'Destroy v1', exact: true }).click();
    await page.getByRole('dialog', { name: 'Destroy version 1?' }).getByRole('button', { name: 'Destroy v1', exact: true }).click();
    await versions.getByRole('row').filter({ hasText: 'destroyed' }).waitFor();
    assert.equal((await meta('ops/rotate-me')).versions['1']?.destroyed, true);
    const gone = await c.request('GET', 'secret/data/ops/rotate-me?version=1');
    assert.equal(gone.status, 404);
    await axeClean(page, 'destroyed version');

    await page.getByRole('button', { name: 'Delete secret' }).click();
    await page.getByRole('dialog', { name: /Delete secret\/ops\/rotate-me for good/ }).getByRole('button', { name: 'Delete all versions' }).click();
    await page.waitForURL(/\/ui\/secrets\/secret\/ops\/$/);
    assert.equal((await c.request('GET', 'secret/metadata/ops/rotate-me')).status, 404);
    await context.close();
  });

  it('refuses to overwrite a version written meanwhile (check-and-set) and says so; a new secret never replaces one', async () => {
    const c = w.srv.client(w.root);
    await c.write('secret/data/ops/raced', { data: { k: 'v1' } });
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/secrets/secret/ops/raced');
    await page.getByRole('button', { name: 'Write new version' }).click();
    await page.getByLabel('Key 1').fill('k');
    await page.getByLabel('Value 1').fill('from-the-ui');
    await c.write('secret/data/ops/raced', { data: { k: 'from-another-writer' } });
    await page.getByRole('button', { name: 'Save version' }).click();
    await page.getByRole('alert').filter({ hasText: 'Someone wrote a newer version than v1 meanwhile' }).waitFor();
    await axeClean(page, 'cas conflict');
    const cur = ((await c.read('secret/data/ops/raced')).body as { data: { data: Record<string, string>; metadata: { version: number } } }).data;
    assert.deepEqual([cur.metadata.version, cur.data['k']], [2, 'from-another-writer']);

    await page.goto('/ui/secrets/secret/ops/');
    await page.getByRole('button', { name: 'New secret' }).click();
    await page.getByLabel('Path', { exact: true }).fill('raced');
    await page.getByLabel('Key 1').fill('k');
    await page.getByLabel('Value 1').fill('would-replace');
    await page.getByRole('button', { name: 'Create secret' }).click();
    await page.getByRole('alert').filter({ hasText: 'A secret already exists at this path' }).waitFor();
    assert.equal(((await c.read('secret/metadata/ops/raced')).body as { data: Meta }).data.current_version, 2);
    await context.close();
  });

  it('shows a version with a scheduled deletion (delete_version_after) as readable until then, with its deletion time', async () => {
    const c = w.srv.client(w.root);
    await c.write('secret/metadata/ops/expiring', { delete_version_after: '1h' });
    await c.write('secret/data/ops/expiring', { data: { k: 'expiring-value' } });
    const m = await meta('ops/expiring');
    assert.ok(Date.parse(m.versions['1']!.deletion_time) > Date.now(), 'the server scheduled the deletion in the future');
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/secrets/secret/ops/expiring');
    const row = page.getByRole('table', { name: 'Versions' }).getByRole('row').filter({ hasText: 'v1' });
    await row.getByText('current').waitFor();
    await row.getByText(/deleted after/).waitFor();
    await page.getByRole('button', { name: 'Reveal' }).click();
    await page.getByText('expiring-value').waitFor();
    await context.close();
  });

  it('opens secrets whose names hold URL characters (space, ?, #, %) from the tree and from search', async () => {
    const c = w.srv.client(w.root);
    const name = 'odd dir/a b?c#d%25e';
    await c.write(`secret/data/${name.split('/').map(encodeURIComponent).join('/')}`, { data: { k: 'odd-value' } });
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/secrets/secret/');
    await page.getByRole('link', { name: 'odd dir/' }).click();
    await page.getByRole('link', { name: 'a b?c#d%25e' }).click();
    await page.getByRole('heading', { name: `secret/${name}` }).waitFor();
    await page.getByRole('button', { name: 'Reveal' }).click();
    await page.getByText('odd-value').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: `secret/${name}` }).waitFor();
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'secret/' }).click();
    await page.getByLabel('Path contains').fill('b?c#');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('list', { name: 'Search results' }).getByRole('link', { name: `secret/${name}` }).click();
    await page.getByRole('heading', { name: `secret/${name}` }).waitFor();
    await context.close();
  });

  it('says what went wrong for a missing mount and an unreadable secret', async () => {
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/secrets/nope/x');
    await page.getByRole('alert').filter({ hasText: 'No KV version 2 mount' }).waitFor();
    await page.goto('/ui/secrets/secret/does/not/exist');
    await page.getByRole('alert').waitFor();
    await axeClean(page, 'error state');
    await context.close();
  });
});

