/**
 * Issue 17: `kubectl kustomize deploy/csi-provider/...` output is valid Kubernetes. Built-in kinds
 * are validated with kubernetes-models (validators generated from the Kubernetes OpenAPI schema);
 * the SecretProviderClass CRD, which that package does not model, is checked against the fields
 * of kubernetes-integration.md §4.6, and its `objects` go through the provider's own parser.
 * Cross-object checks: socket name = provider name, the token audience agrees everywhere, no RBAC.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1/CSIDriver';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { parseObjects } from '../../src/k8s/csi/index.ts';
import { REPO_ROOT } from '../harness/arca.ts';
import { execFileP } from '../harness/index.ts';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> } & Record<string, unknown>;
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
  'storage.k8s.io/v1/CSIDriver': CSIDriver,
};

async function build(dir: string): Promise<Obj[]> {
  const { stdout } = await execFileP('kubectl', ['kustomize', join(REPO_ROOT, 'deploy', 'csi-provider', dir)]);
  return parseAllDocuments(stdout).map((d) => {
    assert.equal(d.errors.length, 0, `${dir}: ${d.errors.join('; ')}`);
    return d.toJSON() as Obj;
  });
}

/** SecretProviderClass (secrets-store.csi.x-k8s.io/v1) as the driver validates it. */
function checkSecretProviderClass(o: Obj): ReturnType<typeof parseObjects> {
  const spec = o.spec as { provider?: unknown; parameters?: Record<string, unknown>; secretObjects?: Array<Record<string, unknown>> };
  assert.match(String(spec.provider), /^[a-zA-Z0-9_-]{0,30}$/);
  for (const [k, v] of Object.entries(spec.parameters ?? {})) assert.equal(typeof v, 'string', `parameters.${k} must be a string`);
  const objects = parseObjects(spec.parameters?.['objects'] as string);
  const names = new Set(objects.map((x) => x.objectName));
  for (const so of spec.secretObjects ?? []) {
    assert.ok(so['secretName'] && so['type'] && Array.isArray(so['data']), 'secretName, type and data are required');
    for (const d of so['data'] as Array<{ objectName: string; key: string }>) {
      assert.ok(names.has(d.objectName), `secretObjects names object ${d.objectName}, which the class does not mount`);
      assert.match(d.key, /^[-._a-zA-Z0-9]+$/);
    }
  }
  return objects;
}

function validate(objs: Obj[]): void {
  for (const o of objs) {
    if (o.kind === 'SecretProviderClass') {
      assert.equal(o.apiVersion, 'secrets-store.csi.x-k8s.io/v1');
      checkSecretProviderClass(o);
      continue;
    }
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    assert.ok(Model, `no validator for ${o.apiVersion} ${o.kind}`);
    new Model(o as never).validate();
  }
}

describe('deploy/csi-provider manifests', () => {
  it('base: a valid provider DaemonSet with the socket hostPath, tolerations, small resources, read-only root fs and no RBAC', async () => {
    const objs = await build('base');
    validate(objs);
    assert.deepEqual(objs.map((o) => o.kind).sort(), ['DaemonSet', 'Namespace', 'ServiceAccount']);
    type Container = { args: string[]; image: string; securityContext: Record<string, unknown>; resources: { requests: Record<string, string> }; volumeMounts: Array<{ name: string; mountPath: string }> };
    type PodSpec = { tolerations: unknown[]; automountServiceAccountToken: boolean; containers: Container[]; volumes: Array<{ name: string; hostPath?: { path: string } }> };
    const ds = objs.find((o) => o.kind === 'DaemonSet') as unknown as { spec: { template: { spec: PodSpec } } };
    const pod = ds.spec.template.spec;
    assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
    assert.equal(pod.automountServiceAccountToken, false);
    const c = pod.containers[0] as unknown as { args: string[]; image: string; securityContext: Record<string, unknown>; resources: { requests: Record<string, string> }; volumeMounts: Array<{ name: string; mountPath: string }> };
    assert.equal(c.args[0], 'csi-provider');
    assert.match(c.image, /arca:0\.1\.0$/);
    assert.equal(c.securityContext['readOnlyRootFilesystem'], true);
    assert.equal(c.securityContext['allowPrivilegeEscalation'], false);
    assert.deepEqual(c.securityContext['capabilities'], { drop: ['ALL'] });
    assert.ok(c.resources.requests['cpu'] && c.resources.requests['memory']);
    const sockVol = pod.volumes.find((v) => v.hostPath)!;
    assert.equal(sockVol.hostPath!.path, '/var/run/secrets-store-csi-providers');
    const mountPath = c.volumeMounts.find((m) => m.name === sockVol.name)!.mountPath;
    assert.ok(c.args.includes(`--endpoint=unix://${mountPath}/arca.sock`), 'the socket is <provider>.sock in the hostPath dir');
  });

  it('driver: a valid CSIDriver with podInfoOnMount, requiresRepublish and a token audience', async () => {
    const objs = await build('driver');
    validate(objs);
    const spec = objs[0]!.spec as { podInfoOnMount: boolean; requiresRepublish: boolean; tokenRequests: Array<{ audience: string }> };
    assert.equal(objs[0]!.metadata.name, 'secrets-store.csi.k8s.io');
    assert.equal(spec.podInfoOnMount, true);
    assert.equal(spec.requiresRepublish, true);
    assert.deepEqual(spec.tokenRequests.map((t) => t.audience), ['arca']);
  });

  it('examples: a valid SecretProviderClass (objects parsed by the provider) and a Deployment mounting it read-only, with secretObjects sync', async () => {
    const objs = await build('examples');
    validate(objs);
    const spc = objs.find((o) => o.kind === 'SecretProviderClass')!;
    const spec = spc.spec as { provider: string; parameters: Record<string, string>; secretObjects: unknown[] };
    assert.equal(spec.provider, 'arca');
    assert.equal(spec.parameters['audience'], 'arca', 'the audience the CSIDriver requests tokens for');
    assert.ok(spec.secretObjects.length > 0);
    const objects = checkSecretProviderClass(spc);
    assert.deepEqual(objects.map((o) => o.renderer.format).sort(), ['env', 'raw', 'raw', 'template']);
    const dep = objs.find((o) => o.kind === 'Deployment') as unknown as { metadata: { namespace: string }; spec: { template: { spec: { serviceAccountName: string; volumes: Array<{ csi?: { driver: string; readOnly: boolean; volumeAttributes: Record<string, string> } }> } } } };
    assert.equal(dep.metadata.namespace, spc.metadata.namespace, 'the class is looked up in the pod namespace');
    const vol = dep.spec.template.spec.volumes.find((v) => v.csi)!.csi!;
    assert.deepEqual(vol, { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: spc.metadata.name } });
  });

  it('the checks catch a broken manifest', () => {
    assert.throws(() => validate([{ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'x' }, spec: { template: {} } }]));
    assert.throws(() => validate([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'x' } }]));
    const spc = (objects: string, data: unknown[]) => ({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'x' }, spec: { provider: 'arca', parameters: { objects }, secretObjects: [{ secretName: 's', type: 'Opaque', data }] } });
    assert.throws(() => validate([spc('- {objectName: ../x, secretPath: secret/data/a}', [])]));
    assert.throws(() => validate([spc('- {objectName: a, secretPath: secret/data/a}', [{ objectName: 'b', key: 'b' }])]));
  });
});
