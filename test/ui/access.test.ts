/**
 * The Access page in a real browser against a real server: a policy refused by the server's parser
 * shows its message beside the editor, then is created, edited and deleted (with confirmation);
 * a token looked up by accessor and revoked (with confirmation); entities and groups with their
 * policies and members; an auth method enabled and disabled (with confirmation).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loginWithToken, newPage, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

describe('Access page (real server, Chromium)', () => {
  let w: UiWorld;
  const root = () => w.srv.client(w.root);

  before(async () => {
    w = await startUiWorld();
  });
  after(async () => {
    await w?.close();
  });

  it('creates a policy after showing the server\'s validation error inline, edits and deletes it', async () => {
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Access' }).click();
    const list = page.getByRole('navigation', { name: 'Policies' });
    await list.getByRole('link', { name: 'default' }).waitFor();
    await list.getByRole('link', { name: 'New policy' }).click();
    const form = page.getByRole('form', { name: 'New policy' });
    await form.getByLabel('Name').fill('ops-read');
    await form.getByLabel('Policy (HCL)').fill('path "secret/data/ops/*" { capabilities = ["read", "fly"] }');
    await form.getByRole('button', { name: 'Create policy' }).click();
    const err = form.getByRole('alert');
    await err.waitFor();
    assert.match(await err.innerText(), /fly|capabilit/i, 'the server says what is wrong');
    assert.match(await err.innerText(), /ERR_/);
    assert.equal(await form.getByLabel('Policy (HCL)').getAttribute('aria-invalid'), 'true');
    assert.equal((await root().request('GET', 'sys/policies/acl/ops-read')).status, 404, 'nothing was written');
    assert.deepEqual(await seriousA11yViolations(page), [], 'access: policy error');
    await screenshot(page, 'access-policy-error');

    await form.getByLabel('Policy (HCL)').fill('path "secret/data/ops/*" { capabilities = ["read"] }');
    await form.getByRole('button', { name: 'Create policy' }).click();
    await page.waitForURL(/\/ui\/access\/policies\/ops-read$/);
    await list.getByRole('link', { name: 'ops-read' }).waitFor();
    const edit = page.getByRole('form', { name: 'Edit policy ops-read' });
    await edit.getByLabel('Policy (HCL)').fill('path "secret/data/ops/*" { capabilities = ["read", "list"] }');
    await edit.getByRole('button', { name: 'Save policy' }).click();
    await edit.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const stored = ((await root().request('GET', 'sys/policies/acl/ops-read')).body['data'] as { policy: string }).policy;
    assert.match(stored, /"list"/);
    assert.deepEqual(await seriousA11yViolations(page), [], 'access: policy view');
    await screenshot(page, 'access-policy');

    await page.getByRole('button', { name: 'Delete policy' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete policy ops-read?' });
    await dialog.waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'access: delete confirmation');
    await dialog.getByRole('button', { name: 'Delete policy' }).click();
    await page.waitForURL(/\/ui\/access\/policies$/);
    await list.getByRole('link', { name: 'default' }).waitFor();
    assert.equal(await list.getByRole('link', { name: 'ops-read' }).count(), 0);
    assert.equal((await root().request('GET', 'sys/policies/acl/ops-read')).status, 404);
    await context.close();
  });

  it('looks a token up by accessor and revokes it after confirmation', async () => {
    const made = (await root().write('auth/token/create', { policies: ['default'], display_name: 'ci-deployer' })).body as { auth: { client_token: string; accessor: string } };
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/access/tokens');
    await page.getByRole('region', { name: 'This session’s token' }).getByText('root', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: `Look up accessor ${made.auth.accessor}` }).click();
    await page.getByText('token-ci-deployer', { exact: true }).waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'access: tokens');
    await screenshot(page, 'access-tokens');
    await page.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByRole('dialog', { name: 'Revoke this token?' }).getByRole('button', { name: 'Revoke token' }).click();
    await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
    assert.equal((await w.srv.client(made.auth.client_token).request('GET', 'auth/token/lookup-self')).status, 403, 'revoked');
    assert.ok(!(await page.content()).includes(made.auth.client_token), 'token values are never shown');
    await context.close();
  });

  it('shows entities and groups with their aliases, policies and members', async () => {
    const c = root();
    const e = (await c.request('POST', 'identity/entity', { name: 'dave', policies: ['ops'] })).body['data'] as { id: string };
    await c.request('POST', 'identity/group', { name: 'oncall', policies: ['pager'], member_entity_ids: [e.id] });
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/access/identities');
    await page.getByRole('button', { name: 'dave' }).click();
    const ent = page.getByRole('region', { name: /Entities/ });
    await ent.getByText('ops', { exact: true }).waitFor();
    await ent.getByText('oncall', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'oncall' }).click();
    const grp = page.getByRole('region', { name: /Groups/ });
    await grp.getByText('pager', { exact: true }).waitFor();
    await grp.getByText('dave', { exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'oncall' }).getAttribute('aria-expanded'), 'true');
    assert.deepEqual(await seriousA11yViolations(page), [], 'access: identities');
    await screenshot(page, 'access-identities');
    await context.close();
  });

  it('enables an auth method and disables it after confirmation', async () => {
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/access/auth');
    await page.getByRole('cell', { name: 'auth/token/' }).waitFor();
    const form = page.getByRole('form', { name: 'Enable an auth method' });
    await form.getByLabel('Method type').selectOption('userpass');
    await form.getByLabel('Path').fill('people');
    await form.getByLabel('Description').fill('staff logins');
    await form.getByLabel('Token type').selectOption('default-batch');
    await form.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('cell', { name: 'auth/people/' }).waitFor();
    const mounts = (await root().request('GET', 'sys/auth')).body['data'] as Record<string, { type: string; config: { token_type: string } }>;
    assert.equal(mounts['people/']?.type, 'userpass');
    assert.equal(mounts['people/']?.config.token_type, 'default-batch', "the form's token type reached the mount");
    const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'auth/people/' }) });
    assert.equal(await row.getByRole('cell', { name: 'default-batch' }).count(), 1, 'the table shows it');
    assert.deepEqual(await seriousA11yViolations(page), [], 'access: auth methods');
    await screenshot(page, 'access-auth');
    await page.getByRole('button', { name: 'Disable people/' }).click();
    await page.getByRole('dialog', { name: 'Disable auth/people/?' }).getByRole('button', { name: 'Disable people/' }).click();
    await page.getByRole('status').filter({ hasText: 'Disabled auth/people/' }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'auth/people/' }).count(), 0);
    const after = (await root().request('GET', 'sys/auth')).body['data'] as Record<string, unknown>;
    assert.equal(after['people/'], undefined);
    await context.close();
  });
});
