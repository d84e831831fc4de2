/**
 * `arca agent` (issue 15), three figures against baselines measured in the same run:
 *  - agent.sidecar.rss: VmRSS of `arca agent sidecar` (10 s poll, one secret) after an idle window
 *    vs a bare idle `node` process started at the same time. Goal: ≤ 1.3× (ratio = value/baseline).
 *  - agent.sidecar.cpu: CPU seconds (utime+stime from /proc) over the same idle window, scaled to
 *    CPU-seconds per minute, vs the bare node process. Goal: ≤ 0.3 CPU-s per idle minute (absolute;
 *    the bare process's figure is near zero, so the ratio is shown for reference only).
 *  - agent.init.ms: wall time from spawn to exit (the file is written just before exit) of
 *    `arca agent init` with Kubernetes auth vs a bare `node` script that reads the service-account
 *    token, logs in and reads the secret with `fetch`, and writes the file. Goal: ≤ 1.5×
 *    (latency: ratio = value/baseline here too, so "≤ goal" reads the same for all three).
 * The issue's 60 s windows are shortened to IDLE_S seconds so the benchmark stays under two minutes;
 * the agent polls every 10 s as the issue asks, so each window still holds two or three polls.
 * Both processes of a pair run at once on the same machine; 3 pairs (5 for init), median ratio.
 *
 * The agent measured is the bundle a container image ships (scripts/build-agent.mjs →
 * dist/agent/arca-agent.mjs, run by plain `node`), built at the start of the run. Run from a
 * checkout through bin/arca, the TypeScript loader (tsx) alone adds about 38 MiB RSS and the
 * per-start compile time; that form is not what runs in a pod.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initUnsealed, startArca } from '../test/harness/arca.ts';
import { freePort, stopChild, tempDir, waitFor } from '../test/harness/index.ts';
import { startKubeApiServer } from '../test/harness/kube-tokens.ts';
import { median, report, round3 } from './lib/report.ts';

const IDLE_S = 20;
const SA = { namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99', audiences: ['arca'], ttl: 3600 };
const CLK_TCK = 100; // Linux USER_HZ
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const AGENT = join(ROOT, 'dist', 'agent', 'arca-agent.mjs');

async function rssKb(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? Number.NaN);
}
async function cpuSeconds(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function timed(cmd: string, args: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  const c = spawn(cmd, args, { stdio: 'ignore', env: { ...process.env, ARCA_LOG_LEVEL: 'warn' } });
  return new Promise((resolve, reject) => c.once('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`${cmd} ${args[0]} exited ${code}`)))));
}

/**
 * Cost figures (ms, MiB, CPU-s): ratio = baseline / value, so higher is better as everywhere else
 * (docs/benchmarks.md); `multiple` = value / baseline is the issue's "≤ N× the baseline" reading,
 * and a goal of "≤ N×" is printed as the ratio goal 1/N.
 */
function summarize(name: string, unit: string, baseline: string, maxMultiple: number | undefined, pairs: { value: number; base: number }[], extra: Record<string, unknown> = {}): void {
  const ratios = pairs.map((p) => p.base / p.value);
  const med = median(ratios);
  const chosen = pairs[ratios.indexOf(ratios.slice().sort((a, b) => Math.abs(a - med) - Math.abs(b - med))[0]!)]!;
  report({
    name, value: round3(chosen.value), unit, baseline, baselineValue: round3(chosen.base),
    ratio: round3(med), ratioMin: round3(Math.min(...ratios)), ratioMax: round3(Math.max(...ratios)), multiple: round3(1 / med),
    ...(maxMultiple === undefined ? {} : { goal: round3(1 / maxMultiple) }), ...extra,
  });
}

