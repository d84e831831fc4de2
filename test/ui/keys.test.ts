/**
 * The Keys page in a real browser against a real server: key list, a key's versions, rotation (the
 * new version appears and the server has it), the minimum decryption version, and a KMS plugin's
 * posture report (written through the API as `arca kms-plugin --report-interval` writes it) shown
 * with its key_id, health and the transit key version it names; no posture mount = "no reports
 * yet". axe on every state; screenshots.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { pluginSummary, sendReport } from '../../src/k8s/report/index.ts';
import { loginWithToken, newPage, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

type Key = { latest_version: number; min_decryption_version: number; version_ids: Record<string, string> };

async function axeClean(page: Page, state: string): Promise<void> {
  assert.deepEqual(await seriousA11yViolations(page), [], state);
}

describe('web UI: Keys', () => {
  let w: UiWorld;
  before(async () => {
    w = await startUiWorld();
  });
  after(async () => {
    await w?.close();
  });

  const readKey = async (name: string): Promise<Key> => ((await w.srv.client(w.root).read(`transit/keys/${name}`)).body as { data: Key }).data;

  it('lists keys, rotates one (new version on the page and on the server), sets the minimum decryption version', async () => {
    const c = w.srv.client(w.root);
    await c.write('transit/keys/k8s-kek', {});
    await c.write('transit/keys/app-data', {});
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Keys' }).click();
    const list = page.getByRole('list', { name: 'Keys in transit/' });
    await list.getByRole('link', { name: 'k8s-kek' }).waitFor();
    await page.getByText('No reports yet').waitFor(); // no posture mount: not an error
    await axeClean(page, 'key list, no reports');
    await list.getByRole('link', { name: 'k8s-kek' }).click();
    await page.waitForURL(/\/ui\/keys\/transit\/k8s-kek$/);
    const versions = page.getByRole('table', { name: 'Key versions' });
    await versions.getByRole('cell', { name: 'v1', exact: true }).waitFor();
    const before1 = await readKey('k8s-kek');
    await versions.getByText(before1.version_ids['1']!).waitFor();
    await axeClean(page, 'key view');

    await page.getByRole('button', { name: 'Rotate key' }).click();
    await axeClean(page, 'rotate confirmation');
    await page.getByRole('dialog', { name: 'Rotate k8s-kek?' }).getByRole('button', { name: 'Rotate', exact: true }).click();
    await versions.getByRole('cell', { name: 'v2', exact: true }).waitFor();
    const k = await readKey('k8s-kek');
    assert.equal(k.latest_version, 2);
    await versions.getByText(k.version_ids['2']!).waitFor();

    await page.getByLabel('Minimum decryption version', { exact: true }).selectOption('2');
    await page.getByRole('button', { name: 'Set minimum decryption version' }).click();
    await page.getByRole('dialog', { name: /minimum decryption version of k8s-kek to 2/ }).getByRole('button', { name: 'Set', exact: true }).click();
    await versions.getByRole('row').filter({ hasText: 'cannot decrypt' }).waitFor();
    assert.equal((await readKey('k8s-kek')).min_decryption_version, 2);
    await axeClean(page, 'rotated');
    await context.close();
  });

  it('a rotation held by a control group is remembered and said, not run; without sys/mounts the default transit mount is used', async () => {
    const c = w.srv.client(w.root);
    await c.write('transit/keys/held-k', {});
    await c.write('sys/auth/userpass', { type: 'userpass' });
    await c.write('sys/policies/acl/ui-key-admin', {
      policy: `
path "transit/keys/+/rotate" {
  capabilities = ["update"]
  control_group = { ttl = "1h"  factor "key-admins" { identity { group_names = ["ui-key-admins"] approvals = 1 } } }
}
path "transit/keys/*" { capabilities = ["read", "list"] }
path "transit/keys" { capabilities = ["list"] }`,
    });
    const approver = ((await c.write('identity/entity', { name: 'ui-approver' })).body as { data: { id: string } }).data.id;
    await c.write('identity/group', { name: 'ui-key-admins', member_entity_ids: [approver] });
    await c.write('auth/userpass/users/ui-op', { password: 'pw-ui-op-secret', token_policies: ['ui-key-admin'] });
    const login = await w.srv.client().request('POST', 'auth/userpass/login/ui-op', { password: 'pw-ui-op-secret' });
    const token = (login.body as { auth: { client_token: string } }).auth.client_token;

    const { context, page } = await newPage(w);
    await loginWithToken(page, token);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('status').filter({ hasText: 'may not read sys/mounts' }).waitFor();
    await page.getByRole('list', { name: 'Keys in transit/' }).getByRole('link', { name: 'held-k' }).click();
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByRole('dialog', { name: 'Rotate held-k?' }).getByRole('button', { name: 'Rotate', exact: true }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Rotate key held-k needs approval' });
    await notice.waitFor();
    await notice.getByRole('link', { name: 'Approvals' }).waitFor();
    assert.equal((await readKey('held-k')).latest_version, 1, 'held, not run');
    const held = await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('arca.requests'));
    const accessor = (JSON.parse(held ?? '[]') as { accessor: string; what: string }[]).find((r) => r.what === 'Rotate key held-k')?.accessor;
    assert.ok(accessor, 'the held request is remembered for Approvals');
    const pending = await c.request('POST', 'sys/control-group/request', { accessor });
    assert.equal(pending.status, 200, 'the server knows the pending request');
    await page.getByText("Your token may not read the KMS plugins' reports").waitFor(); // 403 on posture/: said, not an error
    await axeClean(page, 'held rotation');
    await screenshot(page, 'keys-held');
    await context.close();
  });

  it("shows which cluster's KMS plugin reports which key_id, and the transit key version it is", async () => {
    const c = w.srv.client(w.root);
    await c.write('transit/keys/kms-kek', {});
    await c.write('transit/keys/kms-kek/rotate', {});
    const key = await readKey('kms-kek');
    await c.write('sys/mounts/posture', { type: 'kv', options: { version: '2' } });
    // What the plugin sends (src/cli/kms-plugin.ts, same functions): its status, node and source; node-b still on v1.
    const status = (keyId: string) => ({ version: 'v2', healthz: 'ok', keyId });
    const prod = { mount: 'posture', cluster: 'prod' };
    await sendReport(c, prod, 'kms-plugin.node-a', pluginSummary(status(key.version_ids['2']!), 'node-a', 'transit/kms-kek'));
    await sendReport(c, prod, 'kms-plugin.node-b', pluginSummary({ ...status(key.version_ids['1']!), healthz: 'error: server unreachable' }, 'node-b', 'transit/kms-kek'));
    await sendReport(c, { mount: 'posture', cluster: 'staging' }, 'kms-plugin.node-c', pluginSummary(status('pkcs11-0011aabb'), 'node-c', 'pkcs11:kek'));

    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.goto('/ui/keys');
    const reports = page.getByRole('table', { name: 'KMS plugin reports' });
    const rowA = reports.getByRole('row').filter({ hasText: 'node-a' });
    await rowA.getByText(key.version_ids['2']!).waitFor();
    await rowA.getByText('latest').waitFor();
    assert.match((await rowA.textContent()) ?? '', /prod.*node-a.*healthy.*transit\/kms-kek v2/);
    const rowB = reports.getByRole('row').filter({ hasText: 'node-b' });
    assert.match((await rowB.textContent()) ?? '', /error: server unreachable.*transit\/kms-kek v1.*behind latest v2/);
    const rowC = reports.getByRole('row').filter({ hasText: 'node-c' });
    assert.match((await rowC.textContent()) ?? '', /staging.*pkcs11-0011aabb.*not a version of a key listed here/);
    await axeClean(page, 'plugin reports');
    await screenshot(page, 'keys-list');

    await page.getByRole('link', { name: 'kms-kek', exact: true }).first().click();
    await page.waitForURL(/\/ui\/keys\/transit\/kms-kek$/);
    await reports.getByRole('row').filter({ hasText: 'node-a' }).waitFor();
    assert.equal(await reports.getByRole('row').filter({ hasText: 'node-c' }).count(), 0, 'the key page shows only its own key_ids');
    await page.getByText('1 other report names other keys').waitFor();
    await axeClean(page, 'key view with reports');
    await screenshot(page, 'keys-key');
    await context.close();
  });
});
