/**
 * `arca policy …`: write, read, list and delete ACL policies over the HTTP API
 * (`sys/policies/acl/<name>`) through the shared client (--addr/--token/--cacert or ARCA_ADDR,
 * ARCA_TOKEN, ARCA_CACERT). Policy text may be HCL, JSON or YAML; the server parses and validates it.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ArcaError, isArcaError } from '../errors/index.ts';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { printTable, printValue } from './output.ts';

/** Same limit as the server's parser, so a huge file fails here with a clear message. */
const MAX_POLICY_BYTES = 1024 * 1024;
const NAME = /^[A-Za-z0-9_.@-]+$/;

function policyName(name: string): string {
  if (!NAME.test(name) || name === '.' || name === '..') {
    throw new UsageError(`policy name "${name}" may contain only letters, digits and _ . @ -`);
  }
  return name;
}

async function readPolicyText(file: string): Promise<string> {
  let text: string;
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read policy file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (text.trim() === '') throw new UsageError(`the policy in ${file === '-' ? 'stdin' : file} is empty`);
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw new UsageError(`the policy is larger than ${MAX_POLICY_BYTES} bytes`);
  return text;
}

export function register(cmd: Command): void {
  cmd.description('write, read, list and delete ACL policies');

  withClientFlags(cmd.command('write <name> <file>').description('create or replace policy NAME from FILE (HCL, JSON or YAML; - for stdin)')).action(
    async (name: string, file: string, o: ClientFlags) => {
      const n = policyName(name);
      const text = await readPolicyText(file);
      const { client } = clientFrom(o);
      try {
        await client.call('PUT', `sys/policies/acl/${encodeURIComponent(n)}`, { policy: text });
        process.stdout.write(`Success! Uploaded policy: ${n.toLowerCase()}\n`);
      } finally {
        client.close();
      }
    },
  );

  withClientFlags(cmd.command('read <name>').description('print the text of policy NAME (table) or {name, policy} (json, yaml)')).action(
    async (name: string, o: ClientFlags) => {
      const n = policyName(name);
      const { client, format } = clientFrom(o);
      try {
        const r = await client.call('GET', `sys/policies/acl/${encodeURIComponent(n)}`).catch((err: unknown) => {
          // Vault answers a missing policy with 404 and no message: say what is missing.
          if (isArcaError(err, 'ERR_NOT_FOUND')) throw new ArcaError('ERR_NOT_FOUND', `no policy named ${n.toLowerCase()}`);
          throw err;
        });
        const data = (r.body as { data?: { name?: unknown; policy?: unknown } | null }).data ?? {};
        if (format === 'table') {
          const text = typeof data.policy === 'string' ? data.policy : '';
          process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
          return;
        }
        printValue({ name: data.name, policy: data.policy }, format);
      } finally {
        client.close();
      }
    },
  );

  withClientFlags(cmd.command('list').description('list the names of all ACL policies')).action(async (o: ClientFlags) => {
    const { client, format } = clientFrom(o);
    try {
      const r = await client.list('sys/policies/acl');
      const data = (r.body as { data?: { keys?: unknown } | null }).data;
      const keys = Array.isArray(data?.keys) ? data.keys.filter((k): k is string => typeof k === 'string') : [];
      if (format === 'table') printTable(['Policies'], keys.map((k) => [k]));
      else printValue(keys, format);
    } finally {
      client.close();
    }
  });

  withClientFlags(cmd.command('delete <name>').description('delete policy NAME (default and root cannot be deleted)')).action(
    async (name: string, o: ClientFlags) => {
      const n = policyName(name);
      const { client } = clientFrom(o);
      try {
        await client.call('DELETE', `sys/policies/acl/${encodeURIComponent(n)}`);
        process.stdout.write(`Success! Deleted policy: ${n.toLowerCase()}\n`);
      } finally {
        client.close();
      }
    },
  );
}
