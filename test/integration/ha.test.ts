/**
 * Issue 8: three replicas on one real PostgreSQL. One active, standbys answer health 429 and forward;
 * SIGKILL of the active → a new active, every acknowledged write readable; a replica that steps down
 * forwards to the current active at once; SIGSTOP past the lease → a standby takes over and the
 * resumed old active cannot write. Every wait is on a condition (generous deadlines), never a sleep.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { FORWARDED_TO_HEADER } from '../../src/ha/index.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { type PostgresHandle, retryWhileNoActive, startPostgres, tempDir, waitFor } from '../harness/index.ts';

const LEASE_SECONDS = 3;

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A PUT whose response headers we can read (which replica answered). `sent` resolves once the
 * request is fully handed to the kernel — the moment a paused server has it waiting in its socket.
 */
function rawPut(addr: string, path: string, token: string, body: unknown): { sent: Promise<void>; response: Promise<RawResponse> } {
  let sent!: () => void;
  const sentP = new Promise<void>((r) => (sent = r));
  const response = new Promise<RawResponse>((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(`${addr}/v1/${path}`, { method: 'PUT', headers: { 'x-vault-token': token, 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data, () => sent());
  });
  return { sent: sentP, response };
}

describe('HA: replicas on PostgreSQL', () => {
  let pg: PostgresHandle;
  let url: string;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const replicas: ArcaProcess[] = [];
  let keys: string[] = [];
  let root = '';

  const start = async () => {
    const r = await startArca({ config: { storage: { type: 'postgres', url }, ha: { leaseSeconds: LEASE_SECONDS } }, configDir: dir.path });
    replicas.push(r);
    return r;
  };
  const unseal = async (r: ArcaProcess) => {
    for (const k of keys.slice(0, 2)) await r.client().write('sys/unseal', { key: k });
  };
  const healthOf = async (r: ArcaProcess) => (await r.client().request('GET', 'sys/health').catch(() => ({ status: 0 }))).status;
  const alive = () => replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  const activeOf = async (rs: ArcaProcess[]) => {
    const st = await Promise.all(rs.map(healthOf));
    return rs.filter((_, i) => st[i] === 200);
  };

  before(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase();
    dir = await tempDir();
  });
  after(async () => {
    for (const r of replicas) await r.kill('SIGKILL').catch(() => {});
    await pg?.stop();
    await dir?.remove();
  });

  it('elects exactly one active among three unsealed replicas', async () => {
    const a = await start();
    const init = (await a.client().write('sys/init', { secret_shares: 3, secret_threshold: 2 })).body as { keys: string[]; root_token: string };
    keys = init.keys;
    root = init.root_token;
    const b = await start();
    const c = await start();
    for (const r of [a, b, c]) await unseal(r);
    await waitFor('one active', async () => ((await activeOf([a, b, c])).length === 1 ? true : undefined), 15_000, 200);
    const statuses = await Promise.all([a, b, c].map(healthOf));
    assert.deepEqual(statuses.filter((s) => s === 200).length, 1);
    assert.deepEqual(statuses.filter((s) => s === 429).length, 2);
    const [act] = await activeOf([a, b, c]);
    const leader = (await b.client().read('sys/leader')).body;
    assert.equal(leader['ha_enabled'], true);
    assert.equal(leader['leader_address'], act!.addr);
    // vault operator members (sys/ha-status), asked of a standby: the three replicas, the active first.
    type Node = { api_address: string; active_node: boolean; last_echo: string | null; version: string };
    const standby = [a, b, c].find((r) => r !== act)!;
    const nodes = await waitFor('three replicas in sys/ha-status', async () => {
      const r = await retryWhileNoActive('the standby to answer', () => standby.client(root).request('GET', 'sys/ha-status'));
      const n = ((r.body['data'] as { nodes?: Node[] } | undefined)?.nodes ?? []);
      return n.length === 3 ? n : undefined;
    }, 30_000, 200);
    assert.deepEqual(nodes.map((n) => n.active_node), [true, false, false]);
    assert.equal(nodes[0]!.api_address, act!.addr);
    assert.equal(nodes[0]!.last_echo, null);
    assert.deepEqual(nodes.map((n) => n.api_address).sort(), [a, b, c].map((r) => r.addr).sort());
    for (const n of nodes.slice(1)) assert.ok(!Number.isNaN(Date.parse(n.last_echo ?? '')), 'a standby has its last heartbeat');
  });

  it('forwards requests from a standby with their auth and error semantics', async () => {
    const [act] = await activeOf(alive());
    const standby = alive().find((r) => r !== act)!;
    const c = standby.client(root);
    // Answered by the active (the standby forwarded it), not applied by the standby itself.
    const w = await rawPut(standby.addr, 'secret/data/fwd', root, { data: { v: 'through-standby' } }).response;
    assert.equal(w.status, 200, w.body);
    assert.equal(w.headers[FORWARDED_TO_HEADER], act!.addr);
    const r = (await act!.client(root).read('secret/data/fwd')).body as { data: { data: { v: string } } };
    assert.equal(r.data.data.v, 'through-standby');
    const denied = await standby.client('hvs.bogus').request('GET', 'secret/data/fwd');
    assert.equal(denied.status, 403);
    assert.match(JSON.stringify(denied.body), /invalid token/);
    const missing = await c.request('GET', 'secret/data/nope');
    assert.equal(missing.status, 404);
    // LIST through a standby (Node cannot receive the verb natively; it is rebuilt, then forwarded).
    const list = await c.request('GET', 'secret/metadata/?list=true');
    assert.deepEqual((list.body['data'] as { keys: string[] }).keys, ['fwd']);
  });

  it('serves a batch token (stored nowhere) through a standby and from the next active after a step-down', async () => {
    const [act] = await activeOf(alive());
    const created = await act!.client(root).write('auth/token/create', { policies: ['default'], type: 'batch', ttl: '30m' });
    const batch = (created.body['auth'] as { client_token: string }).client_token;
    assert.match(batch, /^hvb\./);
    const self = async (r: ArcaProcess) => {
      const x = await r.client(batch).request('GET', 'auth/token/lookup-self');
      return { status: x.status, type: (x.body['data'] as { type?: string } | undefined)?.type };
    };
    const standby = alive().find((r) => r !== act)!;
    assert.deepEqual(await retryWhileNoActive('the standby to answer', () => self(standby)), { status: 200, type: 'batch' });
    await act!.client(root).write('sys/step-down', {});
    const [now] = await waitFor('an active', async () => {
      const a = await activeOf(alive());
      return a.length === 1 ? a : undefined;
    }, 60_000, 100);
    // The election may still be settling: only its 429 is retried.
    const after = await retryWhileNoActive('the new active to answer', () => self(now!));
    assert.deepEqual(after, { status: 200, type: 'batch' }, 'after the takeover (a fresh token store, whichever replica won) it still opens');
  });

  it('fails over after SIGKILL of the active, losing no acknowledged write', async () => {
    const [act] = await activeOf(alive());
    const standby = alive().find((r) => r !== act)!;
    const c = standby.client(root);
    const acked: number[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        const r = await c.request('PUT', `secret/data/seq/${i}`, { data: { i: String(i) } }).catch(() => ({ status: 0 }));
        if (r.status === 200) acked.push(i);
        else await new Promise((res) => setTimeout(res, 50));
      }
    })();
    await waitFor('some writes', async () => (acked.length > 20 ? true : undefined), 20_000, 50);
    await act!.kill('SIGKILL');
    // A condition with a generous deadline, not a timing bound (the bound is lease + 1 s by design;
    // on a loaded 2-core machine a test asserting it would flake).
    const newActive = await waitFor('new active', async () => (await activeOf(alive()))[0], 60_000, 100);
    assert.notEqual(newActive, act);
    const before = acked.length;
    await waitFor('writes resume', async () => (acked.length > before + 20 ? true : undefined), 20_000, 50);
    stop = true;
    await writer;
    const rc = newActive.client(root);
    for (const i of acked) {
      const r = await rc.request('GET', `secret/data/seq/${i}`);
      assert.equal(r.status, 200, `acknowledged write ${i} is missing`);
    }
  });

  it('forwards to the current active right after stepping down (no stale leader, no 429)', async () => {
    // This active learned the leader it replaced while it was a standby; that address is now dead.
    const [act] = await activeOf(alive());
    await act!.client(root).write('sys/step-down', {});
    const res = await rawPut(act!.addr, 'secret/data/after-step-down', root, { data: { v: 'x' } }).response;
    assert.equal(res.status, 200, res.body);
    // Applied by whichever replica holds the lease now (this one again, or another it forwarded to).
    const [now] = await waitFor('an active', async () => {
      const a = await activeOf(alive());
      return a.length === 1 ? a : undefined;
    }, 60_000, 100);
    assert.equal(res.headers[FORWARDED_TO_HEADER] ?? act!.addr, now!.addr);
    assert.equal((await now!.client(root).request('GET', 'secret/data/after-step-down')).status, 200);
  });

  it('refuses writes from a paused active after a standby took over (SIGSTOP)', async () => {
    const [old] = await activeOf(alive());
    const others = alive().filter((r) => r !== old);
    old!.child.kill('SIGSTOP');
    try {
      // The paused active cannot renew; once its lease lapses (database clock) a standby takes over.
      const newer = await waitFor('takeover', async () => (await activeOf(others))[0], 60_000, 100);
      assert.notEqual(newer, old);
      // A write sent to the old active while it is paused is handled when it resumes, before it has
      // noticed the loss: the database fence must refuse it (or the old one has already stepped down
      // and forwards it to the new active) — it must never be applied under the old lease.
      const pending = rawPut(old!.addr, 'secret/data/split', root, { data: { by: 'old' } });
      await pending.sent;
      old!.child.kill('SIGCONT');
      const res = await pending.response;
      if (res.status === 200) {
        assert.equal(res.headers[FORWARDED_TO_HEADER], newer.addr, 'a 200 must come from the new active, not the paused one');
      } else {
        assert.ok([503, 429].includes(res.status), `status ${res.status}`);
        // Refused means not applied.
        assert.equal((await newer.client(root).request('GET', 'secret/data/split')).status, 404);
      }
      await waitFor('old one is standby', async () => ((await healthOf(old!)) === 429 ? true : undefined), 30_000, 100);
      assert.equal((await activeOf(alive())).length, 1);
    } finally {
      old!.child.kill('SIGCONT');
    }
  });
});
