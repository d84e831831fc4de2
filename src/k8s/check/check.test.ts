import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOGUE, runChecks } from './catalogue.ts';
import { emptyReport } from '../etcd/index.ts';
import { loadContext } from './context.ts';
import { scanVerdict } from './live.ts';
import { fixtureHost, loadCases } from './fixture.ts';

async function findingsFor(overlay: Parameters<typeof fixtureHost>[0]) {
  const { host, options } = fixtureHost(overlay);
  const ctx = await loadContext(host, options);
  if (overlay?.scan) {
    const r = emptyReport();
    for (const [res, states] of Object.entries(overlay.scan)) {
      const s = { plaintext: 0, current: 0, stale: 0, undecryptable: 0, ...states };
      r.byResource[res] = s;
      for (const k of Object.keys(s) as (keyof typeof s)[]) {
        r.byState[k] += s[k];
        r.total += s[k];
      }
    }
    ctx.live.push(scanVerdict(r, 'fixture scan', true));
  }
  return runChecks(ctx);
}

describe('control-plane check catalogue (testdata/cases.yaml)', () => {
  const cases = loadCases();

  it('has a passing and a failing fixture for every check in the catalogue', () => {
    const missing = CATALOGUE.map((c) => c.id).filter((id) => !cases[id]?.pass || !cases[id]?.fail);
    assert.deepEqual(missing, []);
  });

  it('the base host passes every check', async () => {
    const bad = (await findingsFor({ scan: { secrets: { current: 1 } } })).filter((f) => f.status !== 'pass').map((f) => `${f.id} ${f.status}: ${f.evidence}`);
    assert.deepEqual(bad, []);
  });

  for (const [id, c] of Object.entries(cases)) {
    it(`${id} passes on its passing fixture`, async () => {
      const f = (await findingsFor(c.pass)).filter((x) => x.id === id);
      assert.ok(f.length, `no finding ${id}`);
      assert.deepEqual(f.map((x) => x.status), f.map(() => 'pass'), f.map((x) => x.evidence).join('\n'));
    });
    it(`${id} fails on its failing fixture`, async () => {
      const f = (await findingsFor(c.fail)).filter((x) => x.id === id);
      assert.ok(f.length, `no finding ${id}`);
      assert.ok(f.some((x) => x.status === 'fail'), f.map((x) => `${x.status} ${x.evidence}`).join('\n'));
      if ((c as { severity?: string }).severity) assert.equal(f.find((x) => x.status === 'fail')!.severity, (c as { severity?: string }).severity);
    });
  }
});
