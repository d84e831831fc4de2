import { AuditBroker, type AuditBrokerOptions } from './broker.ts';
import type { AuditInput } from './entry.ts';
import { generateAuditKeys } from './signing.ts';

/** Test helper: an AuditInput for a request with some data. */
export function requestInput(i: number, data: Record<string, unknown> = {}): AuditInput {
  return {
    type: 'request',
    request: {
      id: `req-${i}`,
      operation: 'update',
      path: `secret/data/app/${i}`,
      clientAddr: '127.0.0.1',
      auth: { accessor: 'acc-test', policies: ['default', 'app'], displayName: 'token-test' },
      data,
    },
  };
}

/** Test helper: a broker with fresh keys and fast retries. */
export async function openTestBroker(
  opts: Omit<AuditBrokerOptions, 'hmacKey' | 'signingKey'> & Partial<Pick<AuditBrokerOptions, 'hmacKey' | 'signingKey'>>,
): Promise<AuditBroker> {
  const keys = generateAuditKeys();
  return AuditBroker.open({ hmacKey: keys.hmacKey, signingKey: keys.signingKey, retryMaxMs: 100, checkpointIntervalMs: 0, ...opts });
}
