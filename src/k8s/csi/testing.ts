/**
 * Test and bench helpers: a gRPC client built from the vendored proto that dials the provider's
 * socket as the driver does (authority `localhost`), the reference `attributes` shape, and a
 * launcher for `arca csi-provider` as a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { csiServiceDefinition, type MountRequest, type MountResponse, type VersionResponse } from './proto.ts';
import { TOKENS_ATTRIBUTE } from './params.ts';
import { ERROR_MESSAGE_TRAILER } from './server.ts';

export const ARCA_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'arca');

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;

export interface MountReply {
  res: MountResponse;
  /** The `arca-error-message` trailer of a failed Mount. */
  message: string | undefined;
}

type RawClient = grpc.Client & { Version: Unary<{ version: string }, VersionResponse>; Mount: Unary<Partial<MountRequest>, MountResponse> };

export class CsiTestClient {
  readonly #client: RawClient;

  constructor(socketPath: string) {
    const Ctor = grpc.makeGenericClientConstructor(csiServiceDefinition(), 'CSIDriverProvider');
    this.#client = new Ctor(`unix:${socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'localhost',
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    }) as unknown as RawClient;
  }

  version(): Promise<VersionResponse> {
    return new Promise((resolve, reject) => {
      this.#client.Version({ version: 'v1alpha1' }, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  mount(req: Partial<MountRequest>): Promise<MountReply> {
    return new Promise((resolve, reject) => {
      let message: string | undefined;
      const call = this.#client.Mount(req, new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (err, res) => {
        if (err) reject(err);
        // The status (with its trailers) arrives before the callback runs.
        else setImmediate(() => resolve({ res: res!, message }));
      });
      call.on('status', (s: grpc.StatusObject) => {
        const m = s.metadata.get(ERROR_MESSAGE_TRAILER)[0];
        if (m !== undefined) message = String(m);
      });
    });
  }

  close(): void {
    this.#client.close();
  }
}

export interface AttributeInput {
  token: string;
  audience?: string;
  roleName?: string;
  objects: string;
  /** Extra or overriding parameters; an `undefined` value removes the key. */
  extra?: Record<string, string | undefined>;
  pod?: { name: string; namespace: string; uid: string; serviceAccount: string };
}

/** The reference's `attributes` (kubernetes-integration.md §4.3), as the driver builds it. */
export function mountAttributes(a: AttributeInput): string {
  const pod = a.pod ?? { name: 'api-7c9d8f6b5d-x2kqv', namespace: 'payments', uid: '5e1d7f0a-2222-4f10-8e3b-5c4d2a1b0f99', serviceAccount: 'api' };
  const attrs: Record<string, string | undefined> = {
    secretProviderClass: 'payments-db',
    'csi.storage.k8s.io/pod.name': pod.name,
    'csi.storage.k8s.io/pod.namespace': pod.namespace,
    'csi.storage.k8s.io/pod.uid': pod.uid,
    'csi.storage.k8s.io/serviceAccount.name': pod.serviceAccount,
    'csi.storage.k8s.io/ephemeral': 'true',
    [TOKENS_ATTRIBUTE]: JSON.stringify({ [a.audience ?? 'arca']: { token: a.token, expirationTimestamp: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z') } }),
    roleName: a.roleName ?? 'app',
    audience: a.audience ?? 'arca',
    objects: a.objects,
    ...a.extra,
  };
  for (const [k, v] of Object.entries(attrs)) if (v === undefined) delete attrs[k];
  return JSON.stringify(attrs);
}

function accepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface ProviderProcess {
  child: ChildProcess;
  socketPath: string;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `arca csi-provider` and waits until its socket exists. */
export async function startCsiProvider(o: { socketPath: string; arcaAddr?: string; args?: string[]; env?: Record<string, string> }): Promise<ProviderProcess> {
  const args = ['csi-provider', '--endpoint', `unix://${o.socketPath}`, ...(o.arcaAddr ? ['--arca-addr', o.arcaAddr] : []), ...(o.args ?? [])];
  const child = spawn(ARCA_BIN, args, { env: { ...process.env, ARCA_LOG_LEVEL: 'debug', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  // Ready when it says so; when its log level hides that line, once the socket accepts (which a
  // caller must not use when another process may already serve the same socket).
  const level = o.env?.['ARCA_LOG_LEVEL'] ?? 'debug';
  const says = ['trace', 'debug', 'info'].includes(level);
  while (says ? !out.includes('csi provider listening') : !(existsSync(o.socketPath) && (await accepts(o.socketPath)))) {
    if (child.exitCode !== null) throw new Error(`arca csi-provider exited with ${child.exitCode}: ${out}`);
    if (Date.now() > deadline) throw new Error(`arca csi-provider did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, socketPath: o.socketPath, output: () => out, exited };
}
