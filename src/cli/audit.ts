/**
 * `arca audit verify FILE...` checks a hash-chained audit log offline (no server needed);
 * `arca audit enable|disable|list` manage audit devices over the HTTP API (`sys/audit`, needs sudo).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { type LogFile, verifyLog, type VerifyOptions } from '../audit/index.ts';
import { ArcaError } from '../errors/index.ts';
import { type ClientFlags, withClientFlags } from './client-flags.ts';
import { EXIT_OK, EXIT_USAGE, UsageError } from './exit.ts';
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
  else if (r.ok) {
    process.stdout.write(
      `ok: ${r.entries} entries (seq ${r.firstSeq}..${r.lastSeq}) in ${files.length} file(s), ${r.checkpoints} signed checkpoint(s), key ${r.keyId}\n`,
    );
    if (!r.anchored) process.stdout.write(`note: the log starts at seq ${r.firstSeq}, not at the first entry: earlier files were not given\n`);
    if (o.publicKey === undefined) {
      process.stdout.write('note: signatures were checked against the key in the log itself; pass --public-key to pin the server key\n');
    }
  } else {
    const p = r.problem!;
    process.stdout.write(`TAMPERED: ${p.file}:${p.line}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}: ${p.reason}\n`);
  }
  // Exit 1 = the log failed verification (also the usage-error code; the message tells them apart).
  process.exitCode = r.ok ? EXIT_OK : EXIT_USAGE;
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
    .description('verify a hash-chained audit log: give rotated files oldest first; exit 0 ok, 1 tampered')
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
