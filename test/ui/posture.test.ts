/**
 * Posture page (issue #21) against real parts: a real etcd holding Kubernetes-shaped values (some
 * plaintext, some aesgcm/aescbc under an EncryptionConfiguration, one stale, one undecryptable),
 * `arca etcd scan --report` run twice as a child process with a change in between (two history
 * points), `arca check --report` against fixture files, KMS plugin reports in the exact shape the
 * plugin writes (pluginSummary), a rotated transit key; then Chromium, signed in with a token that
 * holds only the reader policy the page documents, shows the counts, the flagged resource, key_ids,
 * findings by severity, the history and the last rotation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTransformers, parseEncryptionConfig } from '../../src/k8s/encryption/index.ts';
import { connectEtcd } from '../../src/k8s/etcd/index.ts';
import { nodeSegment, pluginSummary } from '../../src/k8s/report/index.ts';
import { startPlugin } from '../../src/kms-plugin/testing.ts';
import { ARCA_BIN } from '../harness/arca.ts';
import { type EtcdHandle, startEtcd, tempDir, waitFor } from '../harness/index.ts';
import { estimateInterval, freshness, parseKeyRead, parseScan, scanVerdicts, transitKeyOf, versionOfKeyId } from '../../web/src/pages/posture/derive.ts';
import { loginWithToken, newPage, screenshot, seriousA11yViolations, startUiWorld, type UiWorld } from './harness.ts';

const b64 = (n: number, fill: number) => Buffer.alloc(n, fill).toString('base64');
const K_NEW = b64(32, 2);
const K_OLD = b64(32, 1);
const K_CBC = b64(32, 3);
/** The node name the real KMS plugin reports under. */
const host = nodeSegment(hostname());

function arca(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(ARCA_BIN, args, { maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 2) : 0, stdout, stderr }),
    );
  });
}

const config = (secrets: unknown[], configmaps: unknown[]) => ({
  kind: 'EncryptionConfiguration',
  apiVersion: 'apiserver.config.k8s.io/v1',
  resources: [
    { resources: ['secrets'], providers: secrets },
    { resources: ['configmaps'], providers: configmaps },
  ],
});

describe('posture page derivations', () => {
  it('estimates a plugin interval from report versions and calls a report stale after 3 intervals', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const times = [0, 30_000, 60_000, 90_000].map((d) => new Date(t0 + d).toISOString());
    assert.equal(estimateInterval(times), 30_000);
    assert.equal(estimateInterval(times.slice(0, 1)), undefined);
    const at = new Date(t0 + 90_000).toISOString();
    assert.equal(freshness(at, times, t0 + 90_000 + 89_000).stale, false);
    assert.equal(freshness(at, times, t0 + 90_000 + 91_000).stale, true);
    // One version: the documented 1m interval is assumed, so stale after 3 minutes.
    const one = freshness(at, [at], t0 + 90_000 + 170_000);
    assert.deepEqual([one.stale, one.estimated, one.thresholdMs], [false, false, 180_000]);
    assert.equal(freshness('not a time', [], t0).stale, true);
  });

  it('puts plaintext first in the verdict and says all-current only when nothing else is wrong', () => {
    const scan = (byState: object, byResource: object = {}) => parseScan({ kind: 'etcd-scan', at: '', total: 5, byState, byProvider: {}, byResource });
    const bad = scanVerdicts(scan({ plaintext: 2, stale: 1, current: 2 }, { secrets: { plaintext: 1, stale: 1, current: 2 }, configmaps: { plaintext: 1 } }));
    assert.deepEqual(
      bad.map((v) => v.tone),
      ['bad', 'warn'],
    );
    assert.equal(bad[0]!.text, '2 objects stored in plaintext: configmaps (1), secrets (1).');
    assert.deepEqual(scanVerdicts(scan({ current: 5 })), [{ tone: 'ok', text: 'All 5 objects encrypted with the current key.' }]);
    // A scan of secrets only speaks of secrets (the "All 123 secrets encrypted with the current key").
    assert.deepEqual(scanVerdicts(scan({ current: 5 }, { secrets: { current: 5 } })), [{ tone: 'ok', text: 'All 5 secrets encrypted with the current key.' }]);
    assert.equal(scanVerdicts(scan({ plaintext: 1, current: 4 }, { secrets: { plaintext: 1, current: 4 } }))[0]!.text, '1 secret stored in plaintext.');
    assert.equal(scanVerdicts(undefined)[0]!.tone, 'neutral');
    assert.equal(parseScan({ kind: 'check' }), undefined, 'another report kind is not read as a scan');
  });

  it('finds the transit key of a plugin source and the version of a key_id; HSM sources have none', () => {
    assert.deepEqual(transitKeyOf('transit/k8s-kek'), { mount: 'transit', key: 'k8s-kek' });
    assert.deepEqual(transitKeyOf('kms/prod/kek'), { mount: 'kms/prod', key: 'kek' });
    assert.equal(transitKeyOf('pkcs11/token/label'), undefined);
    assert.equal(transitKeyOf('memory'), undefined);
    const k = parseKeyRead({ latest_version: 2, keys: { '1': 100, '2': 200 }, version_ids: { '1': 'id-1', '2': 'id-2' }, min_decryption_version: 1 })!;
    assert.equal(versionOfKeyId(k, 'id-1'), 1);
    assert.equal(versionOfKeyId(k, 'none'), undefined);
  });
});

