import type { SidecarSpec } from '../../model/index.js';
import { anything, array, enumOf, int, object, optional, string, type Infer } from '../schema.js';
import { compact, defineKind, optionalArray, portProtocol, workloadSelectorLabels } from './common.js';

const sidecarPort = object({
  number: int(),
  protocol: optional(portProtocol()),
  name: optional(string()),
  targetPort: optional(int()),
});

export const sidecarSpec = object({
  workloadSelector: optional(workloadSelectorLabels()),
  ingress: optional(anything()),
  egress: optional(
    array(
      object({
        port: optional(sidecarPort),
        bind: optional(string()),
        captureMode: optional(enumOf(['DEFAULT', 'IPTABLES', 'NONE'])),
        hosts: optionalArray(string()),
      }),
    ),
  ),
  outboundTrafficPolicy: optional(
    object({
      mode: optional(enumOf(['REGISTRY_ONLY', 'ALLOW_ANY', 'ALLOW_ANY_DYNAMIC_DNS'])),
      egressProxy: optional(anything()),
    }),
  ),
  inboundConnectionPool: optional(anything()),
});

export type ExtSidecar = Infer<typeof sidecarSpec>;

export const sidecarCodec = defineKind({
  kind: 'Sidecar',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  strict: true,
  spec: sidecarSpec,
  specRequired: true,
  normalize(ext): SidecarSpec {
    return compact({
      workloadSelector: ext?.workloadSelector ? { labels: ext.workloadSelector.labels ?? {} } : undefined,
      egress: (ext?.egress ?? []).map((e) =>
        compact({
          port: e.port ? compact({ number: e.port.number, protocol: e.port.protocol, name: e.port.name }) : undefined,
          bind: e.bind,
          hosts: (e.hosts ?? []).map((h) => h.toLowerCase()),
        }),
      ),
      // The proto default of OutboundTrafficPolicy.mode is REGISTRY_ONLY (enum value 0).
      outboundTrafficPolicy: ext?.outboundTrafficPolicy
        ? { mode: ext.outboundTrafficPolicy.mode ?? 'REGISTRY_ONLY' }
        : undefined,
    });
  },
});
