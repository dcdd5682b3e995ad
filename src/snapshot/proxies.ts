import type { EgressGatewayDeclaration, Resource } from '../model/index.js';
import type { ProxyDeclaration } from './types.js';

function key(p: ProxyDeclaration): string {
  return `${p.namespace}/${p.name}`;
}

/** One router per egress gateway, then one sidecar per Deployment; each group sorted by namespace/name. */
export function declareProxies(
  gateways: readonly EgressGatewayDeclaration[],
  deployments: readonly Resource<'Deployment'>[],
): ProxyDeclaration[] {
  const routers: ProxyDeclaration[] = gateways.map((g) => ({
    type: 'router',
    name: g.name,
    namespace: g.namespace,
    labels: g.labels,
    serviceAccount: `${g.name}-service-account`,
  }));
  const sidecars: ProxyDeclaration[] = deployments.map((d) => ({
    type: 'sidecar',
    name: d.meta.name,
    namespace: d.meta.namespace,
    labels: d.spec.podLabels,
    serviceAccount: d.spec.serviceAccountName || 'default',
  }));
  const order = (a: ProxyDeclaration, b: ProxyDeclaration): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return [...routers.sort(order), ...sidecars.sort(order)];
}
