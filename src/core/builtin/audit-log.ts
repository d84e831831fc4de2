/**
 * `GET sys/audit-log` (Arca's; Vault has no read-back): the most recent entries of a file audit device
 * and the verification status of its chain, for the UI's Audit page. Root-protected like the rest of
 * `sys/audit*` (DEFAULT_ROOT_PATHS). Entries come back exactly as written, sensitive values HMAC'd.
 *
 * Query: device (the device path, e.g. `file/`; optional when exactly one file device is enabled),
 * limit (1..1000, default 100), operation, path_prefix, type (request|response), errors_only.
 */
import { z } from 'zod';
import { type AuditBroker, type AuditLogAnswer, fileDevicePath, readAuditLog } from '../../audit/index.ts';
import { parseFields, vBool, vIntIn } from '../../engines/index.ts';
import { ArcaError } from '../../errors/index.ts';

const Query = z.object({
  device: z.string().min(1).max(256).optional(),
  limit: vIntIn(1, 1000).optional(),
  // As the entries name it (the core writes e.g. `write` for create/update).
  operation: z.string().regex(/^[a-z-]{1,16}$/).optional(),
  path_prefix: z.string().max(1024).optional(),
  type: z.enum(['request', 'response']).optional(),
  errors_only: vBool.optional(),
});

interface FileConfig {
  path: string;
  type: string;
  options: Record<string, string>;
}

/** How long to wait for entries still in the spools before reading (best effort). */
const FLUSH_MS = 2000;

export async function readAuditLogRoute(requestId: string, data: Record<string, unknown>, configs: readonly FileConfig[], broker: AuditBroker): Promise<AuditLogAnswer & { device: string; key_id: string }> {
  const q = parseFields(Query, data);
  const files = configs.filter((c) => c.type === 'file');
  let cfg: FileConfig | undefined;
  if (q.device !== undefined) {
    const want = `${q.device.replace(/\/+$/, '')}/`;
    cfg = configs.find((c) => c.path === want);
    if (!cfg) throw new ArcaError('ERR_NOT_FOUND', 'no audit device is enabled at this path (see sys/audit)');
    if (cfg.type !== 'file') throw new ArcaError('ERR_INVALID_REQUEST', 'only a file audit device can be read back: choose a device of type file');
  } else if (files.length === 1) {
    cfg = files[0];
  } else {
    throw new ArcaError(
      files.length === 0 ? 'ERR_NOT_FOUND' : 'ERR_INVALID_REQUEST',
      files.length === 0 ? 'no file audit device is enabled: enable one (sys/audit/<path> type=file) to read the log back' : 'several file audit devices are enabled: name one with the device parameter',
    );
  }
  const filePath = fileDevicePath(cfg!.options);
  if (!filePath) throw new ArcaError('ERR_INVALID_REQUEST', 'the audit device has no file_path option');
  // Entries of earlier requests may still sit in the device's spool: give it a moment to catch up.
  await broker.flush(FLUSH_MS);
  const r = await readAuditLog(
    filePath,
    { limit: q.limit ?? 100, operation: q.operation, pathPrefix: q.path_prefix, type: q.type, errorsOnly: q.errors_only, ownRequestId: requestId },
    broker.publicKey,
  );
  return { device: cfg!.path, key_id: broker.keyId, ...r };
}
