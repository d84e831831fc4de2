/**
 * One AdmissionReview in, one HTTP answer out (pure). The response carries the request's uid,
 * `patchType: JSONPatch` with the base64 patch, or `allowed: false` with a status saying what to fix
 * (the API server shows it to whoever created the pod). A body that is not an admission.k8s.io/v1
 * AdmissionReview gets HTTP 400 with a reason; nothing here throws for bad input.
 *
 * dryRun needs no special path: the injector has no side effects (no Secret, ConfigMap or token is
 * created per pod), so a dry run gets exactly the patch the real request would.
 *
 * The verdict depends only on the pod object and the injector's options, never on the uid, so a
 * Reviewer may remember it per pod content: a Deployment's scale-up or rollout sends many identical
 * pods (same template, empty name), and each then costs a JSON parse instead of a full mutation.
 */
import { type ArcaError, isArcaError } from '../../errors/index.ts';
import type { InjectorOptions } from './agent-container.ts';
import { mutatePod } from './mutate.ts';
import { AdmissionReview, Pod } from './pod.ts';

export type Outcome = 'injected' | 'skipped' | 'denied' | 'malformed';

export interface ReviewAnswer {
  status: number;
  body: unknown;
  /** `body` serialised (the patch case is assembled without re-encoding the base64 patch). */
  text: string;
  outcome: Outcome;
  /** For the log and metrics: the error code of a denial or malformed review. */
  code?: string;
  /** For the log: `namespace/name`, or `namespace/<generateName>*` before the name exists. */
  pod?: string;
}

/** What to answer for a pod, independent of the request uid. */
type Verdict =
  | { kind: 'allow' }
  | { kind: 'patch'; patch: string }
  | { kind: 'deny'; err: ArcaError }
  | { kind: 'malformed'; message: string };

const MALFORMED = 'ERR_INJECTOR_REVIEW_MALFORMED';

function malformed(message: string): ReviewAnswer {
  const body = { error: { code: MALFORMED, message } };
  return { status: 400, outcome: 'malformed', code: MALFORMED, body, text: JSON.stringify(body) };
}

const envelope = (uid: string, response: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } });

function answer(uid: string, v: Verdict): ReviewAnswer {
  switch (v.kind) {
    case 'allow': {
      const body = envelope(uid, { allowed: true });
      return { status: 200, outcome: 'skipped', body, text: JSON.stringify(body) };
    }
    case 'patch': {
      const body = envelope(uid, { allowed: true, patchType: 'JSONPatch', patch: v.patch });
      // base64 needs no JSON escaping; only the uid is encoded.
      const text = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)},"allowed":true,"patchType":"JSONPatch","patch":"${v.patch}"}}`;
      return { status: 200, outcome: 'injected', body, text };
    }
    case 'deny': {
      const body = envelope(uid, { allowed: false, status: { code: 400, reason: 'BadRequest', message: `arca injector: ${v.err.code}: ${v.err.message}` } });
      return { status: 200, outcome: 'denied', code: v.err.code, body, text: JSON.stringify(body) };
    }
    case 'malformed':
      return malformed(v.message);
  }
}

function verdict(object: unknown, o: InjectorOptions): Verdict {
  const pod = Pod.safeParse(object);
  if (!pod.success) {
    // A pod we cannot read is only our business when it opted in.
    const ann = (object as { metadata?: { annotations?: Record<string, unknown> } } | null)?.metadata?.annotations;
    if (ann?.['arca.dev/inject'] !== 'true') return { kind: 'allow' };
    const where = pod.error.issues[0]?.path.join('.') || '(root)';
    return { kind: 'malformed', message: `request.object is not a v1 Pod the injector can read (first problem at ${where})` };
  }
  try {
    const d = mutatePod(pod.data, o);
    if (d.kind === 'skip') return { kind: 'allow' };
    return { kind: 'patch', patch: Buffer.from(JSON.stringify(d.ops), 'utf8').toString('base64') };
  } catch (err) {
    if (!isArcaError(err)) throw err;
    return { kind: 'deny', err };
  }
}

/** Answers reviews; remembers up to `cacheEntries` verdicts by pod content (0 disables). */
export class Reviewer {
  readonly #o: InjectorOptions;
  readonly #max: number;
  readonly #cache = new Map<string, Verdict>();

  constructor(o: InjectorOptions, cacheEntries = 256) {
    this.#o = o;
    this.#max = cacheEntries;
  }

  /** Verdicts currently remembered. */
  get size(): number {
    return this.#cache.size;
  }

  /** Parses the raw body; JSON errors become a 400 without echoing the body. */
  handleBody(raw: string): ReviewAnswer {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return malformed('the body is not JSON: send an admission.k8s.io/v1 AdmissionReview');
    }
    return this.handle(body);
  }

  handle(body: unknown): ReviewAnswer {
    const r = AdmissionReview.safeParse(body);
    if (!r.success) {
      const where = r.error.issues[0]?.path.join('.') || '(root)';
      return malformed(`not an admission.k8s.io/v1 AdmissionReview with request.uid and request.operation (first problem at ${where})`);
    }
    const req = r.data.request;
    // Only pod CREATE is ever patched; anything else the webhook is sent passes untouched.
    const isPod = (req.resource?.resource ?? 'pods') === 'pods' && (req.kind?.kind ?? 'Pod') === 'Pod' && !req.subResource;
    if (!isPod || req.operation !== 'CREATE') return answer(req.uid, { kind: 'allow' });
    return { ...this.#decide(req.uid, req.object), pod: podName(req.namespace, req.object) };
  }

  #decide(uid: string, object: unknown): ReviewAnswer {
    if (this.#max === 0) return answer(uid, verdict(object, this.#o));
    const key = JSON.stringify(object);
    // Very large pods are rare and would pin memory: they are not remembered.
    if (key.length > 64 * 1024) return answer(uid, verdict(object, this.#o));
    let v = this.#cache.get(key);
    if (v) {
      this.#cache.delete(key);
    } else {
      v = verdict(object, this.#o);
      if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value as string);
    }
    this.#cache.set(key, v);
    return answer(uid, v);
  }
}

/** Controller-created pods have no name at admission, only generateName (reference §1.6). */
function podName(namespace: string | undefined, object: unknown): string {
  const m = (object as { metadata?: { name?: unknown; generateName?: unknown } } | null)?.metadata;
  const name = typeof m?.name === 'string' && m.name ? m.name : typeof m?.generateName === 'string' ? `${m.generateName}*` : '?';
  return `${namespace ?? '?'}/${name.slice(0, 253)}`;
}

/** One review without a cache (tests, one-off use). */
export function handleReview(body: unknown, o: InjectorOptions): ReviewAnswer {
  return new Reviewer(o, 0).handle(body);
}

export function handleReviewBody(raw: string, o: InjectorOptions): ReviewAnswer {
  return new Reviewer(o, 0).handleBody(raw);
}