describe('web UI posture page', () => {
  let w: UiWorld;
  let etcd: EtcdHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let writer: string;
  let auditor: string;
  let root: ReturnType<UiWorld['srv']['client']>;

  before(async () => {
    [w, etcd, dir] = await Promise.all([startUiWorld(), startEtcd(), tempDir('arca-ui-posture-')]);
  });
  after(async () => {
    await etcd?.stop();
    await w?.close();
    root?.close();
    await dir?.remove();
  });

  it('shows the commands to produce reports when there are none', async () => {
    const { context, page } = await newPage(w);
    await loginWithToken(page, w.root);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Posture' }).click();
    await page.getByRole('heading', { name: 'No posture reports yet' }).waitFor();
    assert.match((await page.locator('.posture-empty').textContent()) ?? '', /etcd scan .*--report --cluster prod/);
    assert.deepEqual(await seriousA11yViolations(page), []);
    await screenshot(page, 'posture-empty');
    await context.close();
  });

  it('shows etcd encryption by state and resource with history, plugins, findings and last rotation', async () => {
    root = w.srv.client(w.root);
    await root.write('sys/mounts/posture', { type: 'kv', options: { version: '2' } });
    await root.write('transit/keys/k8s-kek', {});
    await root.write('transit/keys/k8s-kek/rotate', {});
    const ids = ((await root.read('transit/keys/k8s-kek')).body['data'] as { version_ids: Record<string, string> }).version_ids;
    await root.write('sys/policies/acl/posture-writer', { policy: 'path "posture/data/prod/*" { capabilities = ["create", "update"] }' });
    // The reader policy the page documents (docs/ui.md): list clusters and sources, read reports and the KEK.
    await root.write('sys/policies/acl/posture-auditor', {
      policy: ['path "posture/metadata/*" { capabilities = ["read", "list"] }', 'path "posture/data/*" { capabilities = ["read"] }', 'path "transit/keys/k8s-kek" { capabilities = ["read"] }'].join('\n'),
    });
    const token = async (p: string) => ((await root.write('auth/token/create', { policies: [p] })).body['auth'] as { client_token: string }).client_token;
    writer = await token('posture-writer');
    auditor = await token('posture-auditor');

    // etcd: secrets under aesgcm (current key first, old key second), configmaps under aescbc.
    const readerCfg = config(
      [{ aesgcm: { keys: [{ name: 'k-new', secret: K_NEW }, { name: 'k-old', secret: K_OLD }] } }, { identity: {} }],
      [{ aescbc: { keys: [{ name: 'c1', secret: K_CBC }] } }, { identity: {} }],
    );
    const encFile = join(dir.path, 'enc.json');
    await writeFile(encFile, JSON.stringify(readerCfg), { mode: 0o600 });
    const writers = {
      current: buildTransformers(parseEncryptionConfig(JSON.stringify(config([{ aesgcm: { keys: [{ name: 'k-new', secret: K_NEW }] } }], [{ aescbc: { keys: [{ name: 'c1', secret: K_CBC }] } }])))),
      old: buildTransformers(parseEncryptionConfig(JSON.stringify(config([{ aesgcm: { keys: [{ name: 'k-old', secret: K_OLD }] } }], [{ identity: {} }])))),
      gone: buildTransformers(parseEncryptionConfig(JSON.stringify(config([{ aesgcm: { keys: [{ name: 'gone', secret: b64(32, 9) }] } }], [{ identity: {} }])))),
    };
    const ec = await connectEtcd({ endpoints: [etcd.endpoint] });
    const obj = (kind: string, name: string) => Buffer.from(`k8s\0\n\x02v1\x12\x06${kind} ${name} ${'x'.repeat(64)}`);
    const put = async (how: keyof typeof writers | 'plain', resource: 'secrets' | 'configmaps', name: string) => {
      const key = `/registry/${resource}/prod/${name}`;
      const plain = obj(resource === 'secrets' ? 'Secret' : 'ConfigMap', name);
      const value = how === 'plain' ? plain : Buffer.from(await writers[how].forResource(resource).transformer.toStorage(plain, Buffer.from(key)));
      await ec.put(key).value(value);
    };
    await put('current', 'secrets', 'a');
    await put('current', 'secrets', 'b');
    await put('old', 'secrets', 'c');
    await put('plain', 'secrets', 'd');
    await put('gone', 'secrets', 'e');
    await put('current', 'configmaps', 'x');
    await put('plain', 'configmaps', 'y');

    const scanArgs = ['etcd', 'scan', '--endpoints', etcd.endpoint, '--encryption-config', encFile, '--workers', '0', '--report', '--cluster', 'prod', '--addr', w.srv.addr, '--token', writer];
    const first = await arca(scanArgs);
    assert.match(first.stderr, /report: posture\/data\/prod\/etcd-scan/, first.stderr);
    // The change between the scans: the plaintext secret is encrypted, one more secret is written.
    await put('current', 'secrets', 'd');
    await put('current', 'secrets', 'f');
    const second = await arca(scanArgs);
    assert.match(second.stderr, /report: posture\/data\/prod\/etcd-scan/, second.stderr);
    ec.close();

    await writeFile(join(dir.path, 'objects.yaml'), 'kind: Pod\nmetadata: {name: web, namespace: shop}\nspec: {serviceAccountName: api, containers: [{name: a, image: a}]}\n');
    // `ss -ltn` of a node with the insecure port open: CPH-PORT-01 fails as critical.
    await writeFile(join(dir.path, 'ss.txt'), 'State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0      4096         0.0.0.0:8080      0.0.0.0:*\n');
    const check = await arca(['check', 'control-plane', '--manifests', join(dir.path, 'none'), '--listeners', join(dir.path, 'ss.txt'), '--objects', join(dir.path, 'objects.yaml'), '--report', '--cluster', 'prod', '--addr', w.srv.addr, '--token', writer]);
    assert.match(check.stderr, /report: posture\/data\/prod\/check/, check.stderr);
    const stored = ((await root.read('posture/data/prod/check')).body['data'] as { data: { failedBySeverity: Record<string, number> } }).data;
    assert.ok((stored.failedBySeverity['high'] ?? 0) + (stored.failedBySeverity['critical'] ?? 0) > 0, 'the fixture fails a severe finding');

    // A real `arca kms-plugin --report-interval` on this host reports the new key version's key_id
    // (once at start; the long interval keeps it to one version). node-b's report, in the exact
    // shape the plugin writes (pluginSummary), has been silent for two hours and is on version 1.
    await writeFile(join(dir.path, 'token'), `${w.root}\n`, { mode: 0o600 });
    const plugin = await startPlugin(join(dir.path, 'kms.sock'), ['--key', 'k8s-kek', '--addr', w.srv.addr, '--token-file', join(dir.path, 'token'), '--report-interval', '1h', '--cluster', 'prod']);
    try {
      // The plugin checks its key before serving, so its first report is already healthy.
      await waitFor('a healthy plugin report', async () => {
        const r = await root.request('GET', `posture/data/prod/kms-plugin.${host}`);
        return r.status === 200 && (r.body['data'] as { data?: { healthz?: string } }).data?.healthz === 'ok';
      }, 60_000, 100);
    } finally {
      await plugin.stop();
    }
    const old = pluginSummary({ version: 'v2', healthz: 'ok', keyId: ids['1']! }, 'node-b', 'transit/k8s-kek', new Date(Date.now() - 2 * 3600_000));
    await root.write('posture/data/prod/kms-plugin.node-b', { data: old });

    const { context, page } = await newPage(w);
    await loginWithToken(page, auditor);
    await page.goto('/ui/posture');
    await page.waitForURL(/\/ui\/posture\/prod$/);
    assert.equal(await page.getByLabel('Cluster', { exact: true }).inputValue(), 'prod');

    const verdicts = page.locator('.posture-verdicts .verdict');
    await verdicts.first().waitFor();
    assert.match((await verdicts.first().textContent()) ?? '', /Problem.*1 object stored in plaintext: configmaps \(1\)/);
    const all = (await verdicts.allTextContents()).join('\n');
    assert.match(all, /1 object cannot be decrypted/);
    assert.match(all, /1 object encrypted with an old key \(stale\): secrets \(1\)/);
    assert.match(all, /No recent KMS plugin report from node-b/);

    const states: string[] = [];
    for (const li of await page.getByRole('list', { name: 'Objects by state' }).getByRole('listitem').all()) {
      states.push(`${await li.locator('.count').textContent()} ${await li.locator('.badge').textContent()}`);
    }
    assert.deepEqual(states, ['1 Plaintext', '1 Undecryptable', '1 Stale key', '5 Current key']);
    const resources = page.getByRole('table', { name: 'Objects by resource' });
    const cm = resources.getByRole('row', { name: /configmaps/ });
    assert.match((await cm.textContent()) ?? '', /has plaintext/);
    assert.deepEqual(await cm.getByRole('cell').allTextContents(), ['1', '0', '0', '1', '2']);
    const sec = resources.getByRole('row', { name: /secrets/ });
    assert.deepEqual(await sec.getByRole('cell').allTextContents(), ['0', '1', '1', '4', '6']);
    assert.doesNotMatch((await sec.textContent()) ?? '', /has plaintext/);

    const history = page.getByRole('table', { name: 'History' });
    await history.waitFor();
    assert.equal(await history.locator('tbody tr').count(), 2);
    assert.deepEqual(await history.locator('tbody tr').nth(0).getByRole('cell').allTextContents().then((c) => c.slice(1)), ['2', '1', '1', '3', '7']);
    assert.deepEqual(await history.locator('tbody tr').nth(1).getByRole('cell').allTextContents().then((c) => c.slice(1)), ['1', '1', '1', '5', '8']);
    assert.equal(await page.locator('svg.posture-history g[data-version]').count(), 2);

    const plugins = page.getByRole('table', { name: 'KMS plugins by node' });
    const a = plugins.getByRole('row', { name: new RegExp(`^${host.replace(/[.]/g, '\\.')} `) });
    assert.match((await a.textContent()) ?? '', new RegExp(`healthy.*${ids['2']}.*fresh`));
    assert.match((await plugins.getByRole('row', { name: /^node-b / }).textContent()) ?? '', /stale report.*stale after 3 min/);

    const rotation = page.getByRole('region', { name: 'Last rotation' });
    await rotation.getByText(/last rotated/).waitFor();
    assert.match((await rotation.textContent()) ?? '', /version 2 created/);
    assert.match((await rotation.textContent()) ?? '', /node-b: still on v1 of 2/);
    assert.match((await rotation.textContent()) ?? '', new RegExp(`${host.replace(/[.]/g, '\\.')}: on the latest version \\(v2\\)`));

    const sev = await page.getByRole('list', { name: 'Failed findings by severity' }).getByRole('listitem').allTextContents();
    assert.deepEqual(
      sev,
      ['critical', 'high', 'medium', 'low', 'info'].map((s) => `${s}: ${stored.failedBySeverity[s] ?? 0}`),
    );
    const failed = page.getByRole('table', { name: 'Failed findings' });
    assert.match((await failed.getByRole('row', { name: /CPH-PORT-01/ }).textContent()) ?? '', /critical/);
    assert.match((await failed.getByRole('row', { name: /CPH-POD-01/ }).textContent()) ?? '', /medium/);
    assert.match(all, /1 critical or high hardening finding failed/);

    assert.deepEqual(await seriousA11yViolations(page), []);
    await screenshot(page, 'posture-cluster');
    // The second screenshot starts at the plugins: plugins, last rotation and findings in one view.
    await page.getByRole('heading', { name: 'KMS plugins' }).evaluate((el) => (el as unknown as { scrollIntoView(o: unknown): void }).scrollIntoView({ block: 'start' }));
    await screenshot(page, 'posture-plugins');
    await context.close();
  });

  it('says what a token may not read: the KEK rotation as unknown, the cluster list as permission denied', async () => {
    await root.write('sys/policies/acl/posture-no-kek', {
      policy: 'path "posture/metadata/*" { capabilities = ["read", "list"] }\npath "posture/data/*" { capabilities = ["read"] }',
    });
    const noKek = ((await root.write('auth/token/create', { policies: ['posture-no-kek'] })).body['auth'] as { client_token: string }).client_token;
    const nothing = ((await root.write('auth/token/create', { policies: ['default'] })).body['auth'] as { client_token: string }).client_token;
    const { context, page } = await newPage(w);
    await loginWithToken(page, noKek);
    await page.goto('/ui/posture/prod');
    const rotation = page.getByRole('region', { name: 'Last rotation' });
    await rotation.getByText(/unknown/).waitFor();
    assert.match((await rotation.textContent()) ?? '', /transit\/keys\/k8s-kek: unknown — Permission denied/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await loginWithToken(page, nothing);
    await page.goto('/ui/posture');
    await page.getByRole('alert').filter({ hasText: /Permission denied/ }).waitFor();
    assert.deepEqual(await seriousA11yViolations(page), []);
    await context.close();
  });
});
