/**
 * The active lease, held in PostgreSQL. All time comparisons use the database clock
 * (clock_timestamp()), so replicas' clocks may disagree without harm.
 *
 * Fencing: a trigger on the storage table refuses any insert/update/delete from a session whose
 * application_name is not the holder of a still-valid lease, once someone holds one. A replica that
 * lost its lease — even one paused (SIGSTOP) that has not noticed yet — can no longer write: its
 * statements reach the trigger, which sees another holder. The trigger row-locks the lease row
 * (FOR SHARE), so a takeover waits for an in-flight write statement to finish and never interleaves.
 * While nobody holds a valid lease (a fresh cluster before anyone unsealed), writes are allowed, so
 * `init` can run.
 */
import pg from 'pg';
import { ArcaError } from '../errors/index.ts';

/** SQLSTATE the fence raises (class "AR" is ours). */
export const FENCED_SQLSTATE = 'AR001';
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export interface LeaseInfo {
  holder: string;
  apiAddr: string;
  acquiredAt: Date;
  expiresAt: Date;
  /** Whether the lease is still valid by the database clock. */
  valid: boolean;
}

export class PgLease {
  readonly #pool: pg.Pool;
  readonly #lockTable: string;
  readonly #dataTable: string;

  constructor(url: string, dataTable: string, password?: string) {
    if (!IDENT.test(dataTable)) throw new ArcaError('ERR_CONFIG_INVALID', 'storage table must be a lowercase SQL identifier');
    this.#dataTable = dataTable;
    this.#lockTable = `${dataTable}_ha_lease`.slice(0, 63);
    this.#pool = new pg.Pool({
      connectionString: url, ...(password === undefined ? {} : { password }), max: 2,
      connectionTimeoutMillis: 3000, query_timeout: 5000, application_name: 'arca-ha',
    });
    this.#pool.on('error', () => {});
  }

  /** Creates the lease table, the row and the fencing trigger (idempotent, safe to race). */
  async setup(): Promise<void> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      // Serialise concurrent setups from several replicas.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`arca-ha-setup-${this.#dataTable}`]);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.#lockTable} (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, api_addr TEXT NOT NULL,
        acquired_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)`);
      await c.query(`INSERT INTO ${this.#lockTable} VALUES ('active', '', '', 'epoch', 'epoch') ON CONFLICT DO NOTHING`);
      await c.query(`CREATE OR REPLACE FUNCTION ${this.#dataTable}_ha_fence() RETURNS trigger AS $f$
        BEGIN
          IF EXISTS (SELECT 1 FROM ${this.#lockTable} WHERE name = 'active' AND holder <> ''
                     AND holder <> current_setting('application_name') AND expires_at > clock_timestamp() FOR SHARE) THEN
            RAISE EXCEPTION 'arca: another replica holds the active lease' USING ERRCODE = '${FENCED_SQLSTATE}';
          END IF;
          RETURN COALESCE(NEW, OLD);
        END $f$ LANGUAGE plpgsql`);
      await c.query(`DROP TRIGGER IF EXISTS ${this.#dataTable}_ha_fence ON ${this.#dataTable}`);
      await c.query(`CREATE TRIGGER ${this.#dataTable}_ha_fence BEFORE INSERT OR UPDATE OR DELETE ON ${this.#dataTable}
        FOR EACH ROW EXECUTE FUNCTION ${this.#dataTable}_ha_fence()`);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw new ArcaError('ERR_STORAGE_UNAVAILABLE', 'cannot set up the HA lease table in PostgreSQL', { cause: err });
    } finally {
      c.release();
    }
  }

  /** Takes or renews the lease; true if `holder` holds it afterwards. */
  async tryAcquire(holder: string, apiAddr: string, leaseSeconds: number): Promise<boolean> {
    const r = await this.#pool.query(
      `UPDATE ${this.#lockTable} SET
         acquired_at = CASE WHEN holder = $1 AND expires_at > clock_timestamp() THEN acquired_at ELSE clock_timestamp() END,
         holder = $1, api_addr = $2, expires_at = clock_timestamp() + make_interval(secs => $3)
       WHERE name = 'active' AND (holder = $1 OR holder = '' OR expires_at <= clock_timestamp())`,
      [holder, apiAddr, leaseSeconds],
    );
    return r.rowCount === 1;
  }

  /** Gives the lease up (clean shutdown / seal), so a standby takes over at once. */
  async release(holder: string): Promise<void> {
    await this.#pool.query(`UPDATE ${this.#lockTable} SET expires_at = clock_timestamp(), holder = '' WHERE name = 'active' AND holder = $1`, [holder]);
  }

  async current(): Promise<LeaseInfo | undefined> {
    const r = await this.#pool.query<{ holder: string; api_addr: string; acquired_at: Date; expires_at: Date; valid: boolean }>(
      `SELECT holder, api_addr, acquired_at, expires_at, expires_at > clock_timestamp() AS valid FROM ${this.#lockTable} WHERE name = 'active'`,
    );
    const row = r.rows[0];
    if (!row || row.holder === '') return undefined;
    return { holder: row.holder, apiAddr: row.api_addr, acquiredAt: row.acquired_at, expiresAt: row.expires_at, valid: row.valid };
  }

  /**
   * A replica's heartbeat (Vault's standby echoes, for `sys/ha-status`): a row `member:<id>` in the
   * lease table, valid for `ttlSeconds` by the database clock. The fence reads only the `active` row.
   */
  async heartbeat(id: string, apiAddr: string, ttlSeconds: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO ${this.#lockTable} VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp() + make_interval(secs => $4))
       ON CONFLICT (name) DO UPDATE SET api_addr = EXCLUDED.api_addr, acquired_at = clock_timestamp(), expires_at = EXCLUDED.expires_at`,
      [`member:${id}`, id, apiAddr, ttlSeconds],
    );
  }

  /** The replicas whose heartbeat is still valid, with when it was last sent; rows long gone are dropped. */
  async members(): Promise<{ id: string; apiAddr: string; lastEcho: Date }[]> {
    await this.#pool.query(`DELETE FROM ${this.#lockTable} WHERE name LIKE 'member:%' AND expires_at < clock_timestamp() - interval '1 hour'`);
    const r = await this.#pool.query<{ holder: string; api_addr: string; acquired_at: Date }>(
      `SELECT holder, api_addr, acquired_at FROM ${this.#lockTable} WHERE name LIKE 'member:%' AND expires_at > clock_timestamp() ORDER BY holder`,
    );
    return r.rows.map((x) => ({ id: x.holder, apiAddr: x.api_addr, lastEcho: x.acquired_at }));
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
