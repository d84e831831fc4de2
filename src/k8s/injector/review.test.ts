import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type InjectorOptions, Reviewer } from './index.ts';

const OPTS: InjectorOptions = { arcaAddr: 'https://arca:8200', agentImage: 'arca:0.1.0', audience: 'arca', authMount: 'kubernetes', tokenExpirySeconds: 600, defaultRunAsUser: 65532 };
const fixture = (n: string) => JSON.parse(readFileSync(new URL(`./testdata/${n}`, import.meta.url), 'utf8'));

describe('Reviewer', () => {
  it('serialises every answer exactly as its body (the patch case is assembled by hand)', () => {
    const r = new Reviewer(OPTS);
    for (const n of ['minimal.json', 'env-no-command.json', 'not-opted-in.json', 'update.json']) {
      const a = r.handle(fixture(n));
      assert.deepEqual(JSON.parse(a.text), a.body, n);
    }
    const odd = fixture('minimal.json');
    odd.request.uid = 'a"b\\c\u2028';
    const a = r.handle(odd);
    assert.equal((JSON.parse(a.text) as { response: { uid: string } }).response.uid, odd.request.uid, 'the uid is JSON-encoded');
  });

  it('a remembered verdict answers with the new request uid, and identical pods get identical patches', () => {
    const r = new Reviewer(OPTS, 4);
    const one = fixture('minimal.json');
    const two = fixture('minimal.json');
    two.request.uid = '22222222-0000-4000-8000-000000000002';
    const a = r.handle(one).body as { response: { uid: string; patch: string } };
    const b = r.handle(two).body as { response: { uid: string; patch: string } };
    assert.equal(b.response.uid, two.request.uid);
    assert.equal(b.response.patch, a.response.patch);
    // A different pod is not confused with a remembered one.
    const other = fixture('minimal.json');
    other.request.object.metadata.annotations['arca.dev/role'] = 'other-role';
    const c = r.handle(other).body as { response: { patch: string } };
    assert.notEqual(c.response.patch, a.response.patch);
    assert.match(Buffer.from(c.response.patch, 'base64').toString(), /other-role/);
  });

  it("a repeated review (only the uid differs) is answered without parsing it again", () => {
    const r = new Reviewer(OPTS, 4);
    // Compact, as the API server sends it (Go's encoding/json).
    const one = JSON.stringify(fixture('minimal.json'));
    const two = one.replace('11111111-0000-4000-8000-000000000001', '22222222-0000-4000-8000-000000000002');
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = ((text: string, reviver?: (this: unknown, k: string, v: unknown) => unknown) => {
      parses++;
      return parse(text, reviver);
    }) as typeof JSON.parse;
    try {
      const a = r.handleBody(one);
      const before = parses;
      const b = r.handleBody(two);
      assert.equal(parses, before, 'no parse for the twin');
      assert.equal((parse(b.text) as { response: { uid: string } }).response.uid, '22222222-0000-4000-8000-000000000002');
      assert.equal((parse(b.text) as { response: { patch: string } }).response.patch, (parse(a.text) as { response: { patch: string } }).response.patch);
      assert.equal(b.pod, a.pod);
      // A body that differs elsewhere is parsed and decided on its own.
      const three = two.replace('"arca.dev/role":"payments-api"', '"arca.dev/role":"other"');
      assert.notEqual(three, two);
      const c = r.handleBody(three);
      assert.ok(parses > before);
      assert.match(Buffer.from((parse(c.text) as { response: { patch: string } }).response.patch, 'base64').toString(), /other/);
    } finally {
      JSON.parse = parse;
    }
  });

  it('names the pod for the log by generateName before it has a name', () => {
    const a = new Reviewer(OPTS).handle(fixture('env-no-command.json'));
    assert.equal(a.pod, 'payments/api-7c9d8f6b5d-*');
  });

  it('keeps at most cacheEntries verdicts', () => {
    const r = new Reviewer(OPTS, 2);
    for (let i = 0; i < 5; i++) {
      const f = fixture('minimal.json');
      f.request.object.metadata.annotations['arca.dev/role'] = `role-${i}`;
      r.handle(f);
    }
    assert.equal(r.size, 2);
  });
});
