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
 * Reviewer may remember it: a Deployment's scale-up or rollout sends many identical pods (same
 * template, empty name), and each repeat then costs a lookup instead of a parse and a mutation.
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

/** Where the API server puts the request uid: right after the envelope (Go encodes fields in order). */
const UID_MARK = '"request":{"uid":"';
/** A uid as the API server writes it (a UUID); nothing that would need JSON escaping. */
const UID_CHARS = /^[A-Za-z0-9-]{1,128}$/;
/** Bodies larger than this are not remembered (rare, and they would pin memory). */
const MAX_KEY = 64 * 1024;

/**
 * The body without its uid, when the uid sits where the API server writes it. Two bodies with the
 * same key are the same review but for the uid: the marker is the first occurrence in both, so the
 * text before and after it is identical, and the uid needs no escaping.
 */
function bodyKey(raw: string): { uid: string; key: string } | undefined {
  if (raw.length > MAX_KEY) return undefined;
  const at = raw.indexOf(UID_MARK);
  if (at < 0 || at > 256) return undefined;
  const from = at + UID_MARK.length;
  const to = raw.indexOf('"', from);
  const uid = raw.slice(from, to);
  if (to < 0 || !UID_CHARS.test(uid)) return undefined;
  return { uid, key: raw.slice(0, from) + raw.slice(to) };
}

interface Remembered {
  verdict: Verdict;
  pod: string | undefined;
}

/** A small LRU on a Map (insertion order = recency). */
function remember<V>(m: Map<string, V>, max: number, key: string, v: V): void {
  m.delete(key);
  if (m.size >= max) m.delete(m.keys().next().value as string);
  m.set(key, v);
}

/**
 * Answers reviews. With `cacheEntries` > 0 it remembers verdicts twice over: by the review's text
 * without its uid (a repeat costs no JSON parse at all) and by pod content (pods of one template
 * sent with different request metadata). 0 disables both.
 */
export class Reviewer {
  readonly #o: InjectorOptions;
  readonly #max: number;
  readonly #byPod = new Map<string, Verdict>();
  readonly #byBody = new Map<string, Remembered>();

  constructor(o: InjectorOptions, cacheEntries = 256) {
    this.#o = o;
    this.#max = cacheEntries;
  }

  /** Verdicts currently remembered by pod content. */
  get size(): number {
    return this.#byPod.size;
  }

  /** Parses the raw body; JSON errors become a 400 without echoing the body. */
  handleBody(raw: string): ReviewAnswer {
    const fast = this.#max > 0 ? bodyKey(raw) : undefined;
    if (fast) {
      const hit = this.#byBody.get(fast.key);
      if (hit) {
        remember(this.#byBody, this.#max, fast.key, hit);
        return { ...answer(fast.uid, hit.verdict), ...(hit.pod !== undefined ? { pod: hit.pod } : {}) };
      }
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return malformed('the body is not JSON: send an admission.k8s.io/v1 AdmissionReview');
    }
    const r = this.#review(body);
    if ('status' in r) return r;
    // Only a body whose parsed uid is the one found in the text may answer for its twins.
    if (fast && fast.uid === r.uid) remember(this.#byBody, this.#max, fast.key, { verdict: r.verdict, pod: r.pod });
    return { ...answer(r.uid, r.verdict), ...(r.pod !== undefined ? { pod: r.pod } : {}) };
  }

  handle(body: unknown): ReviewAnswer {
    const r = this.#review(body);
    if ('status' in r) return r;
    return { ...answer(r.uid, r.verdict), ...(r.pod !== undefined ? { pod: r.pod } : {}) };
  }

  #review(body: unknown): ReviewAnswer | { uid: string; verdict: Verdict; pod: string | undefined } {
    const r = AdmissionReview.safeParse(body);
    if (!r.success) {
      const where = r.error.issues[0]?.path.join('.') || '(root)';
      return malformed(`not an admission.k8s.io/v1 AdmissionReview with request.uid and request.operation (first problem at ${where})`);
    }
    const req = r.data.request;
    // Only pod CREATE is ever patched; anything else the webhook is sent passes untouched.
    const isPod = (req.resource?.resource ?? 'pods') === 'pods' && (req.kind?.kind ?? 'Pod') === 'Pod' && !req.subResource;
    if (!isPod || req.operation !== 'CREATE') return { uid: req.uid, verdict: { kind: 'allow' }, pod: undefined };
    return { uid: req.uid, verdict: this.#verdict(req.object), pod: podName(req.namespace, req.object) };
  }

  #verdict(object: unknown): Verdict {
    if (this.#max === 0) return verdict(object, this.#o);
    const key = JSON.stringify(object);
    if (key.length > MAX_KEY) return verdict(object, this.#o);
    const v = this.#byPod.get(key) ?? verdict(object, this.#o);
    remember(this.#byPod, this.#max, key, v);
    return v;
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
