/**
 * A throwaway PostgreSQL cluster on 127.0.0.1 in a temp dir (initdb + pg_ctl), one per test process,
 * with a fresh database per `createDatabase()` call. initdb refuses to run as root, so as root we run
 * the server as the `postgres` user.
 */
import { chmod, chown, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileP, freePort, isRoot, tempDir } from './util.ts';

export interface PostgresHandle {
  /** Base URL (database `postgres`). */
  url: string;
  port: number;
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

async function pgBin(): Promise<string> {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) throw new Error('PostgreSQL server is not installed (apt-get install postgresql)');
  const versions = (await readdir(base)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(`${base}/${v}/bin/initdb`)) return `${base}/${v}/bin`;
  throw new Error('initdb not found under /usr/lib/postgresql');
}

let shared: Promise<PostgresHandle> | undefined;

/** Starts (once per process) and returns the cluster; stop it in an `after` hook. */
export function startPostgres(): Promise<PostgresHandle> {
  shared ??= launch();
  return shared;
}

async function launch(): Promise<PostgresHandle> {
  const bin = await pgBin();
  const dir = await tempDir('arca-pg-');
  await chmod(dir.path, 0o755);
  const data = `${dir.path}/data`;
  await mkdir(data);
  const asPg = isRoot();
  if (asPg) await chown(data, (await pgIds()).uid, (await pgIds()).gid);
  if (asPg) await chown(dir.path, (await pgIds()).uid, (await pgIds()).gid);
  const run = (cmd: string, args: string[]) =>
    asPg ? execFileP('runuser', ['-u', 'postgres', '--', `${bin}/${cmd}`, ...args]) : execFileP(`${bin}/${cmd}`, args);
  await run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  // fsync stays ON: durability tests rely on the database's own guarantees.
  await run('pg_ctl', [
    '-D', data, '-l', `${dir.path}/log`, '-w', '-t', '30',
    '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir.path} -c max_connections=200`,
    'start',
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pg = await import('pg');
  return {
    url,
    port,
    async createDatabase() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      const c = new pg.default.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      try {
        await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        shared = undefined;
        await dir.remove();
      }
    },
  };
}

let ids: { uid: number; gid: number } | undefined;
async function pgIds(): Promise<{ uid: number; gid: number }> {
  if (ids) return ids;
  const uid = Number((await execFileP('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await execFileP('id', ['-g', 'postgres'])).stdout.trim());
  ids = { uid, gid };
  return ids;
}

/** Dumps every row of a table as text, for "no plaintext in the database" checks. */
export async function dumpTable(url: string, table: string): Promise<string> {
  const pg = await import('pg');
  const c = new pg.default.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(`SELECT * FROM ${table}`);
    return r.rows
      .map((row: Record<string, unknown>) =>
        Object.values(row)
          .map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)))
          .join('\t'),
      )
      .join('\n');
  } finally {
    await c.end();
  }
}
