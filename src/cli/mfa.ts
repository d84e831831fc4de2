/**
 * `arca mfa totp enroll --method-id ID [--entity-id E] [--qr-file F]`: enrolls a TOTP secret for the
 * caller's own entity (`identity/mfa/method/totp/generate`) or, with --entity-id, for another entity
 * (`admin-generate`). Prints the otpauth:// URL and the recovery codes once; writes the QR PNG to a
 * file (mode 0600: it encodes the secret).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { printValue } from './output.ts';

interface Flags extends ClientFlags {
  methodId: string;
  entityId?: string;
  qrFile?: string;
}

export function register(cmd: Command): void {
  cmd.description('enroll TOTP for login MFA');
  const totp = cmd.command('totp').description('TOTP (authenticator app) second factor');
  withClientFlags(totp.command('enroll').description('generate a TOTP secret and recovery codes (shown once)'))
    .requiredOption('--method-id <id>', 'TOTP method id (identity/mfa/method/totp)')
    .option('--entity-id <id>', 'enroll this entity (administrators; default: your own entity)')
    .option('--qr-file <file>', 'write the QR code PNG to FILE (mode 0600)')
    .action(async (o: Flags) => {
      const { client, format } = clientFrom(o);
      try {
        const path = o.entityId ? 'identity/mfa/method/totp/admin-generate' : 'identity/mfa/method/totp/generate';
        const r = await client.write(path, { method_id: o.methodId, ...(o.entityId ? { entity_id: o.entityId } : {}) });
        const d = (r.body['data'] ?? {}) as { url?: string; barcode?: string; recovery_codes?: string[] };
        if (o.qrFile && d.barcode) writeFileSync(o.qrFile, Buffer.from(d.barcode, 'base64'), { mode: 0o600 });
        if (format === 'table') process.stdout.write('Add the URL (or the QR code) to your authenticator app. Store the recovery codes offline: they are not shown again.\n\n');
        printValue({ url: d.url, recovery_codes: d.recovery_codes, ...(o.qrFile ? { qr_file: o.qrFile } : {}) }, format);
      } finally {
        client.close();
      }
    });
}
