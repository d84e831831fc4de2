/**
 * PostgresStorage: the shared Storage for HA deployments (a pg Pool over one table).
 *
 *   const s = await PostgresStorage.open({ url: 'postgres://arca@db:5432/arca', password, table: 'arca_kv' });
 *
 * Table: (key TEXT COLLATE "C" PRIMARY KEY, value BYTEA). COLLATE "C" makes comparisons byte-wise
 * whatever the database's locale, which prefix range scans rely on (see key-range.ts).
 * Every statement goes through `#query`, the one place where HA fencing (issue 8: a write must fail
 * once this replica has lost its lease) can later condition writes.
 */
import pg from 'pg';
import { ArcaError } from '../errors/index.ts';
import { prefixUpperBound } from './key-range.ts';
import { bytesEqual, checkCommit, childrenOf, type CommitOps, compareCodeUnits, type Storage, validateKey } from './storage.ts';

export interface PostgresStorageOptions {
  /** Connection URL; a password in it is accepted but `password` is preferred (it never lands in config). */
  url: string;
  password?: string | undefined;
  /** Table name, a lowercase SQL identifier. Default `arca_kv`. */
  table?: string | undefined;
  maxConnections?: number | undefined;
  /** How long to wait for a connection before failing with ERR_STORAGE_UNAVAILABLE. Default 5000. */
  connectTimeoutMs?: number | undefined;
  /** How long one query may take before failing with ERR_STORAGE_UNAVAILABLE. Default 30000. */
  queryTimeoutMs?: number | undefined;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Deadlock detected / serialization failure: the transaction was aborted and may simply be retried. */
const RETRYABLE_SQLSTATE = new Set(['40P01', '40001']);
const COMMIT_ATTEMPTS = 5;

/** SQLSTATE classes/codes that mean "cannot reach or use the server", as opposed to a query bug. */
const CONNECTION_SQLSTATE = /^(08|28|53|57P)/;

interface Queries {
  create: string;
  get: string;
  put: string;
  del: string;
  rangeFrom: string;
  rangeBetween: string;
  insertAbsent: string;
  replaceExpected: string;
  lockValue: string;
  all: string;
}

function queries(t: string): Queries {
  return {
    create: `CREATE TABLE IF NOT EXISTS ${t} (key TEXT COLLATE "C" PRIMARY KEY, value BYTEA NOT NULL)`,
    get: `SELECT value FROM ${t} WHERE key = $1`,
    put: `INSERT INTO ${t} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
    del: `DELETE FROM ${t} WHERE key = $1`,
    rangeFrom: `SELECT key FROM ${t} WHERE key >= $1 ORDER BY key`,
    rangeBetween: `SELECT key FROM ${t} WHERE key >= $1 AND key < $2 ORDER BY key`,
    insertAbsent: `INSERT INTO ${t} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
    // Under READ COMMITTED a concurrent UPDATE of the same row waits for the first to commit and
    // then re-checks the WHERE clause against the new value, so only one compare-and-put wins.
    replaceExpected: `UPDATE ${t} SET value = $2 WHERE key = $1 AND value = $3`,
    lockValue: `SELECT value FROM ${t} WHERE key = $1 FOR UPDATE`,
    all: `SELECT key, value FROM ${t}`,
  };
}

export class PostgresStorage implements Storage {
  readonly #pool: pg.Pool;
  readonly #q: Queries;
  readonly #where: string;
  #closed = false;

  private constructor(pool: pg.Pool, q: Queries, where: string) {
    this.#pool = pool;
    this.#q = q;
    this.#where = where;
  }

  /** Connects, creates the table if missing, and returns the store. */
  static async open(opts: PostgresStorageOptions): Promise<PostgresStorage> {
    const table = opts.table ?? 'arca_kv';
    if (!TABLE_NAME.test(table)) {
      throw new ArcaError('ERR_CONFIG_INVALID', `storage table ${JSON.stringify(table)} must be a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)`);
    }
    const where = describeUrl(opts.url);
    const pool = new pg.Pool({
      connectionString: opts.url,
      ...(opts.password === undefined ? {} : { password: opts.password }),
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      query_timeout: opts.queryTimeoutMs ?? 30_000,
      application_name: 'arca',
      // The Storage contract: an acknowledged put survives a crash. A database or role default of
      // synchronous_commit=off would acknowledge commits before their WAL is flushed, so insist
      // (a commit that asks for relaxed durability turns it off for its own transaction only).
      options: '-c synchronous_commit=on',
    });
    // An idle client losing its connection emits 'error' on the pool; without a listener that
    // would crash the process. The next query gets a fresh connection or a proper error.
    pool.on('error', () => {});
    const store = new PostgresStorage(pool, queries(table), where);
    try {
      await store.#query(store.#q.create, []).catch(async (err: unknown) => {
        // Two replicas creating the table at once can collide in the catalog: on pg_type's unique
        // index (23505), on the table (42P07) or on its primary key (42710). The other one won, so
        // the same IF NOT EXISTS again finds its table (waiting for its commit if need be).
        if (!(err instanceof ArcaError && CREATE_RACE.some((c) => isSqlState(err.cause, c)))) throw err;
        await store.#query(store.#q.create, []);
      });
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return store;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const r = await this.#query<{ value: Buffer }>(this.#q.get, [key]);
    const row = r.rows[0];
    return row === undefined ? undefined : new Uint8Array(row.value);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    validateKey(key);
    await this.#query(this.#q.put, [key, toBuffer(value)]);
  }

