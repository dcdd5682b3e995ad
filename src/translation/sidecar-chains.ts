import type { OutboundTrafficPolicyMode } from '../model/index.js';
import { BLACKHOLE_CLUSTER, PASSTHROUGH_CLUSTER, type FilterChain, type NodeIdentity } from '../proxy-config/types.js';
import type { RegistryService, Snapshot } from '../snapshot/index.js';
import { isHttpProtocol } from '../snapshot/index.js';
import type { RouteContext } from './context.js';
import { l4Routes, type L4Route } from './l4-route.js';
import { outboundClusterName, PASSTHROUGH_FILTER_CHAIN, sidecarRouteConfigName } from './names.js';
import type { EgressScope, SidecarScope } from './sidecar-scope.js';

/** TLS-family ports are routed by SNI without being decrypted (pilot's outbound TLS filter chains). */
const TLS_PROTOCOLS = new Set(['TLS', 'HTTPS']);

/**
 * Istio's PassthroughFilterChain: a connection no chain takes goes to its original destination (ALLOW_ANY) or is
 * dropped (REGISTRY_ONLY).
 */
export function defaultFilterChain(mode: OutboundTrafficPolicyMode): FilterChain {
  return {
    name: PASSTHROUGH_FILTER_CHAIN,
    match: {},
    filter: {
      kind: 'tcp-proxy',
      clusters: [{ cluster: mode === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER, weight: 100 }],
    },
  };
}

function chainsFromRoutes(port: number, routes: readonly L4Route[], destinations: readonly string[]): FilterChain[] {
  return routes.map((r) => ({
    name: `${port}|${r.vs.meta.namespace}/${r.vs.meta.name}|${r.where}`,
    match: {
      destinationPort: port,
      ...(r.destinationSubnets.length > 0
        ? { destinations: r.destinationSubnets }
        : destinations.length > 0
          ? { destinations }
          : {}),
      ...(r.sniHosts.length > 0 ? { serverNames: r.sniHosts, transportProtocol: 'tls' as const } : {}),
    },
    filter: { kind: 'tcp-proxy', clusters: r.clusters },
  }));
}

/** The chains one service port gets: its VirtualService's tls/tcp rules, else the default route to its cluster. */
function serviceChains(
  snapshot: Snapshot,
  node: NodeIdentity,
  egress: EgressScope,
  s: RegistryService,
  port: number,
  tlsPort: boolean,
): FilterChain[] {
  const vs = snapshot.virtualServices.meshForHost(s.host).find((v) => egress.virtualServiceSet.has(v));
  const ctx: RouteContext = { snapshot, node, gateway: 'mesh', port };
  // A TCP service is told apart by its destination: its hosts and addresses (CONNECT names the host).
  const destinations = tlsPort ? [] : [s.host, ...s.addresses];
  if (vs) {
    const tls = tlsPort ? l4Routes(vs, 'tls', ctx) : [];
    const routes = tls.length > 0 ? tls : l4Routes(vs, 'tcp', ctx);
    if (routes.length > 0) return chainsFromRoutes(port, routes, destinations);
  }
  const cluster = outboundClusterName(port, undefined, s.host);
  return [
    {
      name: `${port}|${s.host}`,
      match: tlsPort
        ? { destinationPort: port, serverNames: [s.host], transportProtocol: 'tls' }
        : { destinationPort: port, destinations },
      filter: { kind: 'tcp-proxy', clusters: [{ cluster, weight: 100 }] },
    },
  ];
}

/**
 * The sidecar's filter chains for connections it is asked to tunnel (CONNECT): per HTTP route config port, plain
 * bytes go to HTTP routing; per TLS service port, chains by SNI (the service host, or the VirtualService's tls
 * matches); per TCP service port, chains by destination (tcp matches, or the service's hosts and addresses).
 * Chains come in the order pilot builds them, and the first claiming a slot keeps it.
 */
export function sidecarFilterChains(
  node: NodeIdentity,
  snapshot: Snapshot,
  scope: SidecarScope,
  httpPorts: readonly number[],
): FilterChain[] {
  const out: FilterChain[] = [];
  const names = new Set<string>();
  const push = (chains: readonly FilterChain[]): void => {
    for (const c of chains) {
      if (names.has(c.name)) continue;
      names.add(c.name);
      out.push(c);
    }
  };
  for (const port of httpPorts) {
    push([
      {
        name: `${port}|http`,
        match: { destinationPort: port, transportProtocol: 'raw_buffer' },
        filter: { kind: 'http', routeConfigName: sidecarRouteConfigName(port) },
      },
    ]);
  }
  for (const egress of scope.egress) {
    const serves = (p: number): boolean => (egress.port !== undefined ? p === egress.port : !scope.claimedPorts.has(p));
    for (const s of egress.services) {
      for (const p of s.ports) {
        if (!serves(p.number) || isHttpProtocol(p.protocol)) continue;
        push(serviceChains(snapshot, node, egress, s, p.number, TLS_PROTOCOLS.has(p.protocol)));
      }
    }
  }
  return out;
}
