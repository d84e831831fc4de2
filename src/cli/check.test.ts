import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixtureHost } from '../k8s/check/fixture.ts';
import type { Overlay } from '../k8s/check/fixture.ts';

const bin = join(import.meta.dirname, '../../bin/arca');
const haveXmllint = spawnSync('xmllint', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;

/** Writes a fixture host to a real directory tree (modes and owners as in the fixture). */
async function materialize(overlay: Overlay): Promise<{ root: string; args: string[] }> {
  const root = await mkdtemp(join(tmpdir(), 'arca-check-'));
  const { files, options } = fixtureHost(overlay);
  for (const [path, f] of [...files].sort(([a], [b]) => a.length - b.length)) {
    const p = join(root, path);
    if (f.dir) await mkdir(p, { recursive: true });
    else if (!f.socket) {
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content ?? '');
    } else continue;
    await chmod(p, f.mode);
    if (isRoot) await chown(p, f.uid ?? 0, f.gid ?? 0);
  }
  const args = ['check', 'control-plane', '--root', root, '--kubelet-flags', (options.kubeletArgs ?? []).join(' ')];
  if (options.objectsFile) args.push('--objects', options.objectsFile);
  if (options.listenersFile) args.push('--listeners', options.listenersFile);
  return { root, args };
}

function arca(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 2) : 0, stdout, stderr });
    });
  });
}

describe('arca check control-plane (CLI, fixture tree on disk)', () => {
  const roots: string[] = [];
  let good: { root: string; args: string[] };
  let bad: { root: string; args: string[] };
  before(async () => {
    good = await materialize({});
    bad = await materialize({ args: { etcd: { add: ['--listen-client-urls=https://10.0.0.11:2379,http://127.0.0.1:2379'] } }, files: { '/etc/kubernetes/pki/ca.crt': { mode: 0o666 } } });
    roots.push(good.root, bad.root);
  });
  after(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('-o json is exactly {"findings":[{id,status,severity,evidence,fix}]} with the catalogue ids', async () => {
    const r = await arca([...good.args, '-o', 'json']);
    const out = JSON.parse(r.stdout) as { findings: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(out), ['findings']);
    for (const f of out.findings) {
      assert.deepEqual(Object.keys(f), ['id', 'status', 'severity', 'evidence', 'fix']);
      assert.match(String(f['id']), /^CPH-[A-Z]+(-\d\d)?$/);
      assert.ok(['pass', 'fail', 'warn', 'skip'].includes(String(f['status'])));
    }
    assert.ok(out.findings.some((f) => f['id'] === 'CPH-ETCD-08' && f['status'] === 'pass'));
  });

  it('exits with the code of the worst failed severity (critical → 6) and 0 below --fail-on', { skip: !isRoot && 'owner checks need root' }, async () => {
    const r = await arca([...bad.args, '-o', 'json']);
    assert.equal(r.code, 6, r.stderr);
    const f = (JSON.parse(r.stdout) as { findings: { id: string; status: string }[] }).findings;
    assert.equal(f.find((x) => x.id === 'CPH-ETCD-08')?.status, 'fail');
    assert.equal(f.find((x) => x.id === 'CPH-FILE-04')?.status, 'fail');
    const low = await arca([...good.args, '-o', 'json']);
    assert.equal(low.code, 0, low.stdout);
  });

  it('-o junit is well-formed XML with one testcase per finding and a failure per failed finding', { skip: !haveXmllint && 'xmllint not installed (apt-get install libxml2-utils)' }, async () => {
    const r = await arca([...bad.args, '-o', 'junit']);
    const file = join(bad.root, 'out.xml');
    await writeFile(file, r.stdout);
    const lint = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stderr);
    const count = (xpath: string) => Number(spawnSync('xmllint', ['--xpath', xpath, file], { encoding: 'utf8' }).stdout.trim());
    const json = (JSON.parse((await arca([...bad.args, '-o', 'json'])).stdout) as { findings: { status: string }[] }).findings;
    assert.equal(count('count(//testsuite/testcase)'), json.length);
    assert.equal(count('count(//testcase/failure)'), json.filter((f) => f.status === 'fail').length);
    assert.ok(count('count(//testcase[starts-with(@name,"CPH-ETCD-08")]/failure)') === 1);
  });

  it('rejects an unknown output format as a usage error', async () => {
    const r = await arca([...good.args, '-o', 'xml']);
    assert.equal(r.code, 1);
  });
});
