/**
 * `arca pki control-plane init|issue`: the kubeadm control-plane PKI with its CA keys in Arca
 * (docs/pki.md). `init` creates the three CA mounts, their roles and the service-account key pair;
 * `issue` writes one node's /etc/kubernetes/pki layout with short-lived certificates.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { isHostname } from '../engines/pki/names.ts';
import { parseDuration } from '../units/index.ts';
import { type ClientFlags, clientFrom, withClientFlags } from './client-flags.ts';
import { UsageError } from './exit.ts';
import { printTable, printValue } from './output.ts';
import { createLogger } from '../log/index.ts';
import { runAgent } from './pki-agent.ts';
import { initControlPlane, issueNode, mountNames, type NodeParams } from './pki-control-plane.ts';

const MAX_TTL_S = 100 * 365 * 86400;

function duration(flag: string, v: string): string {
  try {
    parseDuration(v, { field: flag, min: 60, max: MAX_TTL_S });
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
  return v;
}

function prefix(v: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,40}$/i.test(v)) throw new UsageError('--prefix may contain letters, digits, _ and - only');
  return v;
}

interface InitFlags extends ClientFlags {
  prefix: string;
  keyType: string;
  caTtl: string;
  ttl: string;
  maxTtl: string;
}

interface AgentFlags extends IssueFlags {
  renewFraction: string;
  reloadCommand?: string;
}

interface IssueFlags extends ClientFlags {
  prefix: string;
  node?: string;
  dir: string;
  advertiseAddress: string;
  serviceIp: string;
  dnsDomain: string;
  certSans?: string;
  ttl?: string;
}

function nodeParams(o: IssueFlags): NodeParams {
  if (!o.node || !isHostname(o.node)) throw new UsageError('--node must be the node name (a valid hostname)');
  for (const [flag, v] of [['--advertise-address', o.advertiseAddress], ['--service-ip', o.serviceIp]] as const) {
    if (!isIP(v)) throw new UsageError(`${flag} must be an IP address`);
  }
  if (!isHostname(o.dnsDomain)) throw new UsageError('--dns-domain must be a DNS name');
  const certSans = (o.certSans ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of certSans) if (!isIP(s) && !isHostname(s)) throw new UsageError('--cert-sans entries must be DNS names or IP addresses');
  return { node: o.node, advertiseAddress: o.advertiseAddress, serviceIp: o.serviceIp, dnsDomain: o.dnsDomain, certSans };
}

function nodeOptions(c: Command): Command {
  return c
    .option('--prefix <p>', 'mount path prefix', 'pki-')
    .option('--node <name>', 'node name (etcd server/peer CN, apiserver SAN)')
    .option('--dir <dir>', 'certificates directory', '/etc/kubernetes/pki')
    .option('--advertise-address <ip>', 'the node\'s advertise address', '127.0.0.1')
    .option('--service-ip <ip>', 'first IP of the service subnet', '10.96.0.1')
    .option('--dns-domain <d>', 'cluster DNS domain', 'cluster.local')
    .option('--cert-sans <list>', 'extra apiserver SANs, comma-separated names and IPs')
    .option('--ttl <d>', 'leaf lifetime (default: the role\'s ttl)');
}

export function register(cmd: Command): void {
  cmd.description('control-plane PKI on Arca (Kubernetes, etcd and front-proxy CAs)');
  const cp = cmd.command('control-plane').description('kubeadm-style control-plane certificates with the CA keys kept in Arca');

  withClientFlags(cp.command('init').description('create the CA mounts, roles and service-account key pair (idempotent)'))
    .option('--prefix <p>', 'mount path prefix', 'pki-')
    .option('--key-type <t>', 'ec (P-256) or rsa (2048) for CAs and leaves', 'ec')
    .option('--ca-ttl <d>', 'CA lifetime', '87600h')
    .option('--ttl <d>', 'default leaf lifetime', '24h')
    .option('--max-ttl <d>', 'longest leaf lifetime a role allows', '720h')
    .action(async (o: InitFlags) => {
      if (o.keyType !== 'ec' && o.keyType !== 'rsa') throw new UsageError('--key-type must be ec or rsa');
      const { client, format } = clientFrom(o);
      try {
        const done = await initControlPlane(client, mountNames(prefix(o.prefix)), {
          keyType: o.keyType, caTtl: duration('--ca-ttl', o.caTtl), leafTtl: duration('--ttl', o.ttl), leafMaxTtl: duration('--max-ttl', o.maxTtl),
        });
        if (format === 'table') for (const d of done) process.stdout.write(`${d}\n`);
        else printValue({ done }, format);
      } finally {
        client.close();
      }
    });

  nodeOptions(withClientFlags(cp.command('issue').description('write a node\'s certificates, keys and CA certificates in the kubeadm layout')))
    .action(async (o: IssueFlags) => {
      const params = nodeParams(o);
      const ttl = o.ttl ? duration('--ttl', o.ttl) : undefined;
      const { client, format } = clientFrom(o);
      try {
        const out = await issueNode(client, mountNames(prefix(o.prefix)), params, o.dir, ttl);
        if (format === 'table') printTable(['FILE', 'SERIAL', 'EXPIRES'], out.map((r) => [r.file, r.serial, new Date(r.expiration * 1000).toISOString()]));
        else printValue(out, format);
      } finally {
        client.close();
      }
    });

  nodeOptions(withClientFlags(cp.command('agent').description('issue, then keep renewing before a fraction of the lifetime has passed; run a reload command after each write')))
    .option('--renew-fraction <f>', 'renew when this fraction of the lifetime has passed (0.1-0.9)', '0.67')
    .option('--reload-command <cmd>', 'shell command run after each successful write (e.g. restart the static pods)')
    .action(async (o: AgentFlags) => {
      const params = nodeParams(o);
      const ttl = o.ttl ? duration('--ttl', o.ttl) : undefined;
      const fraction = Number(o.renewFraction);
      if (!Number.isFinite(fraction) || fraction < 0.1 || fraction > 0.9) throw new UsageError('--renew-fraction must be a number between 0.1 and 0.9');
      const { client } = clientFrom(o);
      const log = createLogger().child({ component: 'cert-agent' });
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      try {
        await runAgent(client, mountNames(prefix(o.prefix)), params, { dir: o.dir, ttl, renewFraction: fraction, reloadCommand: o.reloadCommand, log, stopped });
      } finally {
        client.close();
      }
    });
}
