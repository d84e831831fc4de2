/**
 * Issue 15 through real processes: `arca agent` (bin/arca) against a real `arca server`, logging in
 * with the Kubernetes auth method using signed service-account tokens (test/harness/kube-tokens.ts
 * plays the API server's JWKS and TokenReview). Covers every "Done when" bullet of the issue.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { ArcaClient } from '../../src/client/index.ts';
import { ARCA_BIN, type ArcaProcess, initUnsealed, startArca } from '../harness/arca.ts';
import { freePort, stopChild, tempDir, waitFor } from '../harness/index.ts';
import { type KubeApiServer, type ProjectedToken, startKubeApiServer } from '../harness/kube-tokens.ts';

const SA: ProjectedToken = { namespace: 'payments', name: 'api', uid: 'a8b4c2d0-1111-4f10-8e3b-5c4d2a1b0f99', audiences: ['arca'], pod: { name: 'api-0', uid: '5e1d7f0a-2222-4f10-8e3b-5c4d2a1b0f99' } };
const ROLE = { bound_service_account_names: ['api'], bound_service_account_namespaces: ['payments'], audience: 'arca', token_policies: ['app-read'], token_ttl: '1h' };
const mark = () => `SV${randomBytes(6).toString('hex')}`;
/** Every secret value written in this file: none may appear in agent logs, metrics or the agent's own environment. */
const VALUES: string[] = [];
const value = (prefix = '') => {
  const v = `${prefix}${mark()}`;
  VALUES.push(v);
  return v;
};

interface AgentProc {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}
const AGENT_OUTPUT: string[] = [];

