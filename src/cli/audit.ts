/**
 * `arca audit verify FILE...` checks a hash-chained audit log offline (no server needed);
 * `arca audit enable|disable|list` manage audit devices over the HTTP API (`sys/audit`, needs sudo);
 * `arca audit checkpoint` asks the server to sign the log now (`sys/audit-checkpoint`, needs sudo).
 *
 * verify's exit codes: 0 verified; 1 tampered (or a usage error; the message tells them apart);
 * 2 a file could not be read; 3 not proven: the chain is intact but its tail has no signed
 * checkpoint yet (run `arca audit checkpoint`, then verify again).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { type LogFile, verifyLog, type VerifyOptions, type VerifyResult } from '../audit/index.ts';
import { ArcaError } from '../errors/index.ts';
import { type ClientFlags, withClientFlags } from './client-flags.ts';
import { EXIT_OK, EXIT_USAGE, UsageError } from './exit.ts';

/** verify: the chain is intact but its tail is unsigned — distinct from tampering (1). */
export const EXIT_UNPROVEN = 3;
import { dataOf, withClient } from './key.ts';
import { parseFormat, printTable, printValue } from './output.ts';

interface VerifyFlags {
  publicKey?: string;
  minSeq?: string;
  output?: string;
}

async function readKeyArg(v: string): Promise<string> {
  if (!v.startsWith('@')) return v;
  try {
    return await readFile(v.slice(1), 'utf8');
  } catch (err) {
    throw new ArcaError('ERR_CONFIG_READ', `cannot read public key file ${v.slice(1)}`, { cause: err });
  }
}

