import type { EgressGatewayDeclaration, GatewayServicePort, IstioOperatorSpec, MeshConfig } from '../../model/index.js';
import { ROOT_NAMESPACE } from '../../model/index.js';
import {
  anything,
  array,
  bool,
  duration,
  enumOf,
  int,
  object,
  optional,
  string,
  union,
  type Infer,
} from '../schema.js';
import { compact, defineKind, labels, optionalArray } from './common.js';

/** Istio's default egress gateway Service ports (manifests/charts/gateways/istio-egress values). */
export const DEFAULT_EGRESS_PORTS: readonly GatewayServicePort[] = [
  { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
  { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
];

export const DEFAULT_EGRESS_LABELS = { istio: 'egressgateway', app: 'istio-egressgateway' } as const;

/** The replica fields of a gateway's deployment settings (IstioOperator `k8s`, ASM IstioGateway spec). */
export const replicaFields = {
  replicaCount: optional(int()),
  hpaSpec: optional(object({ minReplicas: optional(int()), maxReplicas: optional(int()) }, { unknown: 'ignore' })),
};

/** An autoscaler with no load holds its minimum; without one, the replica count; by default one replica. */
export function replicasOf(k8s: { replicaCount?: number; hpaSpec?: { minReplicas?: number } } | undefined): number {
  return Math.max(0, k8s?.hpaSpec?.minReplicas ?? k8s?.replicaCount ?? 1);
}

export const gatewayServicePort = object(
  {
    name: optional(string()),
    port: int(),
    targetPort: optional(union([int(), string()])),
    protocol: optional(string()),
    nodePort: optional(int()),
  },
  { unknown: 'warn' },
);

// meshConfig has many fields; the ones tollgate reads are typed, the rest are listed so that a typo in, say,
// `outboundTrafficPolicy` is a warning instead of a silent ALLOW_ANY.
const OTHER_MESH_CONFIG_FIELDS = [
  'enableTracing',
  'enableAutoMtls',
  'defaultConfig',
  'trustDomain',
  'trustDomainAliases',
  'extensionProviders',
  'defaultProviders',
  'localityLbSetting',
  'protocolDetectionTimeout',
  'ingressClass',
  'ingressService',
  'ingressControllerMode',
  'ingressSelector',
  'enablePrometheusMerge',
  'discoverySelectors',
  'serviceSettings',
  'dnsRefreshRate',
  'h2UpgradePolicy',
  'inboundClusterStatName',
  'outboundClusterStatName',
  'certificates',
  'caCertificates',
  'meshMTLS',
  'tlsDefaults',
  'pathNormalization',
  'tcpKeepalive',
  'proxyListenPort',
  'proxyInboundListenPort',
  'proxyHttpPort',
  'enableEnvoyAccessLogService',
  'disableEnvoyListenerLog',
  'configSources',
  'meshNetworks',
  'verifyCertificateAtClient',
  'ca',
  'thriftConfig',
  'serviceScopeConfigs',
  'inboundTrafficPolicy',
] as const;

const meshConfig = object(
  {
    ...Object.fromEntries(OTHER_MESH_CONFIG_FIELDS.map((k) => [k, optional(anything())])),
    outboundTrafficPolicy: optional(
      object({ mode: optional(enumOf(['REGISTRY_ONLY', 'ALLOW_ANY', 'ALLOW_ANY_DYNAMIC_DNS'])) }),
    ),
    accessLogFile: optional(string()),
    accessLogEncoding: optional(enumOf(['JSON', 'TEXT'])),
    accessLogFormat: optional(string()),
    rootNamespace: optional(string()),
    connectTimeout: optional(duration()),
    defaultServiceExportTo: optionalArray(string()),
    defaultVirtualServiceExportTo: optionalArray(string()),
    defaultDestinationRuleExportTo: optionalArray(string()),
    pathNormalization: optional(
      object({
        normalization: optional(enumOf(['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'])),
      }),
    ),
  },
  { unknown: 'warn' },
);

const egressGateway = object({
  name: optional(string()),
  namespace: optional(string()),
  enabled: optional(bool()),
  label: optional(labels()),
  tag: optional(anything()),
  hub: optional(anything()),
  k8s: optional(
    object(
      {
        service: optional(object({ ports: optional(array(gatewayServicePort)) }, { unknown: 'ignore' })),
        ...replicaFields,
      },
      { unknown: 'ignore' },
    ),
  ),
});

export const istioOperatorSpec = object(
  {
    meshConfig: optional(meshConfig),
    components: optional(object({ egressGateways: optional(array(egressGateway)) }, { unknown: 'ignore' })),
  },
  { unknown: 'ignore' },
);

export type ExtIstioOperator = Infer<typeof istioOperatorSpec>;

export function servicePorts(ports: readonly Infer<typeof gatewayServicePort>[] | undefined): GatewayServicePort[] {
  if (!ports || ports.length === 0) return [...DEFAULT_EGRESS_PORTS];
  return ports.map((p, i) => ({
    name: p.name ?? `port-${i}`,
    port: p.port,
    // A named targetPort cannot be resolved without the gateway's pod spec; the service port is the best stand-in.
    targetPort: typeof p.targetPort === 'number' ? p.targetPort : p.port,
    protocol: p.protocol ?? 'TCP',
  }));
}

function nonEmpty(list: readonly string[] | undefined): readonly string[] | undefined {
  return list === undefined || list.length === 0 ? undefined : list;
}

export const istioOperatorCodec = defineKind({
  kind: 'IstioOperator',
  group: 'install.istio.io',
  versions: ['v1alpha1'],
  strict: true,
  spec: istioOperatorSpec,
  specRequired: false,
  normalize(ext): IstioOperatorSpec {
    const m = ext?.meshConfig;
    const mesh: Partial<MeshConfig> = compact({
      outboundTrafficPolicy: m?.outboundTrafficPolicy
        ? // An outboundTrafficPolicy without mode is the proto default, REGISTRY_ONLY (enum value 0).
          (m.outboundTrafficPolicy.mode ?? 'REGISTRY_ONLY')
        : undefined,
      accessLogFile: m?.accessLogFile,
      accessLogEncoding: m?.accessLogEncoding,
      accessLogFormat: m?.accessLogFormat,
      rootNamespace: m?.rootNamespace,
      connectTimeoutMs: m?.connectTimeout,
      // An empty list is no list: Istio falls back to "*" when the field holds nothing.
      defaultServiceExportTo: nonEmpty(m?.defaultServiceExportTo),
      defaultVirtualServiceExportTo: nonEmpty(m?.defaultVirtualServiceExportTo),
      defaultDestinationRuleExportTo: nonEmpty(m?.defaultDestinationRuleExportTo),
      pathNormalization: m?.pathNormalization
        ? // DEFAULT (the proto's zero value, also what an empty pathNormalization means) is BASE.
          m.pathNormalization.normalization === undefined || m.pathNormalization.normalization === 'DEFAULT'
          ? 'BASE'
          : m.pathNormalization.normalization
        : undefined,
    } satisfies Partial<MeshConfig>);
    const egressGateways: EgressGatewayDeclaration[] = (ext?.components?.egressGateways ?? []).map((g) => ({
      name: g.name ?? 'istio-egressgateway',
      namespace: g.namespace ?? ROOT_NAMESPACE,
      enabled: g.enabled ?? true,
      labels: { ...DEFAULT_EGRESS_LABELS, ...(g.label ?? {}) },
      ports: servicePorts(g.k8s?.service?.ports),
      replicas: replicasOf(g.k8s),
    }));
    return { meshConfig: mesh, egressGateways };
  },
});
