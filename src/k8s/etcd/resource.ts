/**
 * etcd key → the resource whose provider chain applies. Keys are `<prefix><resource>/...` for core
 * and most built-in types (stored without their group), `<prefix><group>/<plural>/...` for custom
 * resources and aggregated groups, with a few historical names (minions, controllers, services/specs).
 */
import type { GroupResource } from '../encryption/index.ts';

const BUILTIN_GROUP: Record<string, string> = {
  deployments: 'apps',
  replicasets: 'apps',
  daemonsets: 'apps',
  statefulsets: 'apps',
  controllerrevisions: 'apps',
  jobs: 'batch',
  cronjobs: 'batch',
  horizontalpodautoscalers: 'autoscaling',
  ingressclasses: 'networking.k8s.io',
  networkpolicies: 'networking.k8s.io',
  ipaddresses: 'networking.k8s.io',
  servicecidrs: 'networking.k8s.io',
  poddisruptionbudgets: 'policy',
  clusterroles: 'rbac.authorization.k8s.io',
  clusterrolebindings: 'rbac.authorization.k8s.io',
  roles: 'rbac.authorization.k8s.io',
  rolebindings: 'rbac.authorization.k8s.io',
  storageclasses: 'storage.k8s.io',
  volumeattachments: 'storage.k8s.io',
  csidrivers: 'storage.k8s.io',
  csinodes: 'storage.k8s.io',
  csistoragecapacities: 'storage.k8s.io',
  priorityclasses: 'scheduling.k8s.io',
  leases: 'coordination.k8s.io',
  certificatesigningrequests: 'certificates.k8s.io',
  mutatingwebhookconfigurations: 'admissionregistration.k8s.io',
  validatingwebhookconfigurations: 'admissionregistration.k8s.io',
  validatingadmissionpolicies: 'admissionregistration.k8s.io',
  validatingadmissionpolicybindings: 'admissionregistration.k8s.io',
  runtimeclasses: 'node.k8s.io',
  endpointslices: 'discovery.k8s.io',
  flowschemas: 'flowcontrol.apiserver.k8s.io',
  prioritylevelconfigurations: 'flowcontrol.apiserver.k8s.io',
};

const RENAMED: Record<string, GroupResource> = {
  minions: { group: '', resource: 'nodes' },
  controllers: { group: '', resource: 'replicationcontrollers' },
  ingress: { group: 'networking.k8s.io', resource: 'ingresses' },
};

/** `key` must start with `prefix` (e.g. `/registry/`). */
export function resourceOfKey(key: string, prefix: string): GroupResource {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  const [a = '', b = ''] = rest.split('/');
  if (a.includes('.')) return { group: a, resource: b };
  if (a === 'services') return { group: '', resource: b === 'endpoints' ? 'endpoints' : 'services' };
  const renamed = RENAMED[a];
  if (renamed) return renamed;
  return { group: BUILTIN_GROUP[a] ?? '', resource: a };
}

/** `secrets`, `deployments.apps`, `widgets.example.com`. */
export function resourceLabel(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/**
 * Key prefixes to read for a resource filter, when they can be known without reading everything
 * (core resources and `<plural>.<group>` custom resources); undefined = scan the whole prefix.
 */
export function rangesFor(resources: string[] | undefined, prefix: string): string[] | undefined {
  if (!resources?.length) return undefined;
  const out: string[] = [];
  for (const r of resources) {
    const i = r.indexOf('.');
    if (r.includes('*')) return undefined;
    if (i < 0) {
      if (r === 'services' || r === 'endpoints' || r === 'nodes' || r === 'replicationcontrollers' || BUILTIN_GROUP[r]) return undefined;
      out.push(`${prefix}${r}/`);
    } else {
      const res = r.slice(0, i);
      const group = r.slice(i + 1);
      if (BUILTIN_GROUP[res] === group || group === 'networking.k8s.io') return undefined;
      out.push(`${prefix}${group}/${res}/`);
    }
  }
  return out.sort();
}
