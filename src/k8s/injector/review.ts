/**
 * One AdmissionReview in, one HTTP answer out (pure). The response carries the request's uid,
 * `patchType: JSONPatch` with the base64 patch, or `allowed: false` with a status saying what to fix
 * (the API server shows it to whoever created the pod). A body that is not an admission.k8s.io/v1
 * AdmissionReview gets HTTP 400 with a reason; nothing here throws.
 *
 * dryRun needs no special path: the injector has no side effects (no Secret, ConfigMap or token is
 * created per pod), so a dry run gets exactly the patch the real request would.
 */
import { type ArcaError, isArcaError } from '../../errors/index.ts';
import type { InjectorOptions } from './agent-container.ts';
import { type Decision, mutatePod } from './mutate.ts';
import { AdmissionReview, Pod } from './pod.ts';

export type Outcome = 'injected' | 'skipped' | 'denied' | 'malformed';

export interface ReviewAnswer {
  status: number;
  body: unknown;
  outcome: Outcome;
  /** For the log: the error code of a denial or malformed review. */
  code?: string;
}

function malformed(message: string): ReviewAnswer {
  return { status: 400, outcome: 'malformed', code: 'ERR_INJECTOR_REVIEW_MALFORMED', body: { error: { code: 'ERR_INJECTOR_REVIEW_MALFORMED', message } } };
}

const respond = (uid: string, response: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } });

/** Parses the raw body; JSON errors become a 400 without echoing the body. */
export function handleReviewBody(raw: string, o: InjectorOptions): ReviewAnswer {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return malformed('the body is not JSON: send an admission.k8s.io/v1 AdmissionReview');
  }
  return handleReview(body, o);
}

export function handleReview(body: unknown, o: InjectorOptions): ReviewAnswer {
  const r = AdmissionReview.safeParse(body);
  if (!r.success) {
    const where = r.error.issues[0]?.path.join('.') || '(root)';
    return malformed(`not an admission.k8s.io/v1 AdmissionReview with request.uid and request.operation (first problem at ${where})`);
  }
  const req = r.data.request;
  const allow = (outcome: Outcome) => ({ status: 200, outcome, body: respond(req.uid, { allowed: true }) });
  // Only pod CREATE is ever patched; anything else the webhook is sent passes untouched.
  const isPod = (req.resource?.resource ?? 'pods') === 'pods' && (req.kind?.kind ?? 'Pod') === 'Pod' && !req.subResource;
  if (!isPod || req.operation !== 'CREATE') return allow('skipped');
  const pod = Pod.safeParse(req.object);
  if (!pod.success) {
    // A pod we cannot read is only our business when it opted in.
    const ann = (req.object as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations;
    if (ann?.['arca.dev/inject'] !== 'true') return allow('skipped');
    const where = pod.error.issues[0]?.path.join('.') || '(root)';
    return malformed(`request.object is not a v1 Pod the injector can read (first problem at ${where})`);
  }
  let d: Decision;
  try {
    d = mutatePod(pod.data, o);
  } catch (err) {
    if (!isArcaError(err)) throw err;
    return deny(req.uid, err);
  }
  if (d.kind === 'skip') return allow('skipped');
  const patch = Buffer.from(JSON.stringify(d.ops), 'utf8').toString('base64');
  return { status: 200, outcome: 'injected', body: respond(req.uid, { allowed: true, patchType: 'JSONPatch', patch }) };
}

function deny(uid: string, err: ArcaError): ReviewAnswer {
  return {
    status: 200,
    outcome: 'denied',
    code: err.code,
    body: respond(uid, { allowed: false, status: { code: 400, reason: 'BadRequest', message: `arca injector: ${err.code}: ${err.message}` } }),
  };
}
