import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChecks } from './catalogue.ts';
import { loadContext } from './context.ts';
import { fixtureHost } from './fixture.ts';

const proc = (pid: number, argv: string[], uid = 0) => ({
  [`/proc/${pid}/cmdline`]: { mode: 0o444, content: `${argv.join('\0')}\0` },
  [`/proc/${pid}/status`]: { mode: 0o444, content: `Name:\tx\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n` },
});

async function run(files: Record<string, { mode: number; content: string }>) {
  const { host, options } = fixtureHost({ files });
  const ctx = await loadContext(host, options);
  return { ctx, findings: await runChecks(ctx) };
}

describe('manifest (desired) vs running process (actual)', () => {
  it('reports flags whose running value differs from the manifest as a CPH-INPUT warning', async () => {
    const { host } = fixtureHost();
    const manifest = (await host.read('/etc/kubernetes/manifests/kube-scheduler.yaml'))!;
    assert.match(manifest, /--profiling=false/);
    const { findings } = await run(proc(4242, ['/usr/local/bin/kube-scheduler', '--bind-address=127.0.0.1', '--profiling=true']));
    const drift = findings.filter((f) => f.id === 'CPH-INPUT' && f.evidence.includes('differs from running pid 4242'));
    assert.equal(drift.length, 1, JSON.stringify(findings.filter((f) => f.id === 'CPH-INPUT')));
    assert.match(drift[0]!.evidence, /--profiling \(manifest false, running true\)/);
  });

  it('stays quiet when the running process matches the manifest', async () => {
    const { findings } = await run(proc(4243, ['kube-scheduler', '--bind-address=127.0.0.1', '--profiling=false']));
    assert.deepEqual(findings.filter((f) => f.id === 'CPH-INPUT'), []);
  });

  it('CPH-ETCD-10 compares the data-dir owner with the UID etcd actually runs as', async () => {
    const { host } = fixtureHost();
    const text = (await host.read('/etc/kubernetes/manifests/etcd.yaml'))!;
    const argv = (text.match(/^\s+- (etcd|--\S+)$/gm) ?? []).map((l) => l.trim().slice(2));
    const { findings } = await run(proc(99, argv, 1001));
    const f = findings.find((x) => x.id === 'CPH-ETCD-10')!;
    assert.equal(f.status, 'fail', f.evidence);
    assert.match(f.evidence, /etcd runs as uid 1001/);
    assert.equal(findings.filter((x) => x.id === 'CPH-INPUT').length, 0, 'same flags: no drift reported');
  });
});
