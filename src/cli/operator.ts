import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { toClientError } from '../client/index.ts';
import { decodeRootToken } from '../crypto/index.ts';
import { reportError, UsageError } from './exit.ts';
import { clientFrom, type ClientFlags, withClientFlags } from './client-flags.ts';
import { printValue } from './output.ts';

/**
 * One key share from stdin. On a terminal the prompt is shown and what is typed is not echoed (raw
 * mode: Enter ends it, Backspace deletes, Ctrl-C aborts); from a pipe, its first line.
 */
async function readKeyFromStdin(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const rl = createInterface({ input: stdin, terminal: false });
    for await (const line of rl) {
      rl.close();
      return line.trim();
    }
    return '';
  }
  // Echo off before the prompt shows: what is typed as soon as it appears is never echoed.
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(prompt);
  try {
    return await new Promise<string>((resolve) => {
      let typed = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            resolve(typed.trim());
            return;
          }
          if (ch === '\u0003') {
            stdin.setRawMode(false);
            process.stderr.write('\n');
            process.exit(130);
          }
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

export function register(cmd: Command): void {
  withClientFlags(cmd.command('init').description('initialize a new server'))
    .option('--key-shares <n>', 'number of unseal key shares', '5')
    .option('--key-threshold <t>', 'shares needed to unseal', '3')
    .option('--recovery-shares <n>', 'recovery shares (HSM seal)', '5')
    .option('--recovery-threshold <t>', 'recovery threshold (HSM seal)', '3')
    .action(async (f: ClientFlags & { keyShares: string; keyThreshold: string; recoveryShares: string; recoveryThreshold: string }) => {
      await guarded(async () => {
        const { client, format } = clientFrom(f);
        const st = (await client.read('sys/seal-status')).body;
        const auto = st['type'] !== 'shamir';
        const body = auto
          ? { recovery_shares: Number(f.recoveryShares), recovery_threshold: Number(f.recoveryThreshold) }
          : { secret_shares: Number(f.keyShares), secret_threshold: Number(f.keyThreshold) };
        const r = (await client.write('sys/init', body)).body as { keys: string[]; root_token: string; recovery_keys?: string[] };
        if (format !== 'table') return printValue(r, format);
        for (const [i, k] of (r.keys ?? []).entries()) process.stdout.write(`Unseal Key ${i + 1}: ${k}\n`);
        for (const [i, k] of (r.recovery_keys ?? []).entries()) process.stdout.write(`Recovery Key ${i + 1}: ${k}\n`);
        process.stdout.write(`\nInitial Root Token: ${r.root_token}\n\n`);
        process.stdout.write(auto ? 'The server auto-unseals with its HSM. Keep the recovery keys safe and apart.\n' : `Unseal with ${f.keyThreshold} of the ${f.keyShares} keys: arca operator unseal\n`);
      });
    });
  withClientFlags(cmd.command('unseal').description('provide one unseal key share (argument or stdin)'))
    .argument('[key]', 'unseal key (hex or base64); read from stdin when omitted')
    .option('--reset', 'discard the shares given so far')
    .action(async (key: string | undefined, f: ClientFlags & { reset?: boolean }) => {
      await guarded(async () => {
        const { client, format } = clientFrom(f);
        const body = f.reset ? { reset: true } : { key: key ?? (await readKeyFromStdin('Unseal Key (will be hidden): ')) };
        const before = f.reset ? undefined : (await client.read('sys/seal-status')).body;
        const st = (await client.write('sys/unseal', body)).body;
        printValue(format === 'table' ? statusRows(st) : st, format);
        // The server counts a share once and answers a repeat with unchanged progress: say so,
        // or the operator thinks a second, different share has been entered.
        if (before && st['sealed'] === true && Number(before['progress']) > 0 && st['progress'] === before['progress'] && st['nonce'] === before['nonce']) {
          process.stderr.write(`error: ERR_SEAL_SHARE_DUPLICATE: this share was already given (progress still ${String(st['progress'])}/${String(st['t'])}); enter a different share\n`);
          process.exitCode = 2;
        }
      });
    });
  withClientFlags(cmd.command('generate-root').description('generate a new root token from a quorum of unseal (or recovery) keys, as vault operator generate-root'))
    .argument('[key]', 'with --nonce: one key share (hex or base64); read from stdin when omitted')
    .option('--init', 'start an attempt: prints the nonce and the one-time password (OTP) to keep')
    .option('--otp <otp>', 'with --init: your own OTP (36 characters) instead of a generated one; with --decode: the attempt\'s OTP')
    .option('--nonce <nonce>', "give one key share to the attempt with this nonce (each key holder runs this)")
    .option('--status', "show the attempt's progress")
    .option('--cancel', 'cancel the attempt and drop the shares given')
    .option('--decode <encoded>', "decode the last key holder's encoded token with --otp (locally, nothing is sent); `-` reads it from stdin, keeping it out of shell history")
    .action(async (key: string | undefined, f: ClientFlags & { init?: boolean; otp?: string; nonce?: string; status?: boolean; cancel?: boolean; decode?: string }) => {
      await guarded(async () => {
        const modes = [f.init, f.nonce !== undefined, f.status, f.cancel, f.decode !== undefined].filter(Boolean).length;
        if (modes !== 1) throw new UsageError('give exactly one of --init, --nonce, --status, --cancel or --decode');
        if (f.decode !== undefined) {
          if (!f.otp) throw new UsageError('--decode needs --otp: the OTP printed by --init');
          const encoded = f.decode === '-' ? await readKeyFromStdin('Encoded token (will be hidden): ') : f.decode;
          process.stdout.write(`${decodeRootToken(encoded, f.otp)}\n`);
          return;
        }
        const { client, format } = clientFrom(f);
        let st: Record<string, unknown>;
        if (f.cancel) {
          await client.delete('sys/generate-root/attempt');
          process.stdout.write('Success! Root token generation canceled (if it was started)\n');
          return;
        }
        if (f.status) st = (await client.read('sys/generate-root/attempt')).body;
        else if (f.init) st = (await client.write('sys/generate-root/attempt', f.otp ? { otp: f.otp } : {})).body;
        else st = (await client.write('sys/generate-root/update', { key: key ?? (await readKeyFromStdin('Unseal Key (will be hidden): ')), nonce: f.nonce })).body;
        printValue(format === 'table' ? generateRootRows(st) : st, format);
        if (f.init && st['otp']) process.stderr.write('Keep the OTP: the last key holder gets the token only as an encoded value, decoded with it (--decode ... --otp ...).\n');
      });
    });
  withClientFlags(cmd.command('rekey').description('replace the unseal (or, with --target recovery, the recovery) key shares with a quorum of the current ones, as vault operator rekey'))
    .argument('[key]', 'with --nonce: one current key share (hex or base64); read from stdin when omitted')
    .option('--init', 'start a rekey: give --key-shares and --key-threshold of the new set')
    .option('--key-shares <n>', 'with --init: number of new key shares')
    .option('--key-threshold <t>', 'with --init: shares needed of the new set')
    .option('--target <target>', 'barrier (the unseal keys, default) or recovery (the HSM seal\'s recovery keys)', 'barrier')
    .option('--nonce <nonce>', 'give one current key share to the rekey with this nonce (each key holder runs this)')
    .option('--status', "show the rekey's progress")
    .option('--cancel', 'cancel the rekey and drop the shares given')
    .action(async (key: string | undefined, f: ClientFlags & { init?: boolean; keyShares?: string; keyThreshold?: string; target: string; nonce?: string; status?: boolean; cancel?: boolean }) => {
      await guarded(async () => {
        const modes = [f.init, f.nonce !== undefined, f.status, f.cancel].filter(Boolean).length;
        if (modes !== 1) throw new UsageError('give exactly one of --init, --nonce, --status or --cancel');
        if (f.target !== 'barrier' && f.target !== 'recovery') throw new UsageError('--target is barrier or recovery');
        const base = f.target === 'recovery' ? 'sys/rekey-recovery-key' : 'sys/rekey';
        const { client, format } = clientFrom(f);
        if (f.cancel) {
          await client.delete(`${base}/init`);
          process.stdout.write('Success! Canceled rekeying (if it was started)\n');
          return;
        }
        let st: Record<string, unknown>;
        if (f.status) st = (await client.read(`${base}/init`)).body;
        else if (f.init) {
          const shares = Number(f.keyShares);
          const threshold = Number(f.keyThreshold);
          if (!Number.isInteger(shares) || !Number.isInteger(threshold)) throw new UsageError('--init needs --key-shares and --key-threshold (whole numbers)');
          st = (await client.write(`${base}/init`, { secret_shares: shares, secret_threshold: threshold })).body;
        } else st = (await client.write(`${base}/update`, { key: key ?? (await readKeyFromStdin('Key (will be hidden): ')), nonce: f.nonce })).body;
        if (format !== 'table') return printValue(st, format);
        if (st['complete'] === true) {
          for (const [i, k] of (st['keys'] as string[]).entries()) process.stdout.write(`Key ${i + 1}: ${k}\n`);
          process.stdout.write(`\nThe keys were replaced. The old keys no longer count: hand these out, and keep them safe and apart.\n`);
          return;
        }
        printValue({ Nonce: st['nonce'] || 'n/a', Started: st['started'], 'Rekey Progress': `${String(st['progress'])}/${String(st['required'])}`, 'New Shares': st['n'], 'New Threshold': st['t'] }, format);
      });
    });
  const snapshot = cmd.command('snapshot').description('save or restore the whole store online (sys/storage/snapshot), as vault operator raft snapshot');
  withClientFlags(snapshot.command('save <file>').description('write a consistent snapshot of the store to <file> (0600; needs a sudo token)')).action(async (file: string, f: ClientFlags) => {
    await guarded(async () => {
      const { client } = clientFrom(f);
      const r = await client.request('GET', 'sys/storage/snapshot');
      if (r.status >= 400 || !r.bytes) throw toClientError(r);
      // The snapshot holds the store's ciphertext and seal records: as sensitive as the database file.
      await writeFile(file, r.bytes, { mode: 0o600, flag: 'wx' });
      process.stdout.write(`Success! Snapshot of ${r.bytes.length} bytes written to ${file}.\n`);
    });
  });
  withClientFlags(snapshot.command('restore <file>').description("replace the store with a snapshot of this server's own (its seal records and unseal keys stay as they are; needs a sudo token)"))
    .option('--offline', 'disaster recovery, the server stopped: write the snapshot, seal records included, into the empty store of --config / --data-dir')
    .option('--config <file>', 'with --offline: the server config naming the storage')
    .option('--data-dir <dir>', 'with --offline: the data directory (SQLite)')
    .option('--force', 'restore even when that drops transit key versions made since the snapshot (what they encrypted is lost)')
    .action(async (file: string, f: ClientFlags & { offline?: boolean; config?: string; dataDir?: string; force?: boolean }) => {
      await guarded(async () => {
        if (f.offline) {
          if (f.force) throw new UsageError('--force goes with an online restore (an offline one writes into an empty store and drops nothing)');
          const { loadServerConfig } = await import('../config/index.ts');
          const { restoreOffline } = await import('../server/offline-restore.ts');
          const config = loadServerConfig({ ...(f.config ? { file: f.config } : {}), overrides: { dataDir: f.dataDir } });
          const r = await restoreOffline(config, await readFile(file));
          process.stdout.write(`Success! Snapshot of init ${r.initId} written into the empty ${r.storage} store (${r.written} entries). Start the server and unseal it with that initialization's keys.\n`);
          return;
        }
        if (f.config || f.dataDir) throw new UsageError('--config and --data-dir go with --offline');
        const { client } = clientFrom(f);
        const r = await client.write('sys/storage/snapshot', { snapshot: (await readFile(file)).toString('base64'), ...(f.force ? { force: true } : {}) });
        const d = r.body['data'] as { snapshot_created: string; written: number; removed: number; unchanged: number; lost: string[] };
        process.stdout.write(`Success! Snapshot taken ${d.snapshot_created} restored: ${d.written} entries written, ${d.removed} removed, ${d.unchanged} unchanged.\n`);
        for (const line of d.lost) process.stderr.write(`warning: dropped ${line}\n`);
      });
    });
  withClientFlags(cmd.command('seal').description('seal the server (needs a root or sudo token)')).action(async (f: ClientFlags) => {
    await guarded(async () => {
      const { client } = clientFrom(f);
      await client.write('sys/seal', {});
      process.stdout.write('Success! Server is sealed.\n');
    });
  });
}

export function statusRows(st: Record<string, unknown>): Record<string, unknown> {
  return {
    'Seal Type': st['type'],
    Initialized: st['initialized'],
    Sealed: st['sealed'],
    'Total Shares': st['n'],
    Threshold: st['t'],
    'Unseal Progress': `${String(st['progress'])}/${String(st['t'])}`,
    'Unseal Nonce': st['nonce'] || 'n/a',
    Version: st['version'],
    'Storage Type': st['storage_type'],
  };
}

function generateRootRows(st: Record<string, unknown>): Record<string, unknown> {
  const rows: Record<string, unknown> = {
    Nonce: st['nonce'] || 'n/a',
    Started: st['started'],
    Progress: `${String(st['progress'])}/${String(st['required'])}`,
    Complete: st['complete'],
  };
  if (st['otp']) rows['OTP'] = st['otp'];
  rows['OTP Length'] = st['otp_length'];
  if (st['encoded_token']) rows['Encoded Token'] = st['encoded_token'];
  return rows;
}

async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    reportError(err);
  }
}
