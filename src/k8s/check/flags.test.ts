import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loadContext, parseListeners } from './context.ts';
import { APISERVER_FLAGS, Flags, parseFlags } from './flags.ts';
import { memoryHost } from './host.ts';
import { argsFromEnvFile, loadKubelet } from './kubelet.ts';
import { hostPathOf, ManifestError, parseObjects, parseStaticPod } from './manifest.ts';

const api = (argv: string[]) => new Flags(parseFlags(argv, APISERVER_FLAGS), 'kube-apiserver.yaml');

describe('pflag semantics', () => {
  it('the last scalar occurrence wins, in both --n=v and --n v forms', () => {
    const f = api(['kube-apiserver', '--profiling=true', '--profiling=false', '--etcd-cafile', '/a', '--etcd-cafile=/b']);
    assert.equal(f.bool('profiling', true), false);
    assert.equal(f.get('etcd-cafile'), '/b');
    assert.equal(f.parsed.command, 'kube-apiserver');
  });
  it('string-slice flags accumulate and split on commas; string-array flags do not split', () => {
    const f = api(['--authorization-mode=Node,RBAC', '--authorization-mode=AlwaysAllow', '--service-account-issuer=a,b', '--service-account-issuer=c']);
    assert.deepEqual(f.list('authorization-mode'), ['Node', 'RBAC', 'AlwaysAllow']);
    assert.deepEqual(f.list('service-account-issuer'), ['a,b', 'c']);
  });
  it('a bare boolean is true and "--bool false" is true plus a stray argument', () => {
    const f = api(['--anonymous-auth', 'false', '--profiling']);
    assert.equal(f.bool('anonymous-auth', false), true);
    assert.equal(f.bool('profiling', false), true);
    assert.deepEqual(f.parsed.stray, [{ arg: 'false', after: 'anonymous-auth' }]);
  });
  it('absent flags take the caller default', () => {
    assert.equal(api([]).bool('anonymous-auth', true), true);
    assert.match(api([]).ev('anonymous-auth'), /absent/);
  });
});

describe('static pods', () => {
  it('maps container paths to host paths through the longest hostPath mount', () => {
    const pod = parseStaticPod(
      [
        'spec:',
        '  containers:',
        '  - command: [kube-apiserver, --encryption-provider-config=/etc/kubernetes/enc/enc.yaml]',
        '    volumeMounts: [{name: a, mountPath: /etc/kubernetes}, {name: b, mountPath: /etc/kubernetes/enc}]',
        '  volumes: [{name: a, hostPath: {path: /srv/k8s}}, {name: b, hostPath: {path: /etc/kubernetes/encryption}}]',
      ].join('\n'),
      '/m/kube-apiserver.yaml',
      APISERVER_FLAGS,
    );
    assert.equal(hostPathOf(pod, '/etc/kubernetes/enc/enc.yaml'), '/etc/kubernetes/encryption/enc.yaml');
    assert.equal(hostPathOf(pod, '/etc/kubernetes/pki/ca.crt'), '/srv/k8s/pki/ca.crt');
    assert.equal(hostPathOf(pod, '/etc/kubernetes-other/x'), '/etc/kubernetes-other/x');
  });
});

