/**
 * Property: no input crashes the reviewer; every answer is a 200 review with the uid or a 400 with a
 * code; every patch applies (fast-json-patch, parents checked) to the pod it was computed for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { type InjectorOptions, Reviewer } from './index.ts';

const OPTS: InjectorOptions = { arcaAddr: 'https://arca:8200', agentImage: 'arca:0.1.0', audience: 'arca', authMount: 'kubernetes', tokenExpirySeconds: 600, defaultRunAsUser: 65532 };

const annKey = fc.oneof(
  fc.constantFrom('arca.dev/inject', 'arca.dev/role', 'arca.dev/mode', 'arca.dev/sidecar', 'arca.dev/secrets-path', 'arca.dev/containers', 'arca.dev/interval',
    'arca.dev/agent-run-as-user', 'arca.dev/on-change-signal', 'arca.dev/on-change-process', 'arca.dev/agent-cpu-limit', 'arca.dev/status'),
  fc.string({ maxLength: 12 }).map((s) => `arca.dev/secret-${s}`),
  fc.string({ maxLength: 12 }).map((s) => `arca.dev/template-${s}`),
);
const annValue = fc.oneof(fc.constantFrom('true', 'init', 'env', 'sidecar', 'classic', 'secret/app/db#password:raw', 'secret/x:yaml', '30s', 'SIGHUP', '1000'), fc.string({ maxLength: 20 }));
const container = fc.record({
  name: fc.constantFrom('api', 'web', 'arca-agent', 'x'),
  command: fc.option(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), { nil: undefined }),
  env: fc.option(fc.array(fc.record({ name: fc.constantFrom('A', 'B'), value: fc.oneof(fc.constant('arca:secret/app/db#password'), fc.string({ maxLength: 10 })) }), { maxLength: 3 }), { nil: undefined }),
}, { requiredKeys: ['name'] });
const pod = fc.record({
  metadata: fc.record({ annotations: fc.option(fc.dictionary(annKey, annValue, { maxKeys: 4 }), { nil: undefined }) }),
  spec: fc.record({ containers: fc.array(container, { minLength: 1, maxLength: 3 }), initContainers: fc.option(fc.array(container, { maxLength: 2 }), { nil: undefined }) }),
});

describe('Reviewer on arbitrary input', () => {
  it('never throws and always answers a review (with the uid) or a 400 with a code', () => {
    const r = new Reviewer(OPTS, 8);
    let patched = 0;
    // Half the pods start from a valid opt-in, so the random rest exercises patches, not only refusals.
    const base = fc.constantFrom({ 'arca.dev/inject': 'true' }, { 'arca.dev/inject': 'true', 'arca.dev/role': 'r', 'arca.dev/secret-db': 'secret/app/db' });
    const review = fc.tuple(pod, base).map(([p, b]) => ({
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: { uid: 'u-1', operation: 'CREATE', object: { ...p, metadata: { ...p.metadata, annotations: { ...b, ...p.metadata.annotations, 'arca.dev/inject': 'true' } } } },
    }));
    fc.assert(
      fc.property(fc.oneof(review, fc.anything()), (body) => {
        const a = r.handle(body);
        if (a.status === 400) {
          assert.equal((a.body as { error: { code: string } }).error.code, 'ERR_INJECTOR_REVIEW_MALFORMED');
          return;
        }
        assert.equal(a.status, 200);
        const res = (JSON.parse(a.text) as { response: { uid: string; allowed: boolean; patch?: string; patchType?: string } }).response;
        assert.equal(res.uid, 'u-1');
        assert.equal(res.patch === undefined, res.patchType === undefined);
        if (res.patch !== undefined) {
          // Every patch applies to the pod it was computed for, each add finding its parent.
          const object = (body as { request: { object: unknown } }).request.object;
          const ops = JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
          const out = jsonpatch.applyPatch(structuredClone(object), ops, true, false).newDocument as { metadata: { annotations: Record<string, string> } };
          assert.equal(out.metadata.annotations['arca.dev/status'], 'injected');
          patched++;
        }
      }),
      { numRuns: 600 },
    );
    assert.ok(patched > 10, `only ${patched} of the runs produced a patch`);
  });

  it('answers from memory exactly as without it, whatever the uid and body', () => {
    const cached = new Reviewer(OPTS, 16);
    const fresh = new Reviewer(OPTS, 0);
    const uid = fc.oneof(fc.uuid(), fc.string({ maxLength: 8 }));
    const body = fc.tuple(pod, uid, fc.boolean()).map(([p, u, dry]) =>
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: u, operation: 'CREATE', dryRun: dry, object: { ...p, metadata: { ...p.metadata, annotations: { 'arca.dev/inject': 'true', 'arca.dev/role': 'r', ...p.metadata.annotations } } } } }),
    );
    // Each body is sent twice with different uids, interleaved with others, so hits happen.
    fc.assert(
      fc.property(fc.array(fc.tuple(body, fc.uuid()), { minLength: 1, maxLength: 6 }), (items) => {
        const sends = items.flatMap(([b, u2]) => {
          const o = JSON.parse(b);
          o.request.uid = u2;
          return [b, JSON.stringify(o)];
        });
        for (const raw of [...sends, ...sends.reverse()]) {
          const a = cached.handleBody(raw);
          const f = fresh.handleBody(raw);
          assert.equal(a.text, f.text);
          assert.equal(a.status, f.status);
        }
      }),
      { numRuns: 150 },
    );
  });
});
