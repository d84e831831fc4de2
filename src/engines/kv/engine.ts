import { ArcaError } from '../../errors/index.ts';
import type { Engine, EngineContext, EngineRequest, EngineResponse, Operation, RouteInfo } from '../types.ts';
import { deleteLatest, type KvDeps, patchData, readData, writeData } from './data.ts';
import { configOut, deleteMetadata, listMetadata, readMetadata, writeConfig, writeMetadata } from './metadata.ts';
import { checkPath } from './request.ts';
import { search } from './search.ts';
import { KvStore } from './store.ts';
import { deleteVersions, destroyVersions, undeleteVersions } from './versions.ts';

const CLI_VERB: Record<Operation, string> = { read: 'get', list: 'list', create: 'put', update: 'put', patch: 'patch', delete: 'delete' };

/** vault-kv pathInvalid: a path that is not part of the KV v2 API answers 404 with the envelope and a hint. */
function invalidPath(op: Operation): EngineResponse {
  return {
    status: 404,
    data: null,
    warnings: [
      `Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${CLI_VERB[op]}' for this operation.`,
    ],
  };
}

const ROOT_WARNING: EngineResponse = {
  status: 404,
  data: null,
  warnings: ['Non-listing operations on the root of a K/V v2 mount are not supported.'],
};

function unsupported(): ArcaError {
  return new ArcaError('ERR_UNSUPPORTED_OPERATION', 'unsupported operation');
}

function split(path: string): { head: string; rest: string | undefined } {
  const i = path.indexOf('/');
  return i === -1 ? { head: path, rest: undefined } : { head: path.slice(0, i), rest: path.slice(i + 1) };
}

/** What handle() serves, for route enumeration (`:path*` is a secret path); keep in step with handle(). */
export const KV_ROUTES: readonly RouteInfo[] = Object.freeze([
  { pattern: 'config', operations: ['read', 'update'] },
  { pattern: 'search', operations: ['read'] },
  { pattern: 'metadata/', operations: ['list'] },
  { pattern: 'metadata/:path*', operations: ['read', 'update', 'patch', 'delete', 'list'] },
  { pattern: 'data/:path*', operations: ['read', 'update', 'patch', 'delete'] },
  { pattern: 'delete/:path*', operations: ['update'] },
  { pattern: 'undelete/:path*', operations: ['update'] },
  { pattern: 'destroy/:path*', operations: ['update'] },
]);

const isWrite = (op: Operation): boolean => op === 'create' || op === 'update';

/** The Vault-compatible KV version 2 engine (see records.ts for the storage layout). */
export function createKvEngine(ctx: EngineContext, options: Record<string, string>): Engine {
  const version = options['version'] ?? '2';
  if (version !== '2') throw new ArcaError('ERR_INVALID_REQUEST', 'this KV version is not supported: mount with options.version "2"');
  const d: KvDeps = { store: new KvStore(ctx.storage), now: ctx.now };

  async function handle(req: EngineRequest): Promise<EngineResponse | undefined> {
    const op = req.operation;
    const { head, rest } = split(req.path);
    if (head === 'config' && rest === undefined) {
      if (op === 'read') return { data: configOut(await d.store.config()) };
      if (isWrite(op)) return writeConfig(d, req);
      throw unsupported();
    }
    if (head === 'search' && rest === undefined) {
      if (op === 'read') return search(d, req);
      throw unsupported();
    }
    if (head === 'metadata' && op === 'list') return listMetadata(d, checkPath(rest ?? '', true));
    if (!['data', 'metadata', 'delete', 'undelete', 'destroy'].includes(head) || op === 'list') return invalidPath(op);
    if (rest === undefined || rest === '') return ROOT_WARNING;
    const path = checkPath(rest);
    switch (head) {
      case 'data':
        if (op === 'read') return readData(d, req, path);
        if (isWrite(op)) return writeData(d, req, path);
        if (op === 'patch') return patchData(d, req, path);
        return deleteLatest(d, path);
      case 'metadata':
        if (op === 'read') return readMetadata(d, path);
        if (isWrite(op)) return writeMetadata(d, req, path, false);
        if (op === 'patch') return writeMetadata(d, req, path, true);
        return deleteMetadata(d, path);
      default:
        if (!isWrite(op)) throw unsupported();
        if (head === 'delete') return deleteVersions(d, req, path);
        if (head === 'undelete') return undeleteVersions(d, req, path);
        return destroyVersions(d, req, path);
    }
  }

  return {
    type: 'kv',
    // The audit log HMACs secret values: `data` in data/ requests and responses.
    sensitiveFields: ['data'],
    handle,
    routes: () => KV_ROUTES,
    async exists(req: EngineRequest): Promise<boolean> {
      const { head, rest } = split(req.path);
      if ((head !== 'data' && head !== 'metadata') || !rest) return true;
      try {
        return await d.store.hasMeta(checkPath(rest));
      } catch {
        // An invalid path is rejected by handle(); for the ACL it is an update of nothing.
        return true;
      }
    },
  };
}
