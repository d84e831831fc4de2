/**
 * Table-driven over AdmissionReview fixtures (testdata/): each patch is applied to the original
 * pod with an independent JSON Patch implementation (fast-json-patch), and the result is validated
 * as a v1.Pod by kubernetes-models (validators generated from the Kubernetes OpenAPI schema).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import jsonpatch from 'fast-json-patch';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { type InjectorOptions, handleReview, handleReviewBody, escapePointer } from './index.ts';

const OPTS: InjectorOptions = {
  arcaAddr: 'https://arca.arca-system.svc:8200',
  agentImage: 'registry.example.dev/arca:0.1.0',
  audience: 'arca',
  authMount: 'kubernetes',
  tokenExpirySeconds: 600,
  defaultRunAsUser: 65532,
};

// biome-ignore lint/suspicious/noExplicitAny: test-side traversal of JSON documents
type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'));

interface Result {
  status: number;
  response: Json;
  ops: Json[] | undefined;
  pod: Json;
  patched: Json;
}

function run(name: string, opts: InjectorOptions = OPTS): Result {
  const review = fixture(name);
  const a = handleReview(structuredClone(review), opts);
  const response = (a.body as Json).response;
  assert.equal((a.body as Json).apiVersion, 'admission.k8s.io/v1');
  assert.equal((a.body as Json).kind, 'AdmissionReview');
  assert.equal(response.uid, review.request.uid, 'the response carries the request uid');
  let ops: Json[] | undefined;
  let patched = review.request.object;
  if (response.patch !== undefined) {
    assert.equal(response.patchType, 'JSONPatch');
    ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
    // validateOperation=true: fast-json-patch refuses an add whose parent is missing, as the API server does.
    patched = jsonpatch.applyPatch(structuredClone(review.request.object), ops as jsonpatch.Operation[], true, false).newDocument;
    new PodModel(patched as never).validate();
  } else {
    assert.equal(response.patchType, undefined, 'patch and patchType come together');
  }
  return { status: a.status, response, ops, pod: review.request.object, patched };
}

const names = (cs: Json[] | undefined) => (cs ?? []).map((c) => c.name);
const mount = (c: Json, volume: string) => (c.volumeMounts ?? []).find((m: Json) => m.name === volume);
const flag = (cmd: string[], f: string) => cmd.filter((_, i) => cmd[i - 1] === f);

describe('injector mutation over AdmissionReview fixtures', () => {
  it('minimal pod: creates the missing arrays, agent init first, native sidecar, memory emptyDir, Arca-audience token', () => {
    const r = run('minimal.json');
    assert.equal(r.status, 200);
    assert.equal(r.response.allowed, true);
    // No initContainers/volumes/volumeMounts existed: each must be added whole, not appended to.
    for (const p of ['/spec/initContainers', '/spec/volumes', '/spec/containers/0/volumeMounts']) {
      assert.ok(r.ops!.some((o) => o.op === 'add' && o.path === p && Array.isArray(o.value)), p);
    }
    assert.ok(r.ops!.some((o) => o.path === '/metadata/annotations/arca.dev~1status' && o.value === 'injected'));
    const s = r.patched.spec;
    assert.deepEqual(names(s.initContainers), ['arca-agent-init', 'arca-agent']);
    assert.equal(s.initContainers[0].restartPolicy, undefined);
    assert.equal(s.initContainers[1].restartPolicy, 'Always', 'refresh runs as a native sidecar');
    assert.deepEqual(names(s.containers), ['api'], 'no classic sidecar unless asked');
    const vol = Object.fromEntries(s.volumes.map((v: Json) => [v.name, v]));
    assert.deepEqual(vol['arca-secrets'].emptyDir, { medium: 'Memory' });
    const tok = vol['arca-token'].projected.sources[0].serviceAccountToken;
    assert.deepEqual(tok, { audience: 'arca', expirationSeconds: 600, path: 'token' });
    assert.deepEqual(mount(s.containers[0], 'arca-secrets'), { name: 'arca-secrets', mountPath: '/arca/secrets', readOnly: true });
    assert.equal(mount(s.containers[0], 'arca-token'), undefined, 'the app does not get the Arca token in file mode');
    const cmd: string[] = s.initContainers[0].args;
    assert.equal(s.initContainers[0].command, undefined, "the agent image's entrypoint (arca) runs");
    assert.deepEqual(cmd.slice(0, 2), ['agent', 'init']);
    assert.deepEqual(flag(cmd, '--secret'), ['db.env=secret/app/db:env']);
    assert.deepEqual(flag(cmd, '--k8s-role'), ['payments-api']);
    assert.deepEqual(flag(cmd, '--k8s-token-file'), ['/var/run/secrets/arca.dev/serviceaccount/token']);
    assert.deepEqual(flag(cmd, '--addr'), [OPTS.arcaAddr]);
    assert.deepEqual(flag(cmd, '--dir'), ['/arca/secrets']);
    assert.deepEqual(s.initContainers[1].args.slice(0, 2), ['agent', 'sidecar']);
    assert.deepEqual(flag(s.initContainers[1].args, '--listen'), ['0.0.0.0:8299']);
    assert.deepEqual(s.initContainers[1].startupProbe.httpGet, { path: '/healthz', port: 8299 }, 'the app starts after the first render');
    assert.equal(s.initContainers[0].startupProbe, undefined);
    const sc = s.initContainers[0].securityContext;
    assert.equal(sc.runAsUser, 65532);
    assert.equal(sc.runAsNonRoot, true);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(s.initContainers[0].resources.requests, { cpu: '5m', memory: '50Mi' });
  });

  it('pod with init containers, volumes and env: agent init before the user init container, which also gets the mount', () => {
    const r = run('init-containers.json');
    const s = r.patched.spec;
    assert.deepEqual(names(s.initContainers), ['arca-agent-init', 'migrate'], 'mode init: no sidecar');
    assert.deepEqual(names(s.containers), ['api', 'metrics']);
    assert.deepEqual(names(s.volumes), ['kube-api-access-x7k2p', 'arca-secrets', 'arca-token']);
    for (const c of [...s.containers, s.initContainers[1]]) {
      assert.equal(mount(c, 'arca-secrets').mountPath, '/arca/secrets', c.name);
      assert.equal(mount(c, 'kube-api-access-x7k2p').readOnly, true, 'existing mounts stay');
    }
    assert.deepEqual(s.containers[0].env, [{ name: 'PORT', value: '8080' }], 'env untouched in file mode');
    assert.deepEqual(flag(s.initContainers[0].args, '--secret'), ['db.env=secret/app/db:env', 'password=secret/data/app/db#password:raw']);
    assert.equal(s.initContainers[0].securityContext.runAsUser, 1000, "the agent runs as the app's user, so 0600 files are readable");
    assert.equal(s.initContainers[0].securityContext.runAsGroup, 3000);
    assert.equal(r.patched.metadata.annotations['other.example/key~x'], 'v', 'unrelated annotations stay');
    // Existing arrays are appended to or inserted into, never replaced.
    assert.ok(!r.ops!.some((o) => o.op === 'replace' || o.op === 'remove'));
    assert.ok(r.ops!.some((o) => o.path === '/spec/initContainers/0'));
  });

  it('several containers: only the selected one, classic sidecar, template via downward API, on-change signal', () => {
    const r = run('classic-sidecar.json');
    const s = r.patched.spec;
    assert.deepEqual(names(s.initContainers), ['arca-agent-init']);
    assert.deepEqual(names(s.containers), ['web', 'log-shipper', 'arca-agent']);
    assert.equal(s.containers[2].restartPolicy, undefined, 'classic sidecar is a plain container');
    assert.equal(mount(s.containers[0], 'arca-secrets').mountPath, '/etc/web/secrets');
    assert.equal(mount(s.containers[1], 'arca-secrets'), undefined, 'log-shipper was not selected');
    assert.equal(s.shareProcessNamespace, true, 'signalling the app process needs a shared PID namespace');
    const side: string[] = s.containers[2].args;
    assert.equal(s.containers[2].startupProbe, undefined, 'a classic sidecar cannot hold back the app');
    assert.deepEqual(flag(side, '--interval'), ['60s']);
    assert.deepEqual(flag(side, '--on-change-signal'), ['SIGHUP']);
    assert.deepEqual(flag(side, '--on-change-process'), ['nginx']);
    assert.deepEqual(flag(side, '--secret'), ['tls.key=secret/web/tls#key'], 'templated files travel in the config, not as flags');
    assert.deepEqual(flag(side, '--config'), ['/var/run/arca.dev/config/agent.yaml']);
    const cfgVol = s.volumes.find((v: Json) => v.name === 'arca-config');
    assert.equal(cfgVol.downwardAPI.items[0].fieldRef.fieldPath, "metadata.annotations['arca.dev/agent-config']");
    assert.match(r.patched.metadata.annotations['arca.dev/agent-config'], /password=\{\{password\}\}/);
    assert.ok(r.ops!.some((o) => o.path === '/metadata/annotations/arca.dev~1agent-config'));
    const c = s.initContainers[0];
    assert.equal(c.securityContext.runAsUser, 101);
    assert.deepEqual(c.resources, { requests: { cpu: '5m', memory: '32Mi' }, limits: { cpu: '100m', memory: '128Mi' } });
  });

  it('--default-sidecar classic (clusters before 1.29) applies unless the pod asks for native', () => {
    const r = run('minimal.json', { ...OPTS, defaultSidecar: 'classic' });
    assert.deepEqual(names(r.patched.spec.initContainers), ['arca-agent-init']);
    assert.deepEqual(names(r.patched.spec.containers), ['api', 'arca-agent']);
    const review = fixture('minimal.json');
    review.request.object.metadata.annotations['arca.dev/sidecar'] = 'native';
    const ops = JSON.parse(Buffer.from((handleReview(review, { ...OPTS, defaultSidecar: 'classic' }).body as Json).response.patch, 'base64').toString());
    assert.ok(ops.some((o: Json) => o.path === '/spec/initContainers' && o.value[1].restartPolicy === 'Always'));
  });

  it('native sidecar only, on a Job-like pod whose arrays exist but are empty', () => {
    const r = run('sidecar-only.json');
    const s = r.patched.spec;
    assert.deepEqual(names(s.initContainers), ['arca-agent']);
    assert.equal(s.initContainers[0].restartPolicy, 'Always', 'a native sidecar lets the Job complete');
    assert.equal(mount(s.containers[0], 'arca-secrets').mountPath, '/arca/secrets');
  });

  it('env mode: wraps the known command with arca agent exec, moves arca: values into --env, copies the runtime first', () => {
    const r = run('env-mode.json');
    const s = r.patched.spec;
    assert.deepEqual(names(s.initContainers), ['arca-agent-copy']);
    const api = s.containers[0];
    const cmd: string[] = api.command;
    const dash = cmd.indexOf('--');
    assert.deepEqual(cmd.slice(0, 5), ['/arca/bin/ld.so', '--library-path', '/arca/bin/lib', '/arca/bin/node', '/arca/bin/arca-agent.mjs']);
    assert.deepEqual(cmd.slice(5, 7), ['agent', 'exec']);
    assert.deepEqual(cmd.slice(dash + 1), ['/app/server'], 'the original command runs after --');
    assert.deepEqual(api.args, ['--port', '8080'], 'args stay as they were');
    assert.deepEqual(flag(cmd.slice(0, dash), '--env'), ['DB_PASSWORD=secret/app/db#password', 'API_KEY=secret/app/api@2#key']);
    assert.deepEqual(names(api.env), ['PORT', 'POD_IP'], 'references leave the spec; other entries keep their order');
    assert.equal(mount(api, 'arca-bin').readOnly, true);
    assert.equal(mount(api, 'arca-token').mountPath, '/var/run/secrets/arca.dev/serviceaccount');
    assert.equal(s.volumes.find((v: Json) => v.name === 'arca-secrets'), undefined, 'no file holds the values');
    assert.deepEqual(s.containers[1].command, ['sleep', 'infinity'], 'a container without arca: values is untouched');
    assert.equal(mount(s.containers[1], 'arca-bin'), undefined);
  });

  it('env mode without a command: the pod is refused with a message saying what to add', () => {
    const r = run('env-no-command.json');
    assert.equal(r.status, 200);
    assert.equal(r.response.allowed, false);
    assert.equal(r.response.status.code, 400);
    assert.match(r.response.status.message, /ERR_INJECTOR_POD_UNSUPPORTED/);
    assert.match(r.response.status.message, /set its command/);
    assert.ok(!r.response.status.message.includes('secret/app/db'), 'the message never quotes a value');
  });

  it('opted in without a role: refused naming the annotation', () => {
    const r = run('no-role.json');
    assert.equal(r.response.allowed, false);
    assert.match(r.response.status.message, /ERR_INJECTOR_ANNOTATION_INVALID: annotation arca\.dev\/role/);
  });

  for (const name of ['already-injected.json', 'not-opted-in.json', 'no-annotations.json', 'update.json']) {
    it(`${name}: allowed unchanged (no patch)`, () => {
      const r = run(name);
      assert.equal(r.status, 200);
      assert.equal(r.response.allowed, true);
      assert.equal(r.response.patch, undefined);
    });
  }

  it('dryRun: the same patch as the real request (the injector has no side effects to skip)', () => {
    const dry = run('dry-run.json');
    const real = fixture('dry-run.json');
    real.request.dryRun = false;
    const a = handleReview(real, OPTS).body as Json;
    assert.equal(dry.response.patch, a.response.patch);
  });

  it('idempotent: reviewing the patched pod again returns it unchanged', () => {
    for (const name of ['minimal.json', 'init-containers.json', 'classic-sidecar.json', 'env-mode.json', 'sidecar-only.json']) {
      const r = run(name);
      const again = fixture(name);
      again.request.object = r.patched;
      const a = handleReview(again, OPTS).body as Json;
      assert.equal(a.response.allowed, true, name);
      assert.equal(a.response.patch, undefined, name);
    }
  });

  it('malformed reviews get HTTP 400 with a reason, never a crash', () => {
    const raw = readFileSync(new URL('./testdata/not-json.txt', import.meta.url), 'utf8');
    const cases: unknown[] = [null, 42, [], {}, { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'CREATE' } }];
    const good = fixture('minimal.json');
    const noUid = structuredClone(good);
    delete noUid.request.uid;
    const badPod = structuredClone(good);
    badPod.request.object.spec.containers = 'api';
    cases.push(noUid, badPod);
    for (const c of [...cases.map((c) => handleReview(c, OPTS)), handleReviewBody(raw, OPTS)]) {
      assert.equal(c.status, 400);
      assert.equal((c.body as Json).error.code, 'ERR_INJECTOR_REVIEW_MALFORMED');
      assert.ok((c.body as Json).error.message.length > 10);
    }
  });

  it("with --ca-configmap the agent verifies Arca with that CA (ConfigMap volume + --cacert)", () => {
    const r = run('minimal.json', { ...OPTS, caConfigMap: 'arca-ca' });
    const s = r.patched.spec;
    const v = s.volumes.find((x: Json) => x.name === 'arca-ca');
    assert.equal(v.configMap.name, 'arca-ca');
    for (const c of s.initContainers) {
      assert.deepEqual(flag(c.args, '--cacert'), ['/var/run/secrets/arca.dev/ca/ca.crt']);
      assert.equal(mount(c, 'arca-ca').mountPath, '/var/run/secrets/arca.dev/ca');
    }
  });

  it('refuses names the injector would add and annotations it cannot honour, naming what to change', () => {
    const cases: Array<[string, (p: Json) => void, RegExp]> = [
      ['volume name taken', (p) => (p.spec.volumes = [{ name: 'arca-secrets', emptyDir: {} }]), /volume named arca-secrets/],
      ['secrets path taken', (p) => (p.spec.containers[0].volumeMounts = [{ name: 'x', mountPath: '/arca/secrets/' }]), /secrets path/],
      ['bad format', (p) => (p.metadata.annotations['arca.dev/secret-db.env'] = 'secret/app/db:xml'), /annotation arca\.dev\/secret-db\.env: the :FORMAT/],
      ['no mount in path', (p) => (p.metadata.annotations['arca.dev/secret-db.env'] = 'db'), /annotation arca\.dev\/secret-db\.env/],
      ['bad mode', (p) => (p.metadata.annotations['arca.dev/mode'] = 'always'), /arca\.dev\/mode/],
      ['signal without process', (p) => (p.metadata.annotations['arca.dev/on-change-signal'] = 'SIGHUP'), /on-change-process/],
      ['template without secret', (p) => (p.metadata.annotations['arca.dev/template-x'] = '{{a}}'), /template-x: needs arca\.dev\/secret-x/],
      ['unknown container', (p) => (p.metadata.annotations['arca.dev/containers'] = 'nope'), /arca\.dev\/containers/],
      ['interval', (p) => (p.metadata.annotations['arca.dev/interval'] = 'soon'), /arca\.dev\/interval/],
      ['template with a field', (p) => {
          p.metadata.annotations['arca.dev/template-db.env'] = '{{data.a}}';
          p.metadata.annotations['arca.dev/secret-db.env'] = 'secret/app/db#a';
        }, /template-db\.env: a template excludes #FIELD/],
      ['template that does not parse', (p) => (p.metadata.annotations['arca.dev/template-db.env'] = '{{#a}}x'), /template-db\.env/],
      ['agent port', (p) => (p.metadata.annotations['arca.dev/agent-port'] = '99999'), /arca\.dev\/agent-port/],
      ['env mode with files', (p) => (p.metadata.annotations['arca.dev/mode'] = 'env'), /env mode/],
    ];
    for (const [what, edit, re] of cases) {
      const review = fixture('minimal.json');
      edit(review.request.object);
      const a = handleReview(review, OPTS).body as Json;
      assert.equal(a.response.allowed, false, what);
      assert.match(a.response.status.message, re, what);
    }
  });

  it('escapes ~ before / in JSON Pointer tokens (RFC 6901)', () => {
    assert.equal(escapePointer('arca.dev/status'), 'arca.dev~1status');
    assert.equal(escapePointer('a~/b'), 'a~0~1b');
    assert.equal(escapePointer('~1'), '~01');
  });
});