describe('kubelet layers', () => {
  const host = memoryHost(
    new Map([
      ['/k/config.yaml', { mode: 0o600, content: 'readOnlyPort: 10255\ntlsCipherSuites: [A, B]\n' }],
      ['/k/conf.d/10-a.conf', { mode: 0o600, content: 'tlsCipherSuites: [C]\nreadOnlyPort: 0\n' }],
      ['/k/conf.d/20-b.conf', { mode: 0o600, content: 'readOnlyPort: 12345\n' }],
      ['/k/conf.d/30-ignored.yaml', { mode: 0o600, content: 'readOnlyPort: 1\n' }],
    ]),
  );
  it('config file defaults are secure when a file is used; legacy flag defaults are not', async () => {
    const withFile = (await loadKubelet(host, { args: ['--config=/k/config.yaml'] })).kubelet;
    assert.equal(withFile.value('authentication.anonymous.enabled'), false);
    assert.equal(withFile.value('authorization.mode'), 'Webhook');
    const noFile = (await loadKubelet(host, { args: ['--kubeconfig=/x'] })).kubelet;
    assert.equal(noFile.value('authentication.anonymous.enabled'), true);
    assert.equal(noFile.value('readOnlyPort'), 10255);
  });
  it('drop-ins (*.conf, name order) override the file, lists replace, and flags override everything', async () => {
    const k = (await loadKubelet(host, { args: ['--config=/k/config.yaml', '--config-dir=/k/conf.d'] })).kubelet;
    assert.equal(k.value('readOnlyPort'), 12345);
    assert.deepEqual(k.value('tlsCipherSuites'), ['C']);
    const f = (await loadKubelet(host, { args: ['--config=/k/config.yaml', '--config-dir=/k/conf.d', '--read-only-port=0'] })).kubelet;
    assert.equal(f.value('readOnlyPort'), 0);
    assert.match(f.ev('readOnlyPort'), /kubelet flags/);
  });
});

describe('kubelet command line from kubeadm files', () => {
  it('reads env files and systemd drop-ins, ignoring $VAR references', () => {
    const dropIn = [
      '[Service]',
      'Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"',
      'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"',
      'EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env',
      'ExecStart=',
      'ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS --read-only-port=0',
    ].join('\n');
    assert.deepEqual(argsFromEnvFile(dropIn), [
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--kubeconfig=/etc/kubernetes/kubelet.conf',
      '--config=/var/lib/kubelet/config.yaml',
      '--read-only-port=0',
    ]);
    assert.deepEqual(argsFromEnvFile('KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock --pod-infra-container-image=pause:3.10"\n'), [
      '--container-runtime-endpoint=unix:///run/containerd/containerd.sock',
      '--pod-infra-container-image=pause:3.10',
    ]);
  });

  it('finds the config file named in the systemd drop-in when kubeadm-flags.env lacks --config', async () => {
    const host = memoryHost(
      new Map([
        ['/var/lib/kubelet/kubeadm-flags.env', { mode: 0o644, content: 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/c.sock"\n' }],
        ['/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', { mode: 0o644, content: 'Environment="KUBELET_CONFIG_ARGS=--config=/srv/kubelet.yaml"\n' }],
        ['/srv/kubelet.yaml', { mode: 0o600, content: 'kind: KubeletConfiguration\n' }],
      ]),
    );
    const ctx = await loadContext(host, { manifestsDir: '/etc/kubernetes/manifests', pkiDir: '/etc/kubernetes/pki' });
    assert.equal(ctx.kubelet?.configPath, '/srv/kubelet.yaml');
    assert.equal(ctx.kubelet?.value('authentication.anonymous.enabled'), false);
  });

  it('an unreadable --config leaves the kubelet checks skipped instead of judged by defaults', async () => {
    const host = memoryHost(new Map([['/var/lib/kubelet/kubeadm-flags.env', { mode: 0o644, content: 'A="--config=/missing.yaml"\n' }]]));
    const ctx = await loadContext(host, { manifestsDir: '/m', pkiDir: '/p' });
    assert.equal(ctx.kubelet, undefined);
    assert.ok(ctx.problems.some((p) => p.includes('/missing.yaml')));
  });
});

describe('parsers do not crash on arbitrary input', () => {
  it('parseFlags, parseStaticPod, parseListeners, argsFromEnvFile, parseObjects', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.string(), (argv, text) => {
        parseFlags(argv, APISERVER_FLAGS);
        parseListeners(text);
        argsFromEnvFile(text);
        parseObjects(text);
        try {
          parseStaticPod(text, '/m/x.yaml', APISERVER_FLAGS);
        } catch (err) {
          if (!(err instanceof ManifestError)) throw err;
        }
      }),
      { numRuns: 300 },
    );
  });
});