export default async function bench(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    spawn(process.execPath, [join(ROOT, 'scripts', 'build-agent.mjs')], { stdio: 'inherit' }).once('exit', (c) => (c === 0 ? resolve() : reject(new Error('agent bundle build failed')))),
  );
  const dir = await tempDir('arca-bench-agent-');
  const kube = await startKubeApiServer();
  kube.serviceAccounts.set('payments/api', SA.uid);
  const srv = await startArca({ args: ['--data-dir', `${dir.path}/data`], env: { ARCA_LOG_LEVEL: 'error' } });
  const children: ChildProcess[] = [];
  try {
    const root = srv.client((await initUnsealed(srv)).root);
    await root.write('sys/policies/acl/app', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }\npath "secret/metadata/app/*" { capabilities = ["read"] }' });
    await root.write('secret/data/app/db', { data: { user: 'app', password: 'bench-password-value' } });
    await root.write('sys/auth/kubernetes', { type: 'kubernetes' });
    await root.write('auth/kubernetes/config', { oidc_discovery_url: kube.url });
    await root.write('auth/kubernetes/role/app', { bound_service_account_names: ['api'], bound_service_account_namespaces: ['payments'], audience: 'arca', token_policies: ['app'], token_ttl: '1h' });
    root.close();
    const jwt = `${dir.path}/sa-token`;
    await writeFile(jwt, await kube.mint(SA));
    const auth = ['--addr', srv.addr, '--k8s-role', 'app', '--k8s-token-file', jwt];

    // Init time: agent vs a bare fetch script, alternating, 5 pairs.
    const bare = `${dir.path}/bare.mjs`;
    await writeFile(bare, [
      "import { readFileSync, writeFileSync } from 'node:fs';",
      'const [addr, jwtFile, out] = process.argv.slice(2);',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a generated script, whose template literal runs there
      "const login = await (await fetch(`${addr}/v1/auth/kubernetes/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'app', jwt: readFileSync(jwtFile, 'utf8').trim() }) })).json();",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a generated script, whose template literal runs there
      "const s = await (await fetch(`${addr}/v1/secret/data/app/db`, { headers: { 'x-vault-token': login.auth.client_token } })).json();",
      "writeFileSync(out, s.data.data.password, { mode: 0o600 });",
    ].join('\n'));
    // The CPU baseline: log in once, then read the secret's metadata every 10 s, as the sidecar does.
    const poll = `${dir.path}/poll.mjs`;
    await writeFile(poll, [
      "import { readFileSync } from 'node:fs';",
      'const [addr, jwtFile] = process.argv.slice(2);',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a generated script, whose template literal runs there
      "const login = await (await fetch(`${addr}/v1/auth/kubernetes/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'app', jwt: readFileSync(jwtFile, 'utf8').trim() }) })).json();",
      "const token = login.auth.client_token;",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a generated script, whose template literal runs there
      "const tick = async () => { await (await fetch(`${addr}/v1/secret/metadata/app/db`, { headers: { 'x-vault-token': token } })).json(); };",
      'await tick();',
      'setInterval(tick, 10_000);',
    ].join('\n'));
    const init: { value: number; base: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const out = `${dir.path}/init-${i}`;
      await mkdir(out);
      const base = await timed(process.execPath, [bare, srv.addr, jwt, `${out}/bare`]);
      const value = await timed(process.execPath, [AGENT, 'agent', 'init', ...auth, '--dir', out, '--secret', 'pw=secret/app/db#password']);
      await stat(`${out}/pw`);
      init.push({ value, base });
      await rm(out, { recursive: true });
    }
    summarize('agent.init.ms', 'ms', 'node-fetch-script', 1.5, init);

    // Idle sidecar: RSS and CPU over IDLE_S, next to a bare idle node, 3 pairs.
    const rss: { value: number; base: number }[] = [];
    const cpu: { value: number; base: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const out = `${dir.path}/side-${i}`;
      await mkdir(out);
      const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
      const poller = spawn(process.execPath, [poll, srv.addr, jwt], { stdio: 'ignore' });
      const agent = spawn(process.execPath, [AGENT, 'agent', 'sidecar', ...auth, '--dir', out, '--interval', '10s', '--listen', `127.0.0.1:${await freePort()}`, '--secret', 'pw=secret/app/db#password'], { stdio: 'ignore', env: { ...process.env, ARCA_LOG_LEVEL: 'warn' } });
      children.push(idle, poller, agent);
      await waitFor('sidecar first render', async () => (await stat(`${out}/pw`).catch(() => undefined)) && true, 60_000, 50);
      await sleep(1000); // let start-up work (module compilation) finish before the window opens
      const [a0, p0] = [await cpuSeconds(agent.pid!), await cpuSeconds(poller.pid!)];
      await sleep(IDLE_S * 1000);
      const [a1, p1] = [await cpuSeconds(agent.pid!), await cpuSeconds(poller.pid!)];
      rss.push({ value: (await rssKb(agent.pid!)) / 1024, base: (await rssKb(idle.pid!)) / 1024 });
      // One clock tick floors both so a window with no tick keeps the ratio finite.
      cpu.push({ value: (Math.max(a1 - a0, 1 / CLK_TCK) * 60) / IDLE_S, base: (Math.max(p1 - p0, 1 / CLK_TCK) * 60) / IDLE_S });
      await stopChild(agent);
      await stopChild(poller);
      await stopChild(idle);
    }
    summarize('agent.sidecar.rss', 'MiB', 'node-idle', 1.3, rss, { windowS: IDLE_S });
    const cpuMed = median(cpu.map((c) => c.value));
    // The issue's CPU goal is an absolute budget (≤ 0.3 CPU-s per idle minute); the figure itself is
    // the ratio against a bare node poller doing the same work, and the budget is printed beside it.
    summarize('agent.sidecar.cpu', 'cpu-s/min', 'node-fetch-poller', undefined, cpu, { windowS: IDLE_S, pollS: 10, medianValue: round3(cpuMed), issueBudget: 0.3, withinIssueBudget: cpuMed <= 0.3 + 1e-9 });
  } finally {
    for (const c of children) await stopChild(c);
    await srv.stop();
    await kube.close();
    await dir.remove();
  }
}
