import type { EgressGatewayDeclaration, Labels, Resource } from '../model/index.js';
import type { ProxyType } from '../proxy-config/types.js';
import { labelsMatch } from './labels.js';
import { podNames } from './pod-names.js';
import type { ProxyDeclaration } from './types.js';

function key(p: ProxyDeclaration): string {
  return `${p.namespace}/${p.name}`;
}

/**
 * One router per egress gateway, then one sidecar per Deployment; each group sorted by namespace/name, each with
 * its replicas' pod names. A Deployment in a gateway's namespace that has the gateway's name, or carries every
 * label the gateway's Service selects, is that gateway's Deployment (as in a cluster, where the IstioOperator
 * renders one): its `spec.replicas` is the gateway's, and it gets no sidecar of its own.
 */
export function declareProxies(
  gateways: readonly EgressGatewayDeclaration[],
  deployments: readonly Resource<'Deployment'>[],
): ProxyDeclaration[] {
  const behindGateway = new Map<EgressGatewayDeclaration, Resource<'Deployment'>>();
  const workloads = deployments.filter((d) => {
    const g = gateways.find(
      (g) => g.namespace === d.meta.namespace && (g.name === d.meta.name || labelsMatch(g.labels, d.spec.podLabels)),
    );
    if (!g) return true;
    if (!behindGateway.has(g)) behindGateway.set(g, d);
    return false;
  });
  const routers = gateways.map((g) =>
    declaration('router', g.name, g.namespace, g.labels, `${g.name}-service-account`, {
      replicas: behindGateway.get(g)?.spec.replicas ?? g.replicas,
    }),
  );
  const sidecars = workloads.map((d) =>
    declaration('sidecar', d.meta.name, d.meta.namespace, d.spec.podLabels, d.spec.serviceAccountName || 'default', {
      replicas: d.spec.replicas,
    }),
  );
  const order = (a: ProxyDeclaration, b: ProxyDeclaration): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return [...routers.sort(order), ...sidecars.sort(order)];
}

function declaration(
  type: ProxyType,
  name: string,
  namespace: string,
  labels: Labels,
  serviceAccount: string,
  { replicas }: { replicas: number },
): ProxyDeclaration {
  return {
    type,
    name,
    namespace,
    labels,
    serviceAccount,
    replicas,
    pods: podNames(name, { labels, serviceAccount }, replicas),
  };
}
