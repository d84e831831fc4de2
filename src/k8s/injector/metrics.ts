/**
 * Prometheus metrics of the injector (prom-client, own registry): reviews by outcome, latency, TLS
 * reloads and the serving certificate's expiry. Labels are bounded (outcome and error code, never a
 * pod, namespace or annotation value).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from './review.ts';

export class InjectorMetrics {
  readonly registry = new Registry();
  readonly #reviews = new Counter({
    name: 'arca_injector_reviews_total',
    help: 'AdmissionReviews answered, by outcome (injected, skipped, denied, malformed) and error code',
    labelNames: ['outcome', 'code'],
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: 'arca_injector_review_duration_seconds',
    help: 'Time from the end of the request body to the response, per review',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
    registers: [this.registry],
  });
  readonly #reloads = new Counter({
    name: 'arca_injector_tls_reloads_total',
    help: 'Serving certificate reloads after the files changed, by result (ok, error)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly #notAfter = new Gauge({
    name: 'arca_injector_tls_cert_not_after_seconds',
    help: 'Expiry of the serving certificate in use (Unix seconds)',
    registers: [this.registry],
  });

  review(outcome: Outcome, code: string | undefined, seconds: number): void {
    this.#reviews.inc({ outcome, code: code ?? '' });
    this.#latency.observe(seconds);
  }

  tlsReload(ok: boolean, notAfterSeconds?: number): void {
    this.#reloads.inc({ result: ok ? 'ok' : 'error' });
    if (notAfterSeconds !== undefined) this.#notAfter.set(notAfterSeconds);
  }
}
