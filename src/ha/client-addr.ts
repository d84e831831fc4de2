/**
 * Carries the original client address across a standby → active forward, so the active's rate limits
 * and audit entries see the real client. The header is trusted only with a valid HMAC under a key that
 * lives inside the barrier (only unsealed replicas of this cluster can read it); anything else is
 * ignored and the connection's own address is used.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CLIENT_ADDR_HEADER = 'x-arca-client-addr';
export const CLIENT_ADDR_MAC_HEADER = 'x-arca-client-addr-mac';

function mac(key: Uint8Array, requestNonce: string, addr: string): string {
  return createHmac('sha256', key).update(`arca-forward-v1\n${requestNonce}\n${addr}`).digest('base64url');
}

/** Headers a standby adds; the nonce (the standby's request id) keeps a captured pair from being replayed with another id. */
export function signClientAddr(key: Uint8Array, nonce: string, addr: string): Record<string, string> {
  return { [CLIENT_ADDR_HEADER]: `${nonce} ${addr}`, [CLIENT_ADDR_MAC_HEADER]: mac(key, nonce, addr) };
}

export function verifiedClientAddr(key: Uint8Array | undefined, headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers[CLIENT_ADDR_HEADER];
  const m = headers[CLIENT_ADDR_MAC_HEADER];
  if (!key || typeof v !== 'string' || typeof m !== 'string') return undefined;
  const sp = v.indexOf(' ');
  if (sp <= 0) return undefined;
  const [nonce, addr] = [v.slice(0, sp), v.slice(sp + 1)];
  if (!/^[0-9a-fA-F.:]{2,45}$/.test(addr)) return undefined;
  const want = Buffer.from(mac(key, nonce, addr));
  const got = Buffer.from(m);
  return want.length === got.length && timingSafeEqual(want, got) ? addr : undefined;
}