async function runVerify(files: string[], o: VerifyFlags): Promise<void> {
  const format = parseFormat(o.output);
  const opts: VerifyOptions = {};
  if (o.publicKey !== undefined) opts.publicKey = await readKeyArg(o.publicKey);
  if (o.minSeq !== undefined) {
    const n = Number(o.minSeq);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--min-seq expects a positive integer, got "${o.minSeq}"`);
    opts.minLastSeq = n;
  }
  const logs: LogFile[] = [];
  for (const f of files) {
    try {
      logs.push({ name: f, bytes: await readFile(f) });
    } catch (err) {
      throw new ArcaError('ERR_CONFIG_READ', `cannot read ${f}`, { cause: err });
    }
  }
  const r = verifyLog(logs, opts);
  if (format !== 'table') printValue(r, format);
  else printVerify(r, files.length, o.publicKey !== undefined);
  // Exit 1 = tampered (also the usage-error code; the message tells them apart); 3 = not proven.
  process.exitCode = r.status === 'verified' ? EXIT_OK : r.status === 'unproven' ? EXIT_UNPROVEN : EXIT_USAGE;
}

function printVerify(r: VerifyResult, nFiles: number, pinned: boolean): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (r.status === 'tampered') {
    const p = r.problem!;
    out(`TAMPERED: ${p.file}:${p.line}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}: ${p.reason}`);
    return;
  }
  if (r.status === 'unproven') {
    const t = r.unsignedTail!;
    out(
      `NOT PROVEN: the chain is intact, but seq ${t.fromSeq}..${t.toSeq} (${t.entries} entries) after the last checkpoint are not signed yet; ` +
        'run `arca audit checkpoint` and verify again (a log truncated at a line boundary looks the same: pass --min-seq)',
    );
  } else {
    out(`ok: ${r.entries} entries (seq ${r.firstSeq}..${r.lastSeq}) in ${nFiles} file(s), ${r.checkpoints} signed checkpoint(s), key ${r.keyId}`);
  }
  for (const x of r.restarts) {
    out(`note: the chain restarts at ${x.file}:${x.line} (seq ${x.seq}), signed by the server (cause: ${x.cause}); entries may be missing before it`);
  }
  if (!r.anchored) out(`note: the log starts at seq ${r.firstSeq}, not at the first entry: earlier files were not given`);
  if (!pinned) out('note: signatures were checked against the key in the log itself; pass --public-key to pin the server key');
}

interface EnableFlags extends ClientFlags {
  type: string;
  description?: string;
  filePath?: string;
  address?: string;
  socketType?: string;
  local?: boolean;
}

export function register(cmd: Command): void {
  cmd
    .command('verify <files...>')
    .description('verify a hash-chained audit log: give rotated files oldest first; exit 0 verified, 1 tampered, 2 unreadable, 3 unsigned tail (not proven)')
    .option('--public-key <key>', 'trusted audit signing key: base64 (as in the log header), PEM, or @file')
    .option('--min-seq <n>', 'also fail if the log ends before this seq (detects truncation back to a checkpoint)')
    .option('-o, --output <format>', 'json|yaml|table')
    .action((files: string[], o: VerifyFlags) => runVerify(files, o));

  withClientFlags(cmd.command('enable <path>').description('enable an audit device at sys/audit/<path>'))
    .requiredOption('--type <type>', 'file, socket or stdout')
    .option('--description <text>', 'description')
    .option('--file-path <path>', 'file device: log file path (or "stdout")')
    .option('--address <addr>', 'socket device: unix socket path or host:port')
    .option('--socket-type <type>', 'socket device: unix or tcp', 'tcp')
    .option('--local', 'do not replicate (Vault compatibility; no effect)')
    .action((path: string, o: EnableFlags) =>
      withClient(o, async (c) => {
        const options: Record<string, string> = {};
        if (o.filePath !== undefined) options['file_path'] = o.filePath;
        if (o.address !== undefined) {
          options['address'] = o.address;
          options['socket_type'] = o.socketType ?? 'tcp';
        }
        if (o.type === 'file' && options['file_path'] === undefined) throw new UsageError('--file-path is required for a file device');
        if (o.type === 'socket' && options['address'] === undefined) throw new UsageError('--address is required for a socket device');
        await c.write(`sys/audit/${encodeURIComponent(path.replace(/\/+$/, ''))}`, {
          type: o.type,
          description: o.description ?? '',
          options,
          local: o.local ?? false,
        });
        process.stdout.write(`enabled audit device ${path.replace(/\/+$/, '')}/\n`);
      }),
    );

  withClientFlags(cmd.command('checkpoint').description('sign the audit log now (a checkpoint in every device), so verify can prove a live log')).action(
    (o: ClientFlags) =>
      withClient(o, async (c, format) => {
        const data = dataOf((await c.write('sys/audit-checkpoint', {})).body);
        if (format !== 'table') printValue(data, format);
        else process.stdout.write(`checkpoint written to ${Array.isArray(data['devices']) ? data['devices'].length : 0} audit device(s)\n`);
      }),
  );

  withClientFlags(cmd.command('disable <path>').description('disable the audit device at sys/audit/<path>')).action(
    (path: string, o: ClientFlags) =>
      withClient(o, async (c) => {
        await c.delete(`sys/audit/${encodeURIComponent(path.replace(/\/+$/, ''))}`);
        process.stdout.write(`disabled audit device ${path.replace(/\/+$/, '')}/\n`);
      }),
  );

  withClientFlags(cmd.command('list').description('list enabled audit devices')).action((o: ClientFlags) =>
    withClient(o, async (c, format) => {
      const data = dataOf((await c.read('sys/audit')).body);
      if (format !== 'table') {
        printValue(data, format);
        return;
      }
      const entry = z.object({ type: z.string().catch(''), description: z.string().catch(''), options: z.record(z.string(), z.unknown()).catch({}) });
      printTable(
        ['Path', 'Type', 'Description', 'Options'],
        Object.entries(data).map(([p, v]) => {
          const e = entry.catch({ type: '', description: '', options: {} }).parse(v);
          return [p, e.type, e.description, JSON.stringify(e.options)];
        }),
      );
    }),
  );
}
