/**
 * The Audit page in a real browser against a real server with a file audit device: recent entries,
 * filters (kept in the URL), an expanded entry shows HMAC'd values (never the secret), the chain's
 * verification badge (not proven yet → "Sign now" → verified; tampered after an edit), a token
 * without sudo is told so.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../harness/index.ts';
import { loginWithToken, newPage, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

const SECRET = 'correct-horse-audit-ui';

describe('Audit page (real server, Chromium)', () => {
  let w: UiWorld;
  let dir: { path: string; remove(): Promise<void> };
  let logPath: string;

  before(async () => {
    w = await startUiWorld();
    dir = await tempDir('arca-ui-audit-');
    logPath = join(dir.path, 'audit.log');
    const c = w.srv.client(w.root);
    await c.write('sys/audit/file', { type: 'file', options: { file_path: logPath } });
    await c.write('secret/data/app/db', { data: { password: SECRET } });
    await c.request('GET', 'secret/data/app/missing');
  });
  after(async () => {
    await w?.close();
    await dir?.remove();
  });

  it('lists recent entries, filters them, expands one (HMAC\'d), and signs the chain to verified', async () => {
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    const badge = page.getByRole('status', { name: 'Chain verification' });
    await badge.getByText('Not proven yet').waitFor();
    await page.getByRole('cell', { name: 'secret/data/app/db' }).first().waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'audit: entries');
    await screenshot(page, 'audit-entries');

    // Filters: errors only shows the failed read, not the write; the URL keeps the filter.
    await page.getByLabel('Errors only').check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('cell', { name: 'secret/data/app/missing' }).first().waitFor();
    await page.waitForURL(/errors_only=true/);
    assert.equal(await page.getByRole('cell', { name: 'secret/data/app/db' }).count(), 0);
    await page.getByLabel('Errors only').uncheck();
    await page.getByLabel('Path prefix').fill('secret/data/app/db');
    await page.getByLabel('Type').selectOption('request');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/path_prefix=secret%2Fdata%2Fapp%2Fdb/);
    const details = page.getByRole('button', { name: /^Details of request secret\/data\/app\/db/ }).first();
    await details.click();
    assert.equal(await details.getAttribute('aria-expanded'), 'true');
    const json = page.locator('pre.entry-json').first();
    await json.waitFor();
    const text = await json.innerText();
    assert.match(text, /hmac-sha256:/);
    assert.ok(!text.includes(SECRET), 'the secret value is not shown');
    assert.ok(!(await page.content()).includes(SECRET), 'nor anywhere in the page');
    assert.deepEqual(await seriousA11yViolations(page), [], 'audit: expanded entry');
    await screenshot(page, 'audit-entry');

    await badge.getByRole('button', { name: 'Sign now' }).click();
    await badge.getByText('Verified').waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'audit: verified');
    await screenshot(page, 'audit-verified');

    // An edited entry: the badge says tampered and where.
    const log = await readFile(logPath, 'utf8');
    await writeFile(logPath, log.replace('"secret/data/app/missing"', '"secret/data/app/MISSING"'));
    await page.reload();
    await badge.getByText('Tampered').waitFor();
    await badge.getByText(/fails verification at line \d+/).waitFor();
    await screenshot(page, 'audit-tampered');
    await context.close();
  });

  it('tells a token without sudo that it may not read the log', async () => {
    const c = w.srv.client(w.root);
    await c.write('sys/policies/acl/audit-read-no-sudo', { policy: 'path "sys/audit-log" { capabilities = ["read"] }\npath "sys/audit" { capabilities = ["read"] }' });
    const t = ((await c.write('auth/token/create', { policies: ['audit-read-no-sudo'] })).body as { auth: { client_token: string } }).auth.client_token;
    const { context, page } = await newPage(w);
    await loginWithToken(page, t);
    await page.goto('/ui/audit');
    await page.getByRole('alert').filter({ hasText: /Permission denied/ }).first().waitFor();
    await context.close();
  });
});
