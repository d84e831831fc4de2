/**
 * Checks a TLS client certificate chain (as presented in the handshake, leaf first) against one
 * `certs/:name` role: a CA role needs the leaf to chain to it (through presented intermediates),
 * a non-CA role needs the very same certificate. Then validity, clientAuth usage, and the role's
 * name constraints. Uses node:crypto's X509Certificate only; nothing is parsed by hand.
 */
import type { X509Certificate } from 'node:crypto';
import { globMatch } from '../glob.ts';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
/** Longest chain accepted from a client (leaf + intermediates). */
const MAX_CHAIN = 5;

export interface CertRoleConstraints {
  certificate: string;
  allowed_common_names: string[];
  allowed_dns_sans: string[];
}

const glob = (pattern: string, value: string) => globMatch(pattern, value, { ignoreCase: true });

function current(c: X509Certificate, nowMs: number): boolean {
  return Date.parse(c.validFrom) <= nowMs && nowMs <= Date.parse(c.validTo);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** Whether the chain is trusted by this role's certificate (not yet the name constraints). */
export function chainTrusted(role: X509Certificate, chain: X509Certificate[], nowMs: number): boolean {
  const leaf = chain[0];
  if (!leaf || chain.length > MAX_CHAIN || !current(leaf, nowMs)) return false;
  const eku = leaf.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return false;
  if (!role.ca) return Buffer.compare(leaf.raw, role.raw) === 0;
  let cur = leaf;
  for (let i = 1; i <= chain.length; i++) {
    if (issuedBy(cur, role)) return current(role, nowMs);
    const next = chain[i];
    if (!next?.ca || !current(next, nowMs) || !issuedBy(cur, next)) return false;
    cur = next;
  }
  return false;
}

export function commonName(c: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? '';
}

export function dnsSans(c: X509Certificate): string[] {
  return (c.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
}

/** Vault: each non-empty list needs at least one match. */
export function constraintsMatch(r: CertRoleConstraints, leaf: X509Certificate): boolean {
  if (r.allowed_common_names.length && !r.allowed_common_names.some((g) => glob(g, commonName(leaf)))) return false;
  if (r.allowed_dns_sans.length) {
    const sans = dnsSans(leaf);
    if (!r.allowed_dns_sans.some((g) => sans.some((s) => glob(g, s)))) return false;
  }
  return true;
}
