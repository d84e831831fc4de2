/**
 * Replicas that share storage (HA on PostgreSQL) are usually all started before one of them runs
 * `sys/init` (a StatefulSet). The others must learn of the init without a restart: while this
 * process knows no seal record, it re-reads it before every request (seal status, unseal, health,
 * init all answer from it) and, with HA, once a second — so an HSM-sealed replica auto-unseals even
 * when nobody asks it anything.
 */
import type { Core } from '../core/index.ts';
import { toArcaError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';

export interface SealRefresher {
  /** Re-reads the seal record if still unknown; auto-unseals (HSM seal) once it appears. */
  refresh(): Promise<void>;
  /** Polls every `intervalMs` until the record is known. */
  poll(intervalMs: number): void;
  stop(): void;
}

export function sealRefresher(core: Core, log: Logger): SealRefresher {
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const once = async (): Promise<void> => {
    if (!(await core.seal.refresh())) return;
    log.info({ seal: core.seal.sealType }, 'storage was initialized by another replica');
    // Core.start re-reads the record and, for the HSM seal, auto-unseals and starts serving.
    if (core.seal.sealType === 'pkcs11') await core.start();
  };
  const refresh = (): Promise<void> => {
    if (core.state !== 'uninitialized') return Promise.resolve();
    // One read at a time however many requests arrive while uninitialized.
    inFlight ??= once()
      .catch((err: unknown) => log.warn({ err: toArcaError(err).code }, 'seal record refresh or auto-unseal failed'))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return {
    refresh,
    poll(intervalMs) {
      const tick = () => {
        if (core.state !== 'uninitialized') return;
        void refresh().finally(() => {
          timer = setTimeout(tick, intervalMs);
          timer.unref();
        });
      };
      tick();
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
