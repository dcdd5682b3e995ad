import type { ServiceEntrySpec } from '../../model/index.js';
import { array, enumOf, int, map, object, optional, string, type Infer } from '../schema.js';
import { compact, defineKind, istioPort, labels, optionalArray, workloadSelectorLabels } from './common.js';

const workloadEntry = object({
  address: optional(string()),
  ports: optional(map(int())),
  labels: optional(labels()),
  network: optional(string()),
  locality: optional(string()),
  weight: optional(int({ min: 0 })),
  serviceAccount: optional(string()),
});

export const serviceEntrySpec = object({
  hosts: optionalArray(string()),
  addresses: optionalArray(string()),
  ports: optionalArray(istioPort()),
  location: optional(enumOf(['MESH_EXTERNAL', 'MESH_INTERNAL'])),
  resolution: optional(enumOf(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS'])),
  endpoints: optional(array(workloadEntry)),
  workloadSelector: optional(workloadSelectorLabels()),
  exportTo: optionalArray(string()),
  subjectAltNames: optionalArray(string()),
});

export type ExtServiceEntry = Infer<typeof serviceEntrySpec>;

export const serviceEntryCodec = defineKind({
  kind: 'ServiceEntry',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  strict: true,
  spec: serviceEntrySpec,
  specRequired: true,
  normalize(ext): ServiceEntrySpec {
    const e = ext ?? {};
    return compact({
      hosts: (e.hosts ?? []).map((h) => h.toLowerCase()),
      addresses: e.addresses ?? [],
      // ServiceEntry port names are required by Istio; an absent one is reported by validation as invalid.
      // An unset protocol means "sniff" in Istio; the model has no such value, so it reads as TCP.
      ports: (e.ports ?? []).map((p) =>
        compact({ number: p.number, protocol: p.protocol ?? 'TCP', name: p.name ?? '', targetPort: p.targetPort }),
      ),
      location: e.location ?? 'MESH_EXTERNAL',
      resolution: e.resolution ?? 'NONE',
      endpoints: (e.endpoints ?? []).map((w) =>
        compact({
          address: w.address ?? '',
          ports: w.ports ?? {},
          labels: w.labels ?? {},
          network: w.network,
          locality: w.locality,
          weight: w.weight,
          serviceAccount: w.serviceAccount,
        }),
      ),
      workloadSelector: e.workloadSelector ? { labels: e.workloadSelector.labels ?? {} } : undefined,
      exportTo: e.exportTo ?? [],
      subjectAltNames: e.subjectAltNames ?? [],
    });
  },
});
