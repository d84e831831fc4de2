import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rangesFor, resourceLabel, resourceOfKey } from './resource.ts';
import { matchesResources } from './scan.ts';

describe('etcd key → resource', () => {
  const cases: [string, string][] = [
    ['/registry/secrets/default/db', 'secrets'],
    ['/registry/configmaps/kube-system/c', 'configmaps'],
    ['/registry/namespaces/default', 'namespaces'],
    ['/registry/deployments/default/web', 'deployments.apps'],
    ['/registry/services/specs/default/kubernetes', 'services'],
    ['/registry/services/endpoints/default/kubernetes', 'endpoints'],
    ['/registry/minions/node-1', 'nodes'],
    ['/registry/ingress/default/i', 'ingresses.networking.k8s.io'],
    ['/registry/stable.example.com/crontabs/default/c', 'crontabs.stable.example.com'],
    ['/registry/apiregistration.k8s.io/apiservices/v1.apps', 'apiservices.apiregistration.k8s.io'],
  ];
  for (const [key, want] of cases) it(`maps ${key} to ${want}`, () => assert.equal(resourceLabel(resourceOfKey(key, '/registry/')), want));
  it('honours a custom --etcd-prefix', () => {
    assert.equal(resourceLabel(resourceOfKey('/43da/registry/secrets/ns/n', '/43da/registry/')), 'secrets');
  });
  it('matches resource filters with wildcards like the config does', () => {
    assert.ok(matchesResources({ resource: 'secrets' }, ['secrets']));
    assert.ok(matchesResources({ resource: 'secrets' }, ['*.']));
    assert.ok(!matchesResources({ resource: 'deployments.apps' }, ['*.']));
    assert.ok(matchesResources({ resource: 'deployments.apps' }, ['*.apps']));
    assert.ok(matchesResources({ resource: 'crontabs.stable.example.com' }, ['*.*']));
    assert.ok(!matchesResources({ resource: 'configmaps' }, ['secrets']));
  });
  it('reads only the needed key ranges when it can', () => {
    assert.deepEqual(rangesFor(['secrets', 'configmaps'], '/registry/'), ['/registry/configmaps/', '/registry/secrets/']);
    assert.deepEqual(rangesFor(['crontabs.stable.example.com'], '/registry/'), ['/registry/stable.example.com/crontabs/']);
    assert.equal(rangesFor(['deployments.apps'], '/registry/'), undefined);
    assert.equal(rangesFor(['*.'], '/registry/'), undefined);
  });
});
