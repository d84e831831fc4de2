/**
 * deploy/injector renders with `kubectl kustomize`, every object validates against the validators
 * generated from the Kubernetes OpenAPI schema (kubernetes-models), and the webhook configuration
 * has the properties the issue asks for — above all, it can never be called for its own pods.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../harness/arca.ts';
import { execFileP } from '../harness/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: test-side traversal of rendered manifests
type Obj = Record<string, any>;

const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
};

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/injector (kustomize base)', () => {
  let objs: Obj[];
  const one = (kind: string) => {
    const found = objs.filter((o) => o.kind === kind);
    assert.equal(found.length, 1, kind);
    return found[0]!;
  };

  before(async () => {
    const { stdout } = await execFileP('kubectl', ['kustomize', join(REPO_ROOT, 'deploy/injector')], { maxBuffer: 8 << 20 });
    objs = parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
  });

  it('renders objects that each validate against the OpenAPI-generated models', () => {
    assert.deepEqual(objs.map((o) => o.kind).sort(), ['Deployment', 'MutatingWebhookConfiguration', 'Namespace', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    for (const o of objs) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      assert.ok(Model, `no validator for ${o.apiVersion}/${o.kind}`);
      new Model(o as never).validate();
    }
    // The validator is not a rubber stamp: a broken copy fails.
    const broken = structuredClone(one('Deployment'));
    broken.spec.replicas = 'two';
    assert.throws(() => new Deployment(broken as never).validate());
  });

  it('the webhook excludes its own namespace, kube-system and its own pods, and only sees opted-in pod CREATEs', () => {
    const mwc = one('MutatingWebhookConfiguration');
    const svc = one('Service');
    const dep = one('Deployment');
    assert.equal(mwc.webhooks.length, 1);
    const w = mwc.webhooks[0];
    assert.equal(w.sideEffects, 'None');
    assert.deepEqual(w.admissionReviewVersions, ['v1']);
    assert.ok(['Fail', 'Ignore'].includes(w.failurePolicy));
    assert.ok(w.timeoutSeconds >= 1 && w.timeoutSeconds <= 10, 'timeout well under the API server limit');
    assert.ok(['Never', 'IfNeeded'].includes(w.reinvocationPolicy));
    assert.deepEqual(w.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    assert.deepEqual({ ns: w.clientConfig.service.namespace, name: w.clientConfig.service.name, path: w.clientConfig.service.path }, { ns: svc.metadata.namespace, name: svc.metadata.name, path: '/mutate' });
    const nsExcluded = w.namespaceSelector.matchExpressions.find((e: Obj) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn');
    assert.ok(nsExcluded.values.includes(dep.metadata.namespace), "the injector's own namespace is excluded");
    assert.ok(nsExcluded.values.includes('kube-system'));
    const own = w.objectSelector.matchExpressions.find((e: Obj) => e.operator === 'NotIn');
    assert.equal(dep.spec.template.metadata.labels[own.key] !== undefined && own.values.includes(dep.spec.template.metadata.labels[own.key]), true, "the injector's own pods are excluded by label");
    assert.match(w.matchConditions[0].expression, /'arca\.dev\/inject'/);
  });

  it('runs highly available: 2 replicas spread by anti-affinity, a PDB and a Service that select them', () => {
    const dep = one('Deployment');
    const labels = dep.spec.template.metadata.labels;
    assert.equal(dep.spec.replicas, 2);
    const anti = dep.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    assert.equal(anti.topologyKey, 'kubernetes.io/hostname');
    assert.ok(labelsMatch(anti.labelSelector.matchLabels, labels));
    const pdb = one('PodDisruptionBudget');
    assert.equal(pdb.spec.minAvailable, 1);
    assert.ok(labelsMatch(pdb.spec.selector.matchLabels, labels));
    assert.ok(labelsMatch(one('Service').spec.selector, labels));
    const c = dep.spec.template.spec.containers[0];
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.readinessProbe.httpGet.scheme, 'HTTPS');
    assert.equal(dep.spec.template.spec.volumes[0].secret.defaultMode, 0o440);
    assert.equal(one('ServiceAccount').automountServiceAccountToken, false, 'the injector calls no Kubernetes API');
  });
});