function startAgent(args: string[]): AgentProc {
  const env: NodeJS.ProcessEnv = { ...process.env, ARCA_LOG_LEVEL: 'info' };
  delete env['ARCA_TOKEN'];
  delete env['VAULT_TOKEN'];
  const child = spawn(ARCA_BIN, ['agent', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p = { child, output: () => out, exited };
  exited.then(() => AGENT_OUTPUT.push(out));
  return p;
}

async function http(url: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const r = await fetch(url);
    return { status: r.status, text: await r.text() };
  } catch {
    return undefined;
  }
}

/** TCP connections process `pid` holds to 127.0.0.1:`port` (its fds matched against /proc/net/tcp inodes). */
async function connectionsTo(pid: number, port: number): Promise<number> {
  const { readdir: rd, readlink } = await import('node:fs/promises');
  const inodes = new Set<string>();
  for (const fd of await rd(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m) inodes.add(m[1]!);
  }
  let n = 0;
  for (const line of (await readFile(`/proc/${pid}/net/tcp`, 'utf8')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[3] === '01' && Number.parseInt(f[2]!.split(':')[1]!, 16) === port && inodes.has(f[9]!)) n++;
  }
  return n;
}

function assertNoValues(text: string, where: string): void {
  for (const v of VALUES) assert.equal(text.includes(v), false, `${where} holds a secret value`);
}

describe('arca agent against a real server and Kubernetes auth', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let kube: KubeApiServer;
  let root: ArcaClient;
  let unsealKey: string;
  const db = { user: value('u-'), password: value("p'$`\\ ") };
  const cfg = { 'db.url': value('jdbc:pg://h:5432/'), API_KEY: value() };
  const jwtFile = () => `${dir.path}/sa-token`;
  const base = () => ['--addr', srv.addr, '--k8s-role', 'app', '--k8s-token-file', jwtFile()];

  before(async () => {
    dir = await tempDir('arca-agent-');
    kube = await startKubeApiServer();
    kube.serviceAccounts.set('payments/api', SA.uid);
    kube.reviewerTokens.add('reviewer-1');
    await writeFile(`${dir.path}/reviewer-token`, 'reviewer-1\n');
    srv = await startArca({ args: ['--data-dir', `${dir.path}/data`] });
    const init = await initUnsealed(srv);
    unsealKey = init.key;
    root = srv.client(init.root);
    await root.write('sys/policies/acl/app-read', { policy: 'path "secret/data/app/*" { capabilities = ["read"] }\npath "secret/metadata/app/*" { capabilities = ["read"] }' });
    await root.write('secret/data/app/db', { data: db });
    await root.write('secret/data/app/cfg', { data: cfg });
    await root.write('secret/data/other/x', { data: { v: value() } });
    await root.write('sys/auth/kubernetes', { type: 'kubernetes' });
    await root.write('auth/kubernetes/config', { oidc_discovery_url: kube.url });
    await root.write('auth/kubernetes/role/app', ROLE);
    // TokenReview mode, with short Arca tokens: the agent logs in again every couple of seconds.
    await root.write('sys/auth/k8s-tr', { type: 'kubernetes' });
    await root.write('auth/k8s-tr/config', { kubernetes_host: kube.url, token_reviewer_jwt_file: `${dir.path}/reviewer-token` });
    await root.write('auth/k8s-tr/role/app', { ...ROLE, token_ttl: '3s' });
    await writeFile(jwtFile(), await kube.mint(SA));
  });
  after(async () => {
    root?.close();
    await srv?.stop();
    await kube?.close();
    await dir?.remove();
  });

  it('init renders every format and a template with the requested modes, and exits 0', async () => {
    const out = `${dir.path}/init`;
    await mkdir(out);
    const config = `${dir.path}/agent.yaml`;
    await writeFile(config, [
      'secrets:',
      '  - name: dsn',
      '    path: secret/app/db',
      '    template: "postgres://{{data.user}}:{{data.password}}@db/app?v={{metadata.version}}"',
      '    mode: "0640"',
    ].join('\n'));
    const a = startAgent(['init', '--config', config, ...base(), '--dir', out,
      '--secret', 'db.env=secret/app/db:env', '--secret', 'db.json=secret/app/db:json', '--secret', 'db.yaml=secret/app/db:yaml',
      '--secret', 'cfg.properties=secret/app/cfg:properties', '--secret', 'pw=secret/app/db#password', '--secret', 'key=secret/data/app/cfg#API_KEY:raw']);
    assert.equal(await a.exited, 0, a.output());
    assert.deepEqual((await readdir(out)).sort(), ['cfg.properties', 'db.env', 'db.json', 'db.yaml', 'dsn', 'key', 'pw']);
    const read = (n: string) => readFile(`${out}/${n}`, 'utf8');
    assert.equal(await read('pw'), db.password);
    assert.equal(await read('key'), cfg.API_KEY);
    assert.deepEqual(JSON.parse(await read('db.json')), db);
    assert.deepEqual(parseYaml(await read('db.yaml')), db);
    const sh = spawn('sh', ['-c', `. ${out}/db.env; printf '%s|%s' "$user" "$password"`]);
    let shOut = '';
    sh.stdout.on('data', (d: Buffer) => (shOut += d.toString()));
    await new Promise((r) => sh.once('exit', r));
    assert.equal(shOut, `${db.user}|${db.password}`);
    assert.match(await read('cfg.properties'), /^API_KEY=SV[0-9a-f]+\ndb\.url=jdbc\\:pg\\:\/\/h\\:5432\/SV[0-9a-f]+\n$/);
    assert.equal(await read('dsn'), `postgres://${db.user}:${db.password}@db/app?v=1`);
    for (const n of ['pw', 'db.env', 'db.json']) assert.equal((await stat(`${out}/${n}`)).mode & 0o777, 0o600, n);
    assert.equal((await stat(`${out}/dsn`)).mode & 0o777, 0o640);
    assertNoValues(a.output(), 'init log');
  });

  for (const [what, ref, code] of [['a missing secret', 'secret/app/missing', 'ERR_NOT_FOUND'], ['a denied path', 'secret/other/x', 'ERR_PERMISSION_DENIED']] as const) {
    it(`init exits non-zero on ${what} with one line naming the path, and writes nothing`, async () => {
      const out = `${dir.path}/fail-${code}`;
      await mkdir(out);
      const a = startAgent(['init', ...base(), '--dir', out, '--secret', 'ok=secret/app/db#user', '--secret', `bad=${ref}:json`]);
      assert.notEqual(await a.exited, 0);
      const lines = a.output().split('\n').filter((l) => l.startsWith('error:'));
      assert.equal(lines.length, 1, a.output());
      assert.ok(lines[0]!.includes(ref) && lines[0]!.includes(code), lines[0]);
      assert.deepEqual(await readdir(out), [], 'nothing written, not even the good secret');
    });
  }

  it('init refuses a template naming a missing field (strict) without writing', async () => {
    const out = `${dir.path}/strict`;
    await mkdir(out);
    await writeFile(`${dir.path}/strict.yaml`, 'secrets:\n  - {name: t, path: secret/app/db, template: "{{data.nope}}"}\n');
    const a = startAgent(['init', '--config', `${dir.path}/strict.yaml`, ...base(), '--dir', out]);
    assert.notEqual(await a.exited, 0);
    assert.match(a.output(), /ERR_RENDER_FIELD_MISSING.*data\.nope/);
    assert.deepEqual(await readdir(out), []);
  });

  it('sidecar picks up a new version, rewrites only that file, signals on change, serves metrics; survives a server outage', async () => {
    const out = `${dir.path}/side`;
    await mkdir(out);
    const port = await freePort();
    const pidFile = `${dir.path}/app.pid`;
    const hupFile = `${dir.path}/hups`;
    const app = spawn(process.execPath, ['-e', `const fs=require('fs');process.on('SIGHUP',()=>fs.appendFileSync(${JSON.stringify(hupFile)},'hup\\n'));fs.writeFileSync(${JSON.stringify(pidFile)},String(process.pid));setInterval(()=>{},1e6);`], { stdio: 'ignore' });
    await waitFor('app pid file', async () => ((await readFile(pidFile, 'utf8').catch(() => '')) ? true : undefined), 30_000);
    const a = startAgent(['sidecar', ...base(), '--dir', out, '--interval', '1s', '--listen', `127.0.0.1:${port}`, '--degraded-after', '2',
      '--on-change-pid-file', pidFile, '--on-change-signal', 'SIGHUP', '--secret', 'pw=secret/app/db#password', '--secret', 'cfg.properties=secret/app/cfg:properties']);
    try {
      const health = `http://127.0.0.1:${port}/healthz`;
      await waitFor('first render', async () => {
        if (a.child.exitCode !== null) throw new Error(`agent exited: ${a.output()}`);
        return (await http(health))?.status === 200 ? true : undefined;
      }, 60_000, 100);
      assert.equal(await readFile(`${out}/pw`, 'utf8'), db.password);
      const before = await stat(`${out}/cfg.properties`);
      const newPw = value('p2-');
      await root.write('secret/data/app/db', { data: { ...db, password: newPw } });
      await waitFor('new version rendered', async () => ((await readFile(`${out}/pw`, 'utf8')) === newPw ? true : undefined), 60_000, 100);
      const afterStat = await stat(`${out}/cfg.properties`);
      assert.equal(afterStat.ino, before.ino, 'the unchanged file was not replaced');
      assert.equal(afterStat.mtimeMs, before.mtimeMs, 'the unchanged file was not rewritten');
      assert.equal(await connectionsTo(a.child.pid!, srv.port), 1, 'one keep-alive connection to the server');
      await waitFor('SIGHUP delivered', async () => ((await readFile(hupFile, 'utf8').catch(() => '')).includes('hup') ? true : undefined), 30_000, 100);
      const metrics = (await http(`http://127.0.0.1:${port}/metrics`))!.text;
      assert.match(metrics, /arca_agent_secret_version\{secret="pw"\} 2/);
      assert.match(metrics, /arca_agent_renders_total\{secret="pw"\} 2/);
      assert.match(metrics, /arca_agent_last_success_timestamp_seconds \d/);
      assertNoValues(metrics, 'metrics');

      // Outage: files keep their content, health degrades, the agent recovers when the server returns.
      const srvPort = srv.port;
      const cfgText = await readFile(`${out}/cfg.properties`, 'utf8');
      await srv.stop();
      await waitFor('degraded', async () => ((await http(health))?.status === 503 ? true : undefined), 60_000, 100);
      assert.equal(await readFile(`${out}/pw`, 'utf8'), newPw);
      assert.equal(await readFile(`${out}/cfg.properties`, 'utf8'), cfgText);
      assert.equal((await stat(`${out}/cfg.properties`)).ino, before.ino);
      srv = await startArca({ args: ['--data-dir', `${dir.path}/data`], port: srvPort });
      await srv.client().write('sys/unseal', { key: unsealKey });
      root.close();
      root = srv.client(root.token);
      const pw3 = value('p3-');
      await root.write('secret/data/app/db', { data: { ...db, password: pw3 } });
      await waitFor('recovered after outage', async () => ((await readFile(`${out}/pw`, 'utf8')) === pw3 ? true : undefined), 90_000, 100);
      await waitFor('healthy again', async () => ((await http(health))?.status === 200 ? true : undefined), 30_000, 100);
      const metrics2 = (await http(`http://127.0.0.1:${port}/metrics`))!.text;
      assertNoValues(metrics2, 'metrics');
    } finally {
      await stopChild(a.child);
      await stopChild(app);
    }
    assert.equal(await a.exited, 0, 'SIGTERM stops the sidecar cleanly');
    assert.deepEqual((await readdir(out)).sort(), ['cfg.properties', 'pw'], 'no temp files left');
    assertNoValues(a.output(), 'sidecar log');
  });

  it('a failed write is retried at the next cycle (the version is not marked rendered until the file is in place)', async () => {
    const out = `${dir.path}/vanishing`;
    await mkdir(out);
    const port = await freePort();
    const a = startAgent(['sidecar', ...base(), '--dir', out, '--interval', '1s', '--listen', `127.0.0.1:${port}`, '--secret', 'k=secret/app/cfg#API_KEY']);
    try {
      await waitFor('first render', async () => ((await readFile(`${out}/k`, 'utf8').catch(() => '')) === cfg.API_KEY ? true : undefined), 60_000, 100);
      await rm(out, { recursive: true });
      const k = value('kw-');
      await root.write('secret/data/app/cfg', { data: { ...cfg, API_KEY: k } });
      cfg.API_KEY = k;
      await waitFor('a failed write', async () => (/arca_agent_render_failures_total\{secret="k"\} [1-9]/.test((await http(`http://127.0.0.1:${port}/metrics`))?.text ?? '') ? true : undefined), 60_000, 100);
      await mkdir(out);
      await waitFor('written once the directory is back', async () => ((await readFile(`${out}/k`, 'utf8').catch(() => '')) === k ? true : undefined), 60_000, 100);
    } finally {
      await stopChild(a.child);
    }
    assertNoValues(a.output(), 'sidecar log');
  });

  it('sidecar re-renders a template over several secrets when only the other secret gets a new version', async () => {
    const out = `${dir.path}/multi`;
    await mkdir(out);
    const config = `${dir.path}/multi.json`;
    const template = '{{data.user}} {{secrets.cfg.data.API_KEY}}';
    await writeFile(config, JSON.stringify({ addr: srv.addr, dir: out, interval: '1s', auth: { type: 'kubernetes', role: 'app', tokenFile: jwtFile() }, secrets: [{ name: 'multi', path: 'secret/app/db', template, secrets: { cfg: 'secret/app/cfg' } }] }));
    const a = startAgent(['sidecar', '--config', config]);
    try {
      await waitFor('first render', async () => ((await readFile(`${out}/multi`, 'utf8').catch(() => '')) === `${db.user} ${cfg.API_KEY}` ? true : undefined), 60_000, 100);
      const k = value('km-');
      await root.write('secret/data/app/cfg', { data: { ...cfg, API_KEY: k } });
      cfg.API_KEY = k;
      await waitFor('re-rendered with the other secret\'s new version', async () => ((await readFile(`${out}/multi`, 'utf8').catch(() => '')) === `${db.user} ${k}` ? true : undefined), 60_000, 100);
    } finally {
      await stopChild(a.child);
    }
    assertNoValues(a.output(), 'sidecar log');
  });

  it('sidecar follows a snapshot restore, even when the next write reuses a version number it rendered', async () => {
    await root.write('secret/data/app/rs', { data: { v: 'before' } });
    const out = `${dir.path}/rs`;
    await mkdir(out);
    const config = `${dir.path}/rs.json`;
    await writeFile(config, JSON.stringify({ addr: srv.addr, dir: out, interval: '1s', auth: { type: 'kubernetes', role: 'app', tokenFile: jwtFile() }, secrets: [{ name: 'rs', path: 'secret/app/rs', template: '{{data.v}}' }] }));
    const a = startAgent(['sidecar', '--config', config]);
    const file = () => readFile(`${out}/rs`, 'utf8').catch(() => '');
    try {
      await waitFor('first render', async () => ((await file()) === 'before' ? true : undefined), 60_000, 100);
      const snapshot = (await root.request('GET', 'sys/storage/snapshot')).bytes!;
      await root.write('secret/data/app/rs', { data: { v: 'version-2' } });
      await waitFor('version 2 rendered', async () => ((await file()) === 'version-2' ? true : undefined), 60_000, 100);
      // The agent is paused while the store goes back to version 1 and a new write makes a
      // different version 2: when it looks again, the number is the one it rendered.
      a.child.kill('SIGSTOP');
      try {
        assert.equal((await root.request('PUT', 'sys/storage/snapshot', { snapshot: snapshot.toString('base64') })).status, 200);
        await root.write('secret/data/app/rs', { data: { v: 'after-restore' } });
        const meta = (await root.read('secret/metadata/app/rs')).body['data'] as { current_version: number };
        assert.equal(meta.current_version, 2, 'the version number is reused');
      } finally {
        a.child.kill('SIGCONT');
      }
      await waitFor('the new version 2 rendered', async () => ((await file()) === 'after-restore' ? true : undefined), 60_000, 100);
    } finally {
      await stopChild(a.child);
    }
  });

  it('a service-account token file replaced mid-run keeps logins working (re-read before every login)', async () => {
    const out = `${dir.path}/rotate`;
    await mkdir(out);
    const tokFile = `${dir.path}/rot-token`;
    await writeFile(tokFile, await kube.mint(SA));
    const a = startAgent(['sidecar', '--addr', srv.addr, '--k8s-role', 'app', '--k8s-mount', 'k8s-tr', '--k8s-token-file', tokFile, '--dir', out, '--interval', '1s', '--secret', 'u=secret/app/cfg#API_KEY']);
    try {
      await waitFor('first render', async () => ((await readFile(`${out}/u`, 'utf8').catch(() => '')) === cfg.API_KEY ? true : undefined), 60_000, 100);
      // The service account is recreated (new UID): the old token no longer passes TokenReview; the kubelet writes a new one.
      const newUid = 'b9c5d3e1-4444-4f10-8e3b-5c4d2a1b0f99';
      const fresh = await kube.mint({ ...SA, uid: newUid });
      await writeFile(`${tokFile}.new`, fresh);
      await rename(`${tokFile}.new`, tokFile);
      kube.serviceAccounts.set('payments/api', newUid);
      const reviewed = kube.hits.tokenReview;
      await waitFor('a login with the new token', async () => (kube.reviews.some((r) => r.token === fresh) && kube.hits.tokenReview > reviewed + 1 ? true : undefined), 60_000, 100);
      const k2 = value('k2-');
      await root.write('secret/data/app/cfg', { data: { ...cfg, API_KEY: k2 } });
      await waitFor('render after the token rotation', async () => ((await readFile(`${out}/u`, 'utf8')) === k2 ? true : undefined), 60_000, 100);
      cfg.API_KEY = k2;
    } finally {
      kube.serviceAccounts.set('payments/api', SA.uid);
      await stopChild(a.child);
    }
    assertNoValues(a.output(), 'sidecar log');
  });

  it('exec gives the child the values, keeps them out of its own environment, passes SIGTERM and the exit code', async () => {
    const ready = `${dir.path}/child-ready`;
    const script = `const fs=require('fs');process.on('SIGTERM',()=>{fs.writeFileSync(${JSON.stringify(ready)}+'.term','term');process.exit(42)});fs.writeFileSync(${JSON.stringify(ready)},JSON.stringify({pid:process.pid,pw:process.env.DB_PW,user:process.env.DB_USER}));setInterval(()=>{},1e6);`;
    const a = startAgent(['exec', ...base(), '--env', 'DB_PW=secret/app/db#password', '--env', 'DB_USER=secret/app/db#user', '--', process.execPath, '-e', script]);
    const seen = await waitFor('child started', async () => {
      const t = await readFile(ready, 'utf8').catch(() => '');
      return t ? (JSON.parse(t) as { pid: number; pw: string; user: string }) : undefined;
    }, 60_000, 100);
    const current = JSON.parse(JSON.stringify((await root.read('secret/data/app/db')).body['data'])) as { data: { password: string; user: string } };
    assert.equal(seen.pw, current.data.password);
    assert.equal(seen.user, current.data.user);
    const agentEnv = await readFile(`/proc/${a.child.pid}/environ`, 'latin1');
    const agentCmd = await readFile(`/proc/${a.child.pid}/cmdline`, 'latin1');
    assertNoValues(agentEnv + agentCmd, "the agent's own environment and argv");
    assert.ok((await readFile(`/proc/${seen.pid}/environ`, 'latin1')).includes(current.data.password), 'sanity: the child environment does hold it');
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 42, a.output());
    assert.equal(await readFile(`${ready}.term`, 'utf8'), 'term');
    const b = startAgent(['exec', ...base(), '--env', 'X=secret/app/db#user', '--', 'sh', '-c', 'test -n "$X" && exit 3']);
    assert.equal(await b.exited, 3);
    assertNoValues(a.output() + b.output(), 'exec log');
  });

  it('exec and init retry transient failures (a sealed server) with backoff, then succeed', async () => {
    await root.write('sys/seal', {});
    const config = `${dir.path}/patient.yaml`;
    await writeFile(config, 'initAttempts: 100\n');
    const out = `${dir.path}/patient`;
    await mkdir(out);
    const e = startAgent(['exec', '--config', config, ...base(), '--env', 'X=secret/app/db#user', '--', 'sh', '-c', 'test -n "$X" && exit 5']);
    const i = startAgent(['init', '--config', config, ...base(), '--dir', out, '--secret', 'u=secret/app/db#user']);
    try {
      await waitFor('exec retrying', async () => (/fetch failed, retrying/.test(e.output()) ? true : undefined), 60_000, 100);
      await waitFor('init retrying', async () => (/render failed, retrying/.test(i.output()) ? true : undefined), 60_000, 100);
      assert.match(e.output(), /ERR_SEALED/);
    } finally {
      await srv.client().write('sys/unseal', { key: unsealKey });
    }
    assert.equal(await e.exited, 5, e.output());
    assert.equal(await i.exited, 0, i.output());
    assert.equal(await readFile(`${out}/u`, 'utf8'), db.user);
  });

  it('no secret value in any agent log of this file', async () => {
    assert.ok(AGENT_OUTPUT.length >= 6);
    for (const o of AGENT_OUTPUT) assertNoValues(o, 'agent output');
  });
});
