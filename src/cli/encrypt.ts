/**
 * `arca encrypt --key K` / `arca decrypt --key K`: stdin → stdout through the transit engine.
 * encrypt reads raw bytes and prints the `vault:v<N>:…` ciphertext; decrypt reads a ciphertext and
 * writes the raw plaintext bytes. Base64 is handled here, never by the user. With -o json|yaml both
 * print the API's data object instead (`ciphertext`, `key_version` / base64 `plaintext`).
 */
import type { Command } from 'commander';
import { type ClientFlags, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { dataOf, mountPath, withClient } from './key.ts';
import { printValue } from './output.ts';

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) process.stderr.write('reading from stdin (end with Ctrl-D)\n');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Opts extends ClientFlags {
  key: string;
  mount: string;
  context?: string;
  associatedData?: string;
}

function extras(o: Opts): Record<string, string> {
  const out: Record<string, string> = {};
  if (o.context !== undefined) out['context'] = Buffer.from(o.context).toString('base64');
  if (o.associatedData !== undefined) out['associated_data'] = Buffer.from(o.associatedData).toString('base64');
  return out;
}

function path(o: Opts, op: 'encrypt' | 'decrypt'): string {
  if (!o.key) throw new UsageError('--key is required');
  return `${mountPath(o.mount)}/${op}/${encodeURIComponent(o.key)}`;
}

export function register(cmd: Command): void {
  const op = cmd.name() === 'decrypt' ? 'decrypt' : 'encrypt';
  withClientFlags(cmd)
    .requiredOption('-k, --key <name>', 'transit key name')
    .option('--mount <path>', 'transit mount path', 'transit')
    .option('--context <text>', 'derivation context (derived keys), as text')
    .option('--associated-data <text>', 'associated data bound to the ciphertext, as text');
  if (op === 'encrypt') {
    cmd.description('encrypt stdin with a transit key; prints the ciphertext').action(async (o: Opts) => {
      const plaintext = await readStdin();
      const { r, format } = await withClient(o, async (c, format) => ({ r: await c.write(path(o, 'encrypt'), { plaintext: plaintext.toString('base64'), ...extras(o) }), format }));
      const data = dataOf(r.body);
      if (format === 'table') process.stdout.write(`${String(data['ciphertext'])}\n`);
      else printValue(data, format);
    });
  } else {
    cmd.description('decrypt a ciphertext read from stdin; writes the plaintext bytes').action(async (o: Opts) => {
      const ciphertext = (await readStdin()).toString('utf8').trim();
      if (ciphertext === '') throw new UsageError('no ciphertext on stdin');
      const { r, format } = await withClient(o, async (c, format) => ({ r: await c.write(path(o, 'decrypt'), { ciphertext, ...extras(o) }), format }));
      // -o json|yaml keeps the API's base64 `plaintext` (binary-safe in a document); table writes the raw bytes.
      if (format === 'table') process.stdout.write(Buffer.from(String(dataOf(r.body)['plaintext'] ?? ''), 'base64'));
      else printValue(dataOf(r.body), format);
    });
  }
}
