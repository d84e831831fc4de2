/** The mutating admission webhook that injects `arca agent` into pods (docs/injector.md). */
export { A as ANNOTATIONS, INJECTED, parseInjectRequest } from './annotations.ts';
export { BUNDLE, type InjectorOptions, NAMES, PATHS } from './agent-container.ts';
export { type Decision, mutatePod } from './mutate.ts';
export { escapePointer, type PatchOp, pointer } from './patch.ts';
export { handleReview, handleReviewBody, type Outcome, type ReviewAnswer, Reviewer } from './review.ts';
export { type CertRequest, type CertSet, createCerts, serviceNames, writeCerts } from './certs.ts';
export { InjectorMetrics } from './metrics.ts';
export { type InjectorServer, type InjectorServerOptions, startInjectorServer } from './server.ts';
