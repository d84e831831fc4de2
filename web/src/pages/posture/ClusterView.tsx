// One cluster's posture: a headline verdict (the worst thing first, in words), then the four
// reports. The latest reports load together; history and rotation load in their own sections.
import { useMemo } from 'react';
import { Async, useAsync } from '../../components/async.tsx';
import { failedFindings, freshness, type PluginReport, scanVerdicts, type Verdict } from './derive.ts';
import { EtcdSection } from './EtcdSection.tsx';
import { FindingsSection } from './FindingsSection.tsx';
import { type ClusterReports, loadCluster } from './load.ts';
import { VerdictLine } from './parts.tsx';
import { PluginsSection } from './PluginsSection.tsx';
import { RotationSection } from './RotationSection.tsx';
import { NoReports } from './Empty.tsx';

function verdicts(r: ClusterReports, now: number): Verdict[] {
  const out = scanVerdicts(r.scan.state === 'ok' ? r.scan.value : undefined);
  const plugins = r.plugins.flatMap((p) => (p.report.state === 'ok' ? [{ r: p.report.value, f: freshness(p.report.value.at, p.versionTimes, now) }] : []));
  const unhealthy = plugins.filter((p) => p.r.healthz !== 'ok');
  if (unhealthy.length) out.push({ tone: 'bad', text: `KMS plugin unhealthy on ${unhealthy.map((p) => p.r.node).join(', ')}.` });
  const stale = plugins.filter((p) => p.f.stale);
  if (stale.length) out.push({ tone: 'warn', text: `No recent KMS plugin report from ${stale.map((p) => p.r.node).join(', ')}.` });
  const ids = new Set(plugins.map((p) => p.r.keyId));
  if (ids.size > 1) out.push({ tone: 'warn', text: `KMS plugins report ${ids.size} different key_ids: a rotation is in progress or a node is behind.` });
  if (r.check.state === 'ok') {
    const severe = failedFindings(r.check.value).filter((f) => f.severity === 'critical' || f.severity === 'high');
    if (severe.length) out.push({ tone: 'bad', text: `${severe.length} critical or high hardening finding${severe.length === 1 ? '' : 's'} failed.` });
  }
  return out;
}

function Reports({ mount, cluster, r }: { mount: string; cluster: string; r: ClusterReports }) {
  // One clock reading per load, so every age on the page is measured from the same instant.
  const now = useMemo(() => Date.now(), []);
  if (r.sources.length === 0) return <NoReports mount={mount} cluster={cluster} />;
  const [head, ...rest] = verdicts(r, now);
  const plugins: PluginReport[] = r.plugins.flatMap((p) => (p.report.state === 'ok' ? [p.report.value] : []));
  return (
    <>
      <section aria-labelledby="posture-verdict" className="posture-verdicts">
        <h2 id="posture-verdict">Verdict for {cluster}</h2>
        {head ? <VerdictLine v={head} headline /> : null}
        {rest.map((v) => (
          <VerdictLine key={v.text} v={v} />
        ))}
      </section>
      <EtcdSection mount={mount} cluster={cluster} got={r.scan} />
      <PluginsSection cluster={cluster} plugins={r.plugins} now={now} />
      <div className="posture-grid">
        <RotationSection plugins={plugins} />
        <FindingsSection cluster={cluster} got={r.check} />
      </div>
    </>
  );
}

export function ClusterView({ mount, cluster }: { mount: string; cluster: string }) {
  const st = useAsync((signal) => loadCluster(mount, cluster, signal), [mount, cluster]);
  return (
    <Async state={st} label={`Loading the reports of ${cluster}…`}>
      {(r) => <Reports mount={mount} cluster={cluster} r={r} />}
    </Async>
  );
}
