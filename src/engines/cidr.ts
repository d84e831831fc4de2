/**
 * CIDR blocks as Vault's `token_bound_cidrs` takes them: an IPv4 or IPv6 address alone, or with a
 * prefix length. One place for the syntax check (role writes) and the membership test (logins, and
 * every use of a token bound to the blocks). Membership uses node:net's BlockList.
 */
import { BlockList, isIP } from 'node:net';

export function validCidr(s: string): boolean {
  const [addr = '', bits, extra] = s.split('/');
  const v = isIP(addr);
  if (v === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (v === 4 ? 32 : 128);
}

/** Built once per list: a bound token's entry keeps its list, so each use is one lookup. */
const lists = new WeakMap<readonly string[], BlockList>();

function blockList(cidrs: readonly string[]): BlockList {
  let bl = lists.get(cidrs);
  if (bl) return bl;
  bl = new BlockList();
  for (const c of cidrs) {
    if (!validCidr(c)) continue;
    const [a = '', bits] = c.split('/');
    const type = isIP(a) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) bl.addAddress(a, type);
    else bl.addSubnet(a, Number(bits), type);
  }
  lists.set(cidrs, bl);
  return bl;
}

/**
 * Whether `addr` (a client address as node:http reports it; IPv4-mapped IPv6 counts as IPv4) is in
 * one of the blocks. No blocks: any address. An address that is not an IP: never.
 */
export function addrInCidrs(cidrs: readonly string[], addr: string): boolean {
  if (cidrs.length === 0) return true;
  const a = addr.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const fam = isIP(a);
  if (fam === 0) return false;
  return blockList(cidrs).check(a, fam === 6 ? 'ipv6' : 'ipv4');
}
