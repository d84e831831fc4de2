/** Shared setup for the governance tests: a real in-process server (SQLite in a temp dir, file audit). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArcaClient } from '../../src/client/index.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { assembleServer, type RunningServer } from '../../src/server/index.ts';
import { devBootstrap } from '../../src/server/dev.ts';
import { tempDir } from '../harness/index.ts';

export interface Gov {
  srv: RunningServer;
  dir: string;
  auditLog: string;
  root: ArcaClient;
  client(token?: string): ArcaClient;
  /** Creates a userpass user and logs in: the token and its entity id. */
  login(name: string, password?: string, policies?: string[]): Promise<{ token: string; entityId: string }>;
  audit(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export const ROOT = 'gov-root-token';

export async function startGov(): Promise<Gov> {
  const d = await tempDir('arca-gov-');
  const srv = await assembleServer(parseConfig({ listen: '127.0.0.1:0', storage: { type: 'sqlite' }, dev: true }), silentLogger(), join(d.path, 'data'));
  await devBootstrap(srv.core, ROOT);
  const client = (token?: string) => new ArcaClient({ addr: srv.address, ...(token ? { token } : {}) });
  const root = client(ROOT);
  const auditLog = join(d.path, 'audit.log');
  await root.write('sys/audit/file', { type: 'file', options: { file_path: auditLog } });
  await root.write('sys/auth/userpass', { type: 'userpass' });
  return {
    srv, dir: d.path, auditLog, root, client,
    async login(name, password = `pw-${name}-secret`, policies = []) {
      await root.write(`auth/userpass/users/${name}`, { password, token_policies: policies });
      const r = await client().request('POST', `auth/userpass/login/${name}`, { password });
      const a = r.body['auth'] as { client_token: string; entity_id: string };
      return { token: a.client_token, entityId: a.entity_id };
    },
    async audit() {
      const text = await readFile(auditLog, 'utf8');
      return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async close() {
      await srv.close();
      await d.remove();
    },
  };
}
