/**
 * Issue 12 items 1, 5, 7 against a real server: num_uses spent atomically under concurrency (a
 * refused request writes nothing), TTLs bounded by the system max and the parent, periodic tokens,
 * and out-of-range numbers refused with the field and its range.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type ArcaProcess, initUnsealed, lastSweepAt, startArca } from '../harness/arca.ts';
import { type PostgresHandle, startPostgres, tempDir, waitFor } from '../harness/index.ts';

const ROOT = 'tokens-test-root';
const MAX_TTL = 768 * 3600;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Callers on their own loopback addresses (127.0.0.<n>): parallel callers look like distinct
 * clients, as pods behind a service would, so the failed-auth limiter (per address) stays out of
 * it. Each keeps one warmed keep-alive connection, so all requests reach the server together.
 */
class Caller {
  readonly #agent: http.Agent;
  constructor(
    readonly srv: ArcaProcess,
    n: number,
  ) {
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: `127.0.0.${n}` });
  }

  request(method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = token ? { 'x-vault-token': token } : {};
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.srv.port, method, path: `/v1/${path}`, agent: this.#agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

describe('tokens: uses, TTLs and ranges (real server)', () => {
  let srv: ArcaProcess;
  const root = () => srv.client(ROOT);
  const auth = (r: { body: Record<string, unknown> }) => r.body['auth'] as { client_token: string; lease_duration: number; renewable: boolean };
  const data = (r: { body: Record<string, unknown> }) => r.body['data'] as Record<string, unknown>;
  const errors = (r: { body: Record<string, unknown> }) => (r.body['errors'] as string[]).join(' ');

  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
    // One scheduled sweep a day: the tidy test below must be the only way its token can leave.
    srv = await startArca({ args: ['--dev', '--dev-root-token', ROOT], config: { expirySweep: { intervalSeconds: 86_400 } }, configDir: dir.path });
    await waitFor('dev bootstrap', async () => ((await root().request('GET', 'sys/health')).status === 200 ? true : undefined), 30_000, 100);
    await root().write('sys/policies/acl/writer', { policy: 'path "secret/data/*" { capabilities = ["create", "update", "read"] }' });
    await root().write('sys/policies/acl/maker', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
  });
  after(async () => {
    await srv?.stop();
    await dir?.remove();
  });

  it('serves lookup-self on the last use, then the token is gone', async () => {
    const tok = auth(await root().write('auth/token/create', { policies: ['writer'], num_uses: 1 })).client_token;
    const r = await srv.client(tok).request('GET', 'auth/token/lookup-self');
    assert.equal(r.status, 200);
    assert.equal((await root().request('POST', 'auth/token/lookup', { token: tok })).status, 403);
  });

  it('caps TTLs at the system max (768h) on create and renew', async () => {
    const r = await root().write('auth/token/create', { policies: ['writer'], ttl: '87600h' });
    assert.equal(auth(r).lease_duration, MAX_TTL);
    const tok = auth(r).client_token;
    const renewed = await srv.client(tok).write('auth/token/renew-self', { increment: '87600h' });
    assert.ok(auth(renewed).lease_duration <= MAX_TTL, String(auth(renewed).lease_duration));
  });

  it("applies the token store's own mount settings (sys/auth/token/tune, as vault auth tune token/ sends them) to auth/token/create", async () => {
    assert.equal((await root().request('POST', 'sys/auth/token/tune', { default_lease_ttl: '10m', max_lease_ttl: '1h' })).status, 204);
    try {
      const dflt = auth(await root().write('auth/token/create', { policies: ['writer'] }));
      assert.equal(dflt.lease_duration, 600, "no TTL asked: the mount's default");
      const long = await root().write('auth/token/create', { policies: ['writer'], ttl: '5h' });
      assert.equal(auth(long).lease_duration, 3600, "capped at the mount's max");
      assert.ok(Array.isArray(long.body['warnings']), 'with a warning that it was capped');
      const tok = auth(long).client_token;
      assert.equal(data(await srv.client(tok).request('GET', 'auth/token/lookup-self'))['explicit_max_ttl'], 3600);
      const renewed = auth(await srv.client(tok).write('auth/token/renew-self', { increment: '10h' }));
      assert.ok(renewed.lease_duration <= 3600, `renewed to ${renewed.lease_duration}s`);
      const batch = auth(await root().write('auth/token/create', { policies: ['writer'], type: 'batch', ttl: '5h' }));
      assert.equal(batch.lease_duration, 3600, 'a batch token too');
      const forever = auth(await root().write('auth/token/create', { policies: ['root'] }));
      assert.equal(forever.lease_duration, 0, 'a root token asked without a TTL still never expires, as in Vault');
      await root().write('auth/token/revoke', { token: forever.client_token });
      const tune = data(await root().request('GET', 'sys/auth/token/tune'));
      assert.deepEqual([tune['default_lease_ttl'], tune['max_lease_ttl']], [600, 3600]);
    } finally {
      await root().request('POST', 'sys/auth/token/tune', { default_lease_ttl: 'system', max_lease_ttl: 'system' });
    }
    assert.equal(auth(await root().write('auth/token/create', { policies: ['writer'] })).lease_duration, MAX_TTL, 'untuned again: the system default');
  });

  it("caps a child at its parent's remaining life and refuses it once the parent expires", async () => {
    const parent = auth(await root().write('auth/token/create', { policies: ['maker', 'writer'], ttl: '15s' })).client_token;
    const child = auth(await srv.client(parent).write('auth/token/create', { policies: ['writer'], ttl: '1h' }));
    assert.ok(child.lease_duration <= 15, `created with ${child.lease_duration}s`);
    const renewed = auth(await srv.client(child.client_token).write('auth/token/renew-self', { increment: '87600h' }));
    assert.ok(renewed.lease_duration <= 15, `renewed to ${renewed.lease_duration}s`);
    await waitFor('parent expiry', async () => ((await srv.client(parent).request('GET', 'auth/token/lookup-self')).status === 403 ? true : undefined), 60_000, 250);
    assert.equal((await srv.client(child.client_token).request('GET', 'secret/data/uses-1')).status, 403);
  });

  it('removes an expired token nobody presents again from storage on auth/token/tidy (202), and keeps live ones', async () => {
    const accessors = async () => (data(await root().request('LIST', 'auth/token/accessors'))['keys'] as string[]);
    // Not looked up while it expires (a lookup would revoke it): only a sweep can remove it. The
    // server's scheduled one runs at its first tick, then once a day (the config above): once that
    // first one is done, the tidy is the only sweep left to do it.
    await waitFor('the first scheduled sweep', async () => ((await lastSweepAt(root())) > 0 ? true : undefined), 60_000, 250);
    const scheduled = await lastSweepAt(root());
    const short = (auth(await root().write('auth/token/create', { policies: ['writer'], ttl: '1s' })) as unknown as { accessor: string }).accessor;
    const long = (auth(await root().write('auth/token/create', { policies: ['writer'], ttl: '1h' })) as unknown as { accessor: string }).accessor;
    assert.ok((await accessors()).includes(short));
    await new Promise((r) => setTimeout(r, 2100));
    const tidy = await root().write('auth/token/tidy', {});
    assert.equal(tidy.status, 202);
    await waitFor('the sweep to remove the expired token', async () => ((await accessors()).includes(short) ? undefined : true), 60_000, 100);
    assert.ok((await accessors()).includes(long), 'the live token stays');
    assert.ok((await lastSweepAt(root())) > scheduled, 'a sweep ran after the scheduled one: the tidy');
  });

  it("takes Go clients' token-create body, refuses what Arca does not offer, and names ignored fields", async () => {
    const accessors = async () => (data(await root().request('LIST', 'auth/token/accessors'))['keys'] as string[]).length;
    // What Vault's Go api.TokenCreateRequest sends for a plain create: type and entity_alias always, empty.
    const go = await root().write('auth/token/create', { policies: ['writer'], display_name: '', num_uses: 0, type: '', entity_alias: '' });
    assert.equal(go.status, 200, JSON.stringify(go.body));
    assert.equal(go.body['warnings'] ?? null, null);
    assert.equal(auth(await root().write('auth/token/create', { policies: ['writer'], lease: '1h' })).lease_duration, 3600, 'lease is the old name of ttl');
    const before = await accessors();
    for (const [field, value, message] of [['entity_alias', 'ci-bot-7f3a', /entity_alias is not supported/], ['role_name', 'ci-role-91c', /role_name is taken from the path/], ['id', 'my-token-6d2e', /custom token IDs/]] as const) {
      const r = await root().request('POST', 'auth/token/create', { policies: ['writer'], [field]: value });
      assert.equal(r.status, 400, field);
      assert.match(errors(r), message);
      assert.equal(errors(r).includes(value), false, 'the error does not quote a free-form value');
    }
    assert.equal(await accessors(), before, 'a refused create writes nothing');
    const typo = await root().write('auth/token/create', { polices: ['writer'], ttl: '1h' });
    assert.equal(typo.status, 200);
    assert.deepEqual(typo.body['warnings'], ['Endpoint ignored these unrecognized parameters: [polices]']);
  });

  it("creates batch tokens (type=batch) by Vault's rules: nothing stored, no children, ended by the parent's revocation", async () => {
    const accessors = async () => (data(await root().request('LIST', 'auth/token/accessors'))['keys'] as string[]).length;
    const parent = auth(await root().write('auth/token/create', { policies: ['maker', 'writer'], ttl: '1h' })).client_token;
    const before = await accessors();
    const b = await srv.client(parent).write('auth/token/create', { policies: ['writer', 'maker'], type: 'batch', ttl: '10m' });
    assert.equal(b.status, 200, JSON.stringify(b.body));
    const ba = b.body['auth'] as { client_token: string; token_type: string; renewable: boolean; orphan: boolean; accessor: string };
    assert.match(ba.client_token, /^hvb\./);
    assert.deepEqual([ba.token_type, ba.renewable, ba.orphan, ba.accessor], ['batch', false, false, '']);
    assert.equal(await accessors(), before, 'a batch token is not stored');
    const bc = srv.client(ba.client_token);
    assert.equal((await bc.write('secret/data/batch-1', { data: { v: 'x' } })).status, 200, 'it carries its policies');
    const child = await bc.request('POST', 'auth/token/create', { policies: ['writer'] });
    assert.equal(child.status, 400, 'its maker policy allows the path, Vault still refuses');
    assert.match(errors(child), /batch tokens cannot create more tokens/);
    for (const [field, value] of [['num_uses', 2], ['explicit_max_ttl', '1h'], ['period', '1h']] as const) {
      const r = await root().request('POST', 'auth/token/create', { policies: ['writer'], type: 'batch', [field]: value });
      assert.equal(r.status, 400, field);
      assert.match(errors(r), new RegExp(`batch tokens cannot have "${field}" set`));
    }
    const rootBatch = await root().request('POST', 'auth/token/create', { type: 'batch' });
    assert.equal(rootBatch.status, 400);
    assert.match(errors(rootBatch), /batch tokens cannot be root tokens/);
    assert.equal(await accessors(), before, 'refusals write nothing');
    assert.equal((await root().request('POST', 'auth/token/revoke', { token: parent })).status, 204);
    assert.equal((await bc.request('GET', 'auth/token/lookup-self')).status, 403, 'gone with its parent');
    bc.close();
  });

  it('cuts the children at once when a parent is revoked', async () => {
    const parent = auth(await root().write('auth/token/create', { policies: ['maker', 'writer'], ttl: '1h' })).client_token;
    const child = auth(await srv.client(parent).write('auth/token/create', { policies: ['writer'] })).client_token;
    assert.equal((await srv.client(child).request('GET', 'auth/token/lookup-self')).status, 200);
    assert.equal((await root().request('POST', 'auth/token/revoke', { token: parent })).status, 204);
    assert.equal((await srv.client(child).request('GET', 'auth/token/lookup-self')).status, 403);
  });

  it('gives a periodic token its period as TTL; renew resets to the period', async () => {
    const r = await root().write('auth/token/create', { policies: ['writer'], period: '1h' });
    assert.equal(auth(r).lease_duration, 3600);
    assert.equal(auth(r).renewable, true);
    const tok = auth(r).client_token;
    const look = data(await srv.client(tok).read('auth/token/lookup-self'));
    assert.equal(look['period'], 3600);
    // Its lifetime without depending on how long the test took: the period as creation TTL, an expiry
    // exactly that far after issue, and a remaining TTL counting down from it.
    assert.equal(look['creation_ttl'], 3600, 'issued with the period as its TTL');
    assert.equal(Date.parse(look['issue_time'] as string), (look['creation_time'] as number) * 1000);
    assert.equal(Date.parse(look['expire_time'] as string) - Date.parse(look['issue_time'] as string), 3600 * 1000);
    assert.ok(Number.isInteger(look['ttl']) && (look['ttl'] as number) > 0 && (look['ttl'] as number) <= 3600, `remaining ttl ${look['ttl']}`);
    assert.equal(auth(await srv.client(tok).write('auth/token/renew-self', { increment: '10h' })).lease_duration, 3600);
    const denied = await srv.client(auth(await root().write('auth/token/create', { policies: ['maker'] })).client_token).request('POST', 'auth/token/create', { period: '1h' });
    assert.equal(denied.status, 400, 'periodic tokens need root or sudo');
  });

  it('refuses out-of-range numbers with 400 naming the field and its range, and writes nothing', async () => {
    const before = ((await root().request('GET', 'auth/token/accessors?list=true')).body['data'] as { keys: string[] } | undefined)?.keys.length;
    const cases: [string, Record<string, unknown>][] = [
      ['ttl', { ttl: 1e20 }],
      ['ttl', { ttl: '99999999999h' }],
      ['ttl', { ttl: -5 }],
      ['explicit_max_ttl', { explicit_max_ttl: 1e20 }],
      ['period', { period: 1e20 }],
      ['num_uses', { num_uses: -1 }],
      ['num_uses', { num_uses: 1e20 }],
    ];
    for (const [field, body] of cases) {
      const r = await root().request('POST', 'auth/token/create', { policies: ['writer'], ...body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(errors(r), new RegExp(`"${field}"`));
      assert.match(errors(r), /from 0/);
      assert.equal(errors(r).includes(String(Object.values(body)[0])), false, 'the value is not echoed');
    }
    assert.match(errors(await root().request('POST', 'auth/token/create', { num_uses: -1 })), /cannot be negative/);
    const tok = auth(await root().write('auth/token/create', { policies: ['writer'] })).client_token;
    const renew = await srv.client(tok).request('POST', 'auth/token/renew-self', { increment: 1e20 });
    assert.equal(renew.status, 400);
    assert.match(errors(renew), /"increment"/);
    assert.equal((await srv.client(tok).request('GET', 'auth/token/lookup-self')).status, 200);
    assert.equal((await root().request('POST', 'auth/token/lookup', { token: tok })).status, 200);
    const afterCount = ((await root().request('GET', 'auth/token/accessors?list=true')).body['data'] as { keys: string[] }).keys.length;
    assert.equal(afterCount, (before ?? 0) + 1, 'only the valid token was created');
  });

  it('treats num_uses 0 as unlimited', async () => {
    const tok = auth(await root().write('auth/token/create', { policies: ['writer'], num_uses: 0 })).client_token;
    for (let i = 0; i < 5; i++) assert.equal((await srv.client(tok).request('GET', 'auth/token/lookup-self')).status, 200);
  });
});

// On PostgreSQL every storage call is real I/O, so parallel requests interleave inside the pipeline
// (as they do in production): this is where a use spent after the request let every caller through.
describe('tokens: num_uses under concurrency (PostgreSQL storage)', () => {
  let pg: PostgresHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ArcaProcess;
  let root: ReturnType<ArcaProcess['client']>;
  const auth = (r: { body: Record<string, unknown> }) => r.body['auth'] as { client_token: string };
  const data = (r: { body: Record<string, unknown> }) => r.body['data'] as Record<string, unknown>;

  before(async () => {
    pg = await startPostgres();
    dir = await tempDir();
    srv = await startArca({ config: { storage: { type: 'postgres', url: await pg.createDatabase() } }, configDir: dir.path });
    root = srv.client((await initUnsealed(srv)).root);
    await root.write('sys/policies/acl/writer', { policy: 'path "secret/data/*" { capabilities = ["create", "update", "read"] }' });
  });
  after(async () => {
    await srv?.stop();
    await pg?.stop();
    await dir?.remove();
  });

  for (const uses of [1, 3]) {
    it(`applies exactly ${uses} of 16 parallel KV writes with a num_uses=${uses} token; the others are 403 and write nothing`, async () => {
      const tok = auth(await root.write('auth/token/create', { policies: ['writer'], num_uses: uses })).client_token;
      const path = `secret/data/uses-${uses}`;
      const callers = Array.from({ length: 16 }, (_, i) => new Caller(srv, i + 2));
      await Promise.all(callers.map((c) => c.request('GET', 'sys/health')));
      const replies = await Promise.all(callers.map((c, i) => c.request('POST', path, tok, { data: { writer: String(i) } })));
      for (const c of callers) c.close();
      const statuses = replies.map((r) => r.status).sort();
      assert.deepEqual(statuses, [...Array(uses).fill(200), ...Array(16 - uses).fill(403)]);
      const meta = data(await root.read(`secret/metadata/uses-${uses}`));
      assert.equal(meta['current_version'], uses);
      assert.equal(Object.keys(meta['versions'] as object).length, uses, 'no refused write was applied');
      assert.equal((await srv.client(tok).request('GET', path)).status, 403, 'the token is spent');
    });
  }

});
