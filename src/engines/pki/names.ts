/**
 * Which names a role lets into a certificate (Vault's validateNames subset): the CN and DNS/email
 * SANs against allowed_domains + the allow_* flags, IP SANs against allow_ip_sans, URI SANs
 * against allowed_uri_sans globs. Refusals never quote the name: it came from the request.
 */
import { isIP } from 'node:net';
import { ArcaError } from '../../errors/index.ts';
import { globMatch } from '../glob.ts';
import type { Role } from './roles.ts';

const LABEL = /^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/i;

/** RFC 1123 hostname (a leading `*.` label allowed), at most 253 characters. */
export function isHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.replace(/\.$/, '').split('.');
  return labels.every((l, i) => LABEL.test(l) && (l !== '*' || i === 0));
}

function refuse(what: string, field: string): ArcaError {
  return new ArcaError('ERR_PKI_NAME_NOT_ALLOWED', `${what} not allowed by this role`, { details: { field } });
}


function domainAllowed(role: Role, name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (role.allow_any_name) return true;
  if (role.allow_localhost && (n === 'localhost' || n === 'localdomain' || n.endsWith('.localhost'))) return true;
  for (const raw of role.allowed_domains) {
    const d = raw.toLowerCase();
    if (role.allow_bare_domains && n === d) return true;
    // Vault: any depth of subdomain, and a wildcard `*.d` counts as one.
    if (role.allow_subdomains && n.endsWith(`.${d}`) && n.length > d.length + 1) return true;
    if (role.allow_glob_domains && d.includes('*') && globMatch(d, n, { ignoreCase: true })) return true;
  }
  return false;
}

/** A DNS name or the CN: hostname syntax (unless enforce_hostnames is off) and an allowed domain. */
export function checkDnsName(role: Role, name: string, field: string): void {
  if (role.enforce_hostnames && !isHostname(name)) throw refuse('a name that is not a valid hostname is', field);
  if (!domainAllowed(role, name)) throw refuse(field === 'common_name' ? 'common name' : 'subject alternate name', field);
}

export function checkEmail(role: Role, email: string, field: string): void {
  const at = email.lastIndexOf('@');
  const host = at > 0 ? email.slice(at + 1) : '';
  if (!host || (role.enforce_hostnames && !isHostname(host)) || !domainAllowed(role, host)) throw refuse('email address', field);
}

export function checkCommonName(role: Role, cn: string): void {
  if (cn.includes('@')) checkEmail(role, cn, 'common_name');
  else checkDnsName(role, cn, 'common_name');
}

export function checkIp(role: Role, ip: string): void {
  if (!isIP(ip)) throw new ArcaError('ERR_INVALID_REQUEST', 'ip_sans entries must be IPv4 or IPv6 addresses', { details: { field: 'ip_sans' } });
  if (!role.allow_ip_sans) throw refuse('IP subject alternate names are', 'ip_sans');
}

export function checkUri(role: Role, uri: string): void {
  let ok = false;
  try {
    new URL(uri);
    ok = true;
  } catch {
    ok = false;
  }
  if (!ok) throw new ArcaError('ERR_INVALID_REQUEST', 'uri_sans entries must be absolute URIs', { details: { field: 'uri_sans' } });
  if (!role.allowed_uri_sans.some((g) => globMatch(g, uri, { ignoreCase: true }))) throw refuse('URI subject alternate name', 'uri_sans');
}

export interface Names {
  commonName: string;
  dns: string[];
  emails: string[];
  ips: string[];
  uris: string[];
}

/** Splits Vault's `alt_names` (DNS names and emails mixed) and checks everything against the role. */
export function checkNames(role: Role, n: Names): void {
  if (n.commonName === '') {
    if (role.require_cn) throw new ArcaError('ERR_INVALID_REQUEST', 'the common_name field is required', { details: { field: 'common_name' } });
  } else {
    checkCommonName(role, n.commonName);
  }
  for (const d of n.dns) checkDnsName(role, d, 'alt_names');
  for (const e of n.emails) checkEmail(role, e, 'alt_names');
  for (const ip of n.ips) checkIp(role, ip);
  for (const u of n.uris) checkUri(role, u);
}
