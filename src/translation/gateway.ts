import type { GatewayServer, PortProtocol, Resource } from '../model/index.js';
import type { Cluster, Listener, NodeIdentity, Route, RouteConfig, VirtualHost } from '../proxy-config/types.js';
import type { Snapshot } from '../snapshot/index.js';
import { isExportedTo, labelsMatch, serverHostIntersection } from '../snapshot/index.js';
import { byName, serviceClusters } from './clusters.js';
import type { RouteContext } from './context.js';
import { translateHttpRoutes } from './http-route.js';
import { isCatchAll } from './match.js';
import { gatewayNetworkChains } from './gateway-chains.js';
import {
  blackholeVirtualHostName,
  gatewayListenerName,
  gatewayRouteConfigName,
  parseOutboundClusterName,
  virtualHostName,
} from './names.js';

// Plain-text servers are served by the HTTP connection manager; HTTPS, TLS and TCP servers by filter chains.
const HTTP_SERVER_PROTOCOLS: ReadonlySet<PortProtocol> = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);

export interface BoundServer {
  readonly gateway: Resource<'Gateway'>;
  readonly server: GatewayServer;
}

function boundServersByPort(node: NodeIdentity, snapshot: Snapshot): Map<number, BoundServer[]> {
  const out = new Map<number, BoundServer[]>();
  for (const gateway of snapshot.byKind.Gateway) {
    if (!labelsMatch(gateway.spec.selector, node.labels)) continue;
    for (const server of gateway.spec.servers) {
      const list = out.get(server.port.number);
      if (list) list.push({ gateway, server });
      else out.set(server.port.number, [{ gateway, server }]);
    }
  }
  return out;
}

/**
 * Route config "http.<port>": per effective host (server host ∩ VirtualService host), the routes of every bound
 * VirtualService concatenated with catch-alls moved last. Nothing bound: the blackhole vhost (404 NR for all).
 */
export function gatewayRouteConfig(
  node: NodeIdentity,
  snapshot: Snapshot,
  port: number,
  servers: readonly BoundServer[],
  name = gatewayRouteConfigName(port),
): RouteConfig {
  const routesByHost = new Map<string, { routes: Route[]; catchAlls: Route[] }>();
  const seen = new Set<string>();
  for (const { gateway, server } of servers) {
    const gwKey = `${gateway.meta.namespace}/${gateway.meta.name}`;
    const ctx: RouteContext = { snapshot, node, gateway: gwKey, port };
    for (const vs of snapshot.virtualServices.forGateway(gwKey)) {
      if (!isExportedTo(vs.spec.exportTo, vs.meta.namespace, gateway.meta.namespace)) continue;
      for (const vsHost of vs.spec.hosts) {
        for (const serverHost of server.hosts) {
          const host = serverHostIntersection(serverHost, gateway.meta.namespace, vs.meta.namespace, vsHost);
          if (host === undefined) continue;
          const key = `${vs.meta.namespace}/${vs.meta.name}|${host}`;
          if (seen.has(key)) continue;
          seen.add(key);
          let entry = routesByHost.get(host);
          if (!entry) routesByHost.set(host, (entry = { routes: [], catchAlls: [] }));
          for (const r of translateHttpRoutes(vs, ctx)) (isCatchAll(r.match) ? entry.catchAlls : entry.routes).push(r);
        }
      }
    }
  }
  const vhosts: VirtualHost[] = [];
  for (const [host, { routes, catchAlls }] of routesByHost) {
    const all = [...routes, ...catchAlls];
    if (all.length > 0) vhosts.push({ name: virtualHostName(host, port), domains: [host], routes: all });
  }
  vhosts.sort(byName);
  if (vhosts.length === 0) vhosts.push({ name: blackholeVirtualHostName(port), domains: ['*'], routes: [] });
  return { name, virtualHosts: vhosts };
}

function referencedClusters(configs: readonly RouteConfig[], listeners: readonly Listener[]): Set<string> {
  const names = new Set<string>();
  for (const rc of configs) {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes) {
        if (r.action.kind === 'cluster') for (const wc of r.action.clusters) names.add(wc.cluster);
        if (r.mirror) names.add(r.mirror.cluster);
      }
    }
  }
  for (const l of listeners) {
    if (l.kind !== 'gateway-network') continue;
    for (const chain of l.filterChains) {
      if (chain.filter.kind === 'tcp-proxy') for (const wc of chain.filter.clusters) names.add(wc.cluster);
    }
  }
  return names;
}

/** The clusters the routes name (each with its siblings: the default and every subset of that service port). */
function clusters(
  node: NodeIdentity,
  snapshot: Snapshot,
  configs: readonly RouteConfig[],
  listeners: readonly Listener[],
): Cluster[] {
  const out = new Map<string, Cluster>();
  const done = new Set<string>();
  for (const name of referencedClusters(configs, listeners)) {
    const parsed = parseOutboundClusterName(name);
    if (!parsed) continue;
    const svc = snapshot.registry.exact(parsed.host, node.namespace);
    const port = svc?.ports.find((p) => p.number === parsed.port);
    if (!svc || !port) continue;
    const key = `${svc.host}|${port.number}`;
    if (done.has(key)) continue;
    done.add(key);
    const dr = snapshot.destinationRules.lookup(svc.host, svc.namespace, node);
    for (const c of serviceClusters({ node, snapshot }, svc, port, dr)) out.set(c.name, c);
  }
  return [...out.values()].sort(byName);
}

export function translateGateway(
  node: NodeIdentity,
  snapshot: Snapshot,
): { listeners: Listener[]; routeConfigs: RouteConfig[]; clusters: Cluster[] } {
  const decl = snapshot.egressGateways.find((g) => g.name === node.name && g.namespace === node.namespace);
  const byPort = boundServersByPort(node, snapshot);
  const listeners: Listener[] = [];
  const routeConfigs: RouteConfig[] = [];
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    // The server port is a Service port; the pod listens on its targetPort. Undeclared: the number itself.
    const target = decl?.ports.find((p) => p.port === port)?.targetPort ?? port;
    const servers = byPort.get(port) ?? [];
    const http = servers.filter((b) => HTTP_SERVER_PROTOCOLS.has(b.server.port.protocol));
    // Istio refuses plain-text and TLS servers on one port (TG0139); the plain-text ones win here.
    if (http.length > 0) {
      listeners.push({
        kind: 'gateway-http',
        name: gatewayListenerName(target),
        address: node.ip,
        port: target,
        servicePort: port,
        routeConfigName: gatewayRouteConfigName(port),
      });
      routeConfigs.push(gatewayRouteConfig(node, snapshot, port, http));
      continue;
    }
    const network = gatewayNetworkChains(node, snapshot, port, servers);
    routeConfigs.push(...network.routeConfigs);
    listeners.push({
      kind: 'gateway-network',
      name: gatewayListenerName(target),
      address: node.ip,
      port: target,
      servicePort: port,
      filterChains: network.chains,
    });
  }
  return { listeners, routeConfigs, clusters: clusters(node, snapshot, routeConfigs, listeners) };
}
