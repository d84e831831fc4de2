/**
 * The parts of an admission.k8s.io/v1 AdmissionReview and a v1 Pod the injector reads, parsed from
 * `unknown` with zod. Unknown fields pass through untouched: the injector never re-serialises the
 * pod, it only emits JSON Patch operations relative to what it received.
 */
import { z } from 'zod';

const EnvVar = z.looseObject({ name: z.string(), value: z.string().optional() });
const Mount = z.looseObject({ name: z.string(), mountPath: z.string() });
const SecurityContext = z.looseObject({ runAsUser: z.number().int().optional(), runAsGroup: z.number().int().optional() });

export const Container = z.looseObject({
  name: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(EnvVar).optional(),
  volumeMounts: z.array(Mount).optional(),
  securityContext: SecurityContext.nullish(),
  restartPolicy: z.string().optional(),
});
export type Container = z.infer<typeof Container>;

export const Pod = z.looseObject({
  metadata: z
    .looseObject({
      name: z.string().optional(),
      generateName: z.string().optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  spec: z.looseObject({
    containers: z.array(Container).min(1),
    initContainers: z.array(Container).optional(),
    volumes: z.array(z.looseObject({ name: z.string() })).optional(),
    securityContext: SecurityContext.nullish(),
    shareProcessNamespace: z.boolean().optional(),
  }),
  status: z.looseObject({ phase: z.string().optional() }).optional(),
});
export type Pod = z.infer<typeof Pod>;

const GVK = z.looseObject({ group: z.string(), version: z.string(), kind: z.string() });
const GVR = z.looseObject({ group: z.string(), version: z.string(), resource: z.string() });

export const AdmissionReview = z.looseObject({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1),
    kind: GVK.optional(),
    resource: GVR.optional(),
    subResource: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.string(),
    dryRun: z.boolean().optional(),
    object: z.unknown(),
  }),
});
export type AdmissionReview = z.infer<typeof AdmissionReview>;
