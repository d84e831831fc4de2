/**
 * The TLS client certificate chain of a request, straight from the handshake of our own listener
 * (auth/cert). Never from a header: a proxy that terminates TLS cannot vouch for a certificate.
 */
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/** Only logins read the chain (it costs a few allocations per request). */
export const LOGIN_PATH = /^auth\/.+\/login$/;
const MAX_CHAIN = 8;

/** undefined = not a TLS connection; [] = TLS without a client certificate; else DER, leaf first. */
export function peerChain(req: FastifyRequest): Uint8Array[] | undefined {
  const sock = req.raw.socket as Partial<TLSSocket>;
  if (!sock.encrypted || typeof sock.getPeerCertificate !== 'function') return undefined;
  const out: Uint8Array[] = [];
  let c: DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c?.raw && !seen.has(c.fingerprint256) && out.length < MAX_CHAIN) {
    out.push(new Uint8Array(c.raw));
    seen.add(c.fingerprint256);
    c = c.issuerCertificate;
  }
  return out;
}
