/**
 * Mount: parse (all checks before any network call) → one login → each distinct secret read once
 * → each object rendered → files + one ObjectVersion per object. The provider never writes to
 * target_path: the driver validates the returned paths and writes them atomically.
 */
import { ArcaError } from '../../errors/index.ts';
import type { Logger } from '../../log/index.ts';
import type { CsiFile, MountRequest, MountResponse, ObjectVersion } from './proto.ts';
import { type MountConfig, type ObjectSpec, parseMountConfig } from './params.ts';
import type { SecretInput } from '../../render/index.ts';
import { renderObject } from './render-object.ts';
import type { LoginCache } from './login-cache.ts';
import { type ClientPool, MountSession } from './session.ts';
import { objectVersion, type SourceVersion } from './version.ts';

/** Over this, secretObjects sync fails (a Kubernetes Secret holds < 1 MiB): warn. */
export const SYNC_LIMIT_BYTES = 1024 * 1024;
/** Over this, the driver's default --max-call-recv-msg-size refuses the response: refuse first. */
export const MAX_MOUNT_BYTES = 4 * 1024 * 1024;
/** Reads in flight per Mount call: a typical class (≤ 16 secrets) is read in one wave over the keep-alive agent. */
const READ_CONCURRENCY = 16;

export interface MountDeps {
  clients: ClientPool;
  /** Reuse of Arca tokens across calls of the same pod token; none: log in on every call. */
  logins?: LoginCache;
  versionKey: Uint8Array;
  log: Logger;
  onOverSyncLimit?: () => void;
}

export interface MountResult {
  response: MountResponse;
  cfg: MountConfig;
}

/** The API path and query of an object's secret, e.g. `secret/data/app/db?version=3`. */
export function readPath(spec: ObjectSpec): string {
  return spec.version === undefined ? spec.apiPath : `${spec.apiPath}?version=${spec.version}`;
}

interface SecretData extends SecretInput {
  version: number | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A KV v2 read answers {data: {data, metadata}}; a deleted or destroyed version has data null. */
function secretData(body: Record<string, unknown>, objectName: string): SecretData {
  const d = body['data'];
  if (!isObject(d) || !isObject(d['data'])) throw new ArcaError('ERR_NOT_FOUND', `object ${objectName}: the secret has no data (deleted or destroyed version)`);
  const metadata = isObject(d['metadata']) ? d['metadata'] : undefined;
  const v = metadata?.['version'];
  return { data: d['data'], metadata, version: typeof v === 'number' ? v : undefined };
}

async function readAll(session: MountSession, objects: readonly ObjectSpec[]): Promise<Map<string, SecretData>> {
  const wanted = new Map<string, string>(); // api path → first object that names it (for messages)
  for (const o of objects) {
    for (const p of [readPath(o), ...Object.values(o.secretPaths ?? {})]) if (!wanted.has(p)) wanted.set(p, o.objectName);
  }
  const out = new Map<string, SecretData>();
  const queue = [...wanted];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [path, name] = next;
      out.set(path, secretData((await session.read(path, name)).body, name));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, queue.length) }, worker));
  return out;
}

/** Codes a cached token can earn when the server revoked or expired it early. */
const STALE_TOKEN = new Set(['ERR_PERMISSION_DENIED', 'ERR_TOKEN_INVALID']);

export async function mount(req: MountRequest, deps: MountDeps): Promise<MountResult> {
  const cfg = parseMountConfig(req);
  const session = new MountSession(deps.clients.get(cfg.arcaAddress, cfg.caCertPath), cfg, deps.log, deps.logins);
  try {
    await session.login();
    try {
      return { cfg, response: await build(cfg, session, deps) };
    } catch (err) {
      if (!session.cached || !(err instanceof ArcaError) || !STALE_TOKEN.has(err.code)) throw err;
      // A cached token may have been revoked on the server: one fresh login, then the real answer.
      session.forget();
      await session.login();
      return { cfg, response: await build(cfg, session, deps) };
    }
  } finally {
    // Not awaited: the mount answer does not wait for the revoke.
    void session.end();
  }
}

async function build(cfg: MountConfig, session: MountSession, deps: MountDeps): Promise<MountResponse> {
  const data = await readAll(session, cfg.objects);
  const files: CsiFile[] = [];
  const versions: ObjectVersion[] = [];
  let total = 0;
  for (const spec of cfg.objects) {
    const path = readPath(spec);
    const secret = data.get(path)!;
    const sources: SourceVersion[] = [{ path, version: secret.version }];
    let input: SecretInput = secret;
    if (spec.secretPaths) {
      const secrets: Record<string, SecretInput> = {};
      for (const [alias, p] of Object.entries(spec.secretPaths)) {
        const s = data.get(p)!;
        secrets[alias] = s;
        sources.push({ path: p, version: s.version });
      }
      input = { ...secret, secrets };
    }
    const contents = renderObject(spec, input);
    total += contents.length;
    if (total > MAX_MOUNT_BYTES) throw new ArcaError('ERR_CSI_MOUNT_TOO_LARGE', `the files reach more than ${MAX_MOUNT_BYTES} bytes at object ${spec.objectName}; the driver refuses responses over 4 MiB`);
    files.push({ path: spec.objectName, mode: spec.filePermission ?? cfg.defaultMode, contents });
    versions.push({ id: spec.objectName, version: objectVersion(deps.versionKey, spec, sources, contents) });
  }
  if (total > SYNC_LIMIT_BYTES) {
    deps.onOverSyncLimit?.();
    deps.log.warn({ bytes: total, pod: cfg.pod.name, namespace: cfg.pod.namespace }, 'mount over 1 MiB: secretObjects sync to a Kubernetes Secret will fail');
  }
  return { object_version: versions, files };
}
