import type { EgressGatewayDeclaration, MeshConfig, Resource } from '../model/index.js';
import { ROOT_NAMESPACE } from '../model/index.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../proxy-config/types.js';

export const DEFAULT_MESH_CONFIG: MeshConfig = {
  outboundTrafficPolicy: 'ALLOW_ANY',
  accessLogFile: '/dev/stdout',
  accessLogEncoding: 'JSON',
  accessLogFormat: '',
  rootNamespace: ROOT_NAMESPACE,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  pathNormalization: 'BASE',
  defaultServiceExportTo: ['*'],
  defaultVirtualServiceExportTo: ['*'],
  defaultDestinationRuleExportTo: ['*'],
};

/** What Istio's default profile installs when no egress gateway is declared. */
export const DEFAULT_EGRESS_GATEWAY: EgressGatewayDeclaration = {
  name: 'istio-egressgateway',
  namespace: ROOT_NAMESPACE,
  enabled: true,
  labels: { istio: 'egressgateway', app: 'istio-egressgateway' },
  ports: [
    { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
    { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
  ],
  replicas: 1,
};

/** IstioOperators (and IstioGateways) in the order their settings are layered: namespace/name. */
export function byNamespaceName(a: Resource, b: Resource): number {
  const ka = `${a.meta.namespace}/${a.meta.name}`;
  const kb = `${b.meta.namespace}/${b.meta.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Defaults, then each IstioOperator's meshConfig in namespace/name order, field by field. */
export function buildMeshConfig(operators: readonly Resource<'IstioOperator'>[]): MeshConfig {
  let mesh: MeshConfig = DEFAULT_MESH_CONFIG;
  for (const op of [...operators].sort(byNamespaceName)) {
    const defined = Object.fromEntries(Object.entries(op.spec.meshConfig).filter(([, v]) => v !== undefined));
    mesh = { ...mesh, ...defined };
  }
  return mesh;
}

/**
 * The egress gateways that run. A declaration that names a gateway (even disabled) counts as declared, so an
 * IstioOperator listing istio-egressgateway with enabled: false removes the default instead of adding nothing.
 * Later declarations of the same namespace/name (operators in namespace/name order, then IstioGateways) win.
 */
export function effectiveEgressGateways(
  operators: readonly Resource<'IstioOperator'>[],
  istioGateways: readonly Resource<'IstioGateway'>[],
): EgressGatewayDeclaration[] {
  const declared = new Map<string, EgressGatewayDeclaration>();
  for (const op of [...operators].sort(byNamespaceName)) {
    for (const g of op.spec.egressGateways) declared.set(`${g.namespace}/${g.name}`, g);
  }
  for (const ig of [...istioGateways].sort(byNamespaceName)) {
    if (ig.spec.gatewayType !== 'egress') continue;
    const g = ig.spec.gateway;
    declared.set(`${g.namespace}/${g.name}`, g);
  }
  if (declared.size === 0) return [DEFAULT_EGRESS_GATEWAY];
  return [...declared.values()]
    .filter((g) => g.enabled)
    .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
}
