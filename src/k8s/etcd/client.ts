/** etcd connection (client-cert TLS like kube-apiserver's) and paged range reads. */
import { readFile } from 'node:fs/promises';
import { Etcd3, type IOptions, Range } from 'etcd3';
import { ArcaError } from '../../errors/index.ts';

export interface EtcdConnectOptions {
  endpoints: string[];
  cacert?: string;
  cert?: string;
  key?: string;
  /** per-call deadline, ms (default 30 s) */
  timeoutMs?: number;
}

export async function connectEtcd(o: EtcdConnectOptions): Promise<Etcd3> {
  if (o.endpoints.length === 0) throw new ArcaError('ERR_INVALID_REQUEST', 'at least one etcd endpoint is required');
  const opts: IOptions = {
    hosts: o.endpoints,
    dialTimeout: 10_000,
    grpcOptions: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + (o.timeoutMs ?? 30_000) }),
  };
  if (o.cacert || o.cert || o.key) {
    if (!o.cacert) throw new ArcaError('ERR_INVALID_REQUEST', '--cacert is required with --cert/--key');
    const read = (p: string, what: string) =>
      readFile(p).catch((err: NodeJS.ErrnoException) => {
        throw new ArcaError('ERR_CONFIG_READ', `cannot read ${what} ${p}: ${err.code ?? 'error'}`);
      });
    const credentials: NonNullable<IOptions['credentials']> = { rootCertificate: await read(o.cacert, 'CA certificate') };
    if (o.cert) credentials.certChain = await read(o.cert, 'client certificate');
    if (o.key) credentials.privateKey = await read(o.key, 'client key');
    opts.credentials = credentials;
  }
  return new Etcd3(opts);
}

export interface EtcdKv {
  key: Buffer;
  value: Buffer;
  modRevision: string;
}

export function etcdUnavailable(err: unknown): ArcaError {
  if (err instanceof ArcaError) return err;
  return new ArcaError('ERR_ETCD_UNAVAILABLE', `etcd request failed: ${err instanceof Error ? err.message.split('\n')[0] : 'error'}`, { cause: err });
}

/** Byte range of all keys with `prefix`, optionally starting strictly after `after`. */
export function prefixRange(prefix: string, after?: string): { start: Buffer; end: Buffer } {
  const r = Range.prefix(prefix);
  const start = after !== undefined && Buffer.compare(Buffer.from(after), r.start) >= 0 ? Buffer.concat([Buffer.from(after), Buffer.of(0)]) : r.start;
  return { start, end: r.end };
}

/**
 * Pages through [start, end) in key order, `limit` keys per request. With `snapshot` every page is
 * read at the revision of the first one (a consistent view, for scans; it fails if etcd compacts
 * that revision meanwhile — kube-apiserver compacts every 5 minutes); without it each page is the
 * latest state (rewrite compares mod_revision anyway). The next page is requested while the caller
 * works on the current one.
 */
export async function* pages(client: Etcd3, range: { start: Buffer; end: Buffer }, limit: number, snapshot = false): AsyncGenerator<EtcdKv[]> {
  let start = range.start;
  let revision: string | undefined;
  const fetch = (from: Buffer) => {
    const b = client.getAll().inRange({ start: from, end: range.end }).limit(limit);
    if (snapshot && revision) b.revision(revision);
    return b.exec().catch((err: unknown) => {
      throw etcdUnavailable(err);
    });
  };
  let next = fetch(start);
  for (;;) {
    const res = await next;
    revision ??= res.header.revision;
    const kvs = res.kvs.map((kv) => ({ key: kv.key, value: kv.value, modRevision: kv.mod_revision }));
    const last = kvs[kvs.length - 1];
    if (res.more && last) {
      start = Buffer.concat([last.key, Buffer.of(0)]);
      next = fetch(start);
    }
    if (kvs.length) yield kvs;
    if (!res.more || !last) return;
  }
}