  async delete(key: string): Promise<void> {
    await this.#query(this.#q.del, [key]);
  }

  /** One statement: under READ COMMITTED it reads one snapshot of the table. */
  async snapshot(): Promise<[string, Uint8Array][]> {
    const r = await this.#query<{ key: string; value: Buffer }>(this.#q.all, []);
    return r.rows.map((row): [string, Uint8Array] => [row.key, new Uint8Array(row.value)]).sort(([a], [b]) => compareCodeUnits(a, b));
  }

  async list(prefix: string): Promise<string[]> {
    const upper = prefixUpperBound(prefix);
    const r =
      upper === undefined
        ? await this.#query<{ key: string }>(this.#q.rangeFrom, [prefix])
        : await this.#query<{ key: string }>(this.#q.rangeBetween, [prefix, upper]);
    return childrenOf(
      prefix,
      r.rows.map((row) => row.key),
    );
  }

  async putIf(key: string, value: Uint8Array, expected: Uint8Array | undefined): Promise<boolean> {
    validateKey(key);
    const r =
      expected === undefined
        ? await this.#query(this.#q.insertAbsent, [key, toBuffer(value)])
        : await this.#query(this.#q.replaceExpected, [key, toBuffer(value), toBuffer(expected)]);
    return r.rowCount === 1;
  }

  /**
   * One READ COMMITTED transaction. Every expected key is locked before it is compared, in key order
   * (so two multi-key commits cannot deadlock on their expectations):
   *  - expected present: `SELECT … FOR UPDATE` locks the row, a concurrent writer waits for us;
   *  - expected absent: we INSERT the row (its final value if we also put it, else a placeholder
   *    deleted again before COMMIT, so never visible). A concurrent inserter of the same key blocks on
   *    the unique index until we finish, so an absence cannot change under us either.
   * Then puts and deletes run, and COMMIT makes all of it durable at once (synchronous_commit=on).
   */
  async commit(ops: CommitOps): Promise<boolean> {
    const c = checkCommit(ops);
    if (c.puts.length === 0 && c.deletes.length === 0 && c.expect.length === 0) return true;
    if (this.#closed) throw new ArcaError('ERR_STORAGE_UNAVAILABLE', `PostgreSQL storage ${this.#where} is closed`);
    const puts = new Map(c.puts.map(([k, v]) => [k, toBuffer(v)]));
    const expect = [...c.expect].sort(([a], [b]) => compareCodeUnits(a, b));
    const dels = [...c.deletes];
    const putOrder = [...puts.keys()].sort(compareCodeUnits);
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (err) {
        throw this.#unavailable(err);
      }
      let broken = false;
      try {
        // A relaxed commit (Storage.commit) does not wait for its WAL flush; in the same round trip.
        await client.query(c.relaxed ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
        const inserted = new Set<string>();
        let ok = true;
        for (const [key, expected] of expect) {
          if (expected === undefined) {
            const r = await client.query(this.#q.insertAbsent, [key, puts.get(key) ?? Buffer.alloc(0)]);
            if (r.rowCount !== 1) {
              ok = false;
              break;
            }
            inserted.add(key);
          } else {
            const r = await client.query<{ value: Buffer }>(this.#q.lockValue, [key]);
            if (!bytesEqual(r.rows[0]?.value, expected)) {
              ok = false;
              break;
            }
          }
        }
        if (!ok) {
          await client.query('ROLLBACK');
          return false;
        }
        for (const key of putOrder) if (!inserted.has(key)) await client.query(this.#q.put, [key, puts.get(key)]);
        // Placeholders of expected-absent keys that are not put come out again before COMMIT.
        for (const key of inserted) if (!puts.has(key) && !dels.includes(key)) await client.query(this.#q.del, [key]);
        for (const key of dels) await client.query(this.#q.del, [key]);
        await client.query('COMMIT');
        return true;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        if (attempt < COMMIT_ATTEMPTS && RETRYABLE_SQLSTATE.has(errCode(err) ?? '')) continue;
        throw this.#unavailable(err);
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.#closed) throw new ArcaError('ERR_STORAGE_UNAVAILABLE', `PostgreSQL storage ${this.#where} is closed`);
    try {
      return await this.#pool.query<R>(text, values);
    } catch (err) {
      throw this.#unavailable(err);
    }
  }

  #unavailable(err: unknown): ArcaError {
    const code = errCode(err);
    const what = code !== undefined && !CONNECTION_SQLSTATE.test(code) && /^[0-9A-Z]{5}$/.test(code) ? 'query failed' : 'cannot use server';
    return new ArcaError('ERR_STORAGE_UNAVAILABLE', `PostgreSQL storage ${this.#where}: ${what} (${code ?? 'no error code'}); check that the server is reachable and the credentials are right`, { cause: err });
  }
}

/** host:port/database of a URL, never its password. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    throw new ArcaError('ERR_CONFIG_INVALID', 'storage url is not a valid postgres:// URL');
  }
}

function errCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** SQLSTATEs of two concurrent `CREATE TABLE IF NOT EXISTS` of the same table (see `open`). */
const CREATE_RACE = ['23505', '42P07', '42710'];

function isSqlState(err: unknown, code: string): boolean {
  return errCode(err) === code;
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
