/**
 * Audit health counters. Their own registry, so the HTTP metrics endpoint can merge it
 * (`Registry.merge`) without the audit module depending on the HTTP layer.
 */
import { Counter, Registry } from 'prom-client';

export const auditMetricsRegistry = new Registry();

export const auditCheckpointFailures = new Counter({
  name: 'arca_audit_checkpoint_failures_total',
  help: 'signed audit checkpoints that no device or spool could persist',
  registers: [auditMetricsRegistry],
});

export const auditChainRestarts = new Counter({
  name: 'arca_audit_chain_restarts_total',
  help: 'audit hash chains restarted (signed chain-restart header) because the chain state was unreadable or an entry was lost',
  labelNames: ['reason'],
  registers: [auditMetricsRegistry],
});
