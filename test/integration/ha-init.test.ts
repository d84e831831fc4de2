/**
 * Issue 12 items 10 and 11, on real PostgreSQL: init is one transaction (exactly one of concurrent
 * inits wins, on one server or across replicas sharing the database), and replicas started before
 * init learn of it without a restart (seal status, unseal).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiResponse } from '../../src/client/index.ts';
import { type ArcaProcess, startArca } from '../harness/arca.ts';
import { type PostgresHandle, retryWhileNoActive, startPostgres, tempDir, waitFor } from '../harness/index.ts';

interface InitBody {
  keys: string[];
  root_token: string;
}

describe('HA: init and unseal of replicas started before init (PostgreSQL)', () => {
  let pg: PostgresHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const procs: ArcaProcess[] = [];

  const start = async (url: string) => {
    const r = await startArca({ config: { storage: { type: 'postgres', url }, ha: { leaseSeconds: 3 } }, configDir: dir.path });
    procs.push(r);
    return r;
  };
  const initFrom = (r: ArcaProcess) => r.client().request('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
  /** Exactly one 200; every other answer is ERR_ALREADY_INITIALIZED. Returns the winner's body. */
  const oneWinner = (res: ApiResponse[]): InitBody => {
    const won = res.filter((r) => r.status === 200);
    assert.equal(won.length, 1, `statuses: ${res.map((r) => r.status).join(',')}`);
    for (const r of res.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400);
      assert.equal((r.body as { error: { code: string } }).error.code, 'ERR_ALREADY_INITIALIZED');
    }
    return won[0]!.body as unknown as InitBody;
  };
  const unsealWith = async (r: ArcaProcess, key: string) => (await r.client().write('sys/unseal', { key })).body['sealed'];

  before(async () => {
    pg = await startPostgres();
    dir = await tempDir();
  });
  after(async () => {
    for (const p of procs) await p.stop().catch(() => {});
    await pg?.stop();
    await dir?.remove();
  });

  it('lets exactly one of 8 concurrent inits on one server win, and its keys unseal', async () => {
    const a = await start(await pg.createDatabase());
    const init = oneWinner(await Promise.all(Array.from({ length: 8 }, () => initFrom(a))));
    assert.equal(await unsealWith(a, init.keys[0]!), false);
    assert.equal((await a.client(init.root_token).request('GET', 'auth/token/lookup-self')).status, 200);
  });

  it('lets exactly one of 8 concurrent inits across two replicas win, and its keys unseal both', async () => {
    const url = await pg.createDatabase();
    const [a, b] = await Promise.all([start(url), start(url)]);
    const init = oneWinner(await Promise.all(Array.from({ length: 8 }, (_, i) => initFrom(i % 2 ? a! : b!))));
    assert.equal(await unsealWith(a!, init.keys[0]!), false);
    assert.equal(await unsealWith(b!, init.keys[0]!), false);
    // The root token of the winning init is the one both replicas know: each answers 200 (the standby
    // forwards to the active). With a 3 s lease on a loaded 2-core machine, leadership can move for a
    // moment (a replica with no known active answers 429, retry): only that is retried; a 403 (token
    // unknown) fails at once.
    for (const r of [a!, b!]) {
      const self = await retryWhileNoActive('the root token to be served', () => r.client(init.root_token).request('GET', 'auth/token/lookup-self'));
      assert.equal(self.status, 200);
    }
  });

  it('unseals a replica started before init through another, without a restart', async () => {
    const url = await pg.createDatabase();
    const [a, b] = await Promise.all([start(url), start(url)]);
    assert.equal((await b.client().read('sys/seal-status')).body['initialized'], false);
    const init = (await a.client().write('sys/init', { secret_shares: 3, secret_threshold: 2 })).body as unknown as InitBody;
    // b never restarted: it reports the init, and takes the shares.
    const st = (await b.client().read('sys/seal-status')).body;
    assert.equal(st['initialized'], true);
    assert.equal(st['t'], 2);
    assert.equal((await b.client().request('GET', 'sys/health')).status, 503);
    const again = await b.client().request('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
    assert.equal((again.body as { error: { code: string } }).error.code, 'ERR_ALREADY_INITIALIZED');
    assert.equal((await b.client().write('sys/unseal', { key: init.keys[0] })).body['progress'], 1);
    assert.equal(await unsealWith(b, init.keys[1]!), false);
    const c = b.client(init.root_token);
    await waitFor('b serves (as active or through the active)', async () => ((await c.request('GET', 'auth/token/lookup-self')).status === 200 ? true : undefined), 20_000, 100);
  });
});
