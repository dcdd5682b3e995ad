import type { GatewayServer, Resource } from '../model/index.js';
import type { DownstreamTls, FilterChain, NodeIdentity, RouteConfig } from '../proxy-config/types.js';
import type { Snapshot } from '../snapshot/index.js';
import { isExportedTo, serverHostIntersection } from '../snapshot/index.js';
import type { RouteContext } from './context.js';
import { type BoundServer, gatewayRouteConfig } from './gateway.js';
import { l4Routes, type L4Route } from './l4-route.js';
import { gatewayHttpsRouteConfigName } from './names.js';
import { serverTls } from './tls-settings.js';

type VirtualService = Resource<'VirtualService'>;

/** VirtualServices bound to the Gateway and exported to its namespace, in creation order. */
function boundVirtualServices(snapshot: Snapshot, gateway: Resource<'Gateway'>): readonly VirtualService[] {
  const key = `${gateway.meta.namespace}/${gateway.meta.name}`;
  return snapshot.virtualServices
    .forGateway(key)
    .filter((vs) => isExportedTo(vs.spec.exportTo, vs.meta.namespace, gateway.meta.namespace));
}

/** The DNS part of the server's hosts as SNI names; none when a host is "*" (the chain then takes any name). */
function serverNames(server: GatewayServer): string[] | undefined {
  const names = server.hosts.map((h) => (h.includes('/') ? h.slice(h.indexOf('/') + 1) : h));
  return names.includes('*') ? undefined : [...new Set(names)];
}

/** A route's SNI hosts narrowed to what the server accepts for that VirtualService. */
function sniWithin(b: BoundServer, vs: VirtualService, sniHosts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const sni of sniHosts) {
    for (const sh of b.server.hosts) {
      const host = serverHostIntersection(sh, b.gateway.meta.namespace, vs.meta.namespace, sni);
      if (host !== undefined) out.add(host);
    }
  }
  return [...out];
}

function routesFor(
  b: BoundServer,
  kind: 'tls' | 'tcp',
  node: NodeIdentity,
  snapshot: Snapshot,
  port: number,
): L4Route[] {
  const ctx: RouteContext = {
    snapshot,
    node,
    gateway: `${b.gateway.meta.namespace}/${b.gateway.meta.name}`,
    port,
  };
  const out: L4Route[] = [];
  for (const vs of boundVirtualServices(snapshot, b.gateway)) {
    if (!vs.spec.hosts.some((h) => sniWithin(b, vs, [h]).length > 0)) continue;
    out.push(...l4Routes(vs, kind, ctx));
  }
  return out;
}

function chainName(port: number, b: BoundServer, suffix: string): string {
  return `${port}|${b.gateway.meta.namespace}/${b.gateway.meta.name}|${b.server.port.name}${suffix}`;
}

/**
 * The filter chains of a gateway port whose servers are HTTPS, TLS or TCP (pilot's gateway listener builder):
 * - PASSTHROUGH: one chain per bound `tls` match, by its SNI hosts within the server's hosts, proxying the bytes;
 *   a later match repeating an SNI host already routed on the port is skipped whole, as pilot skips it;
 * - HTTPS that terminates (SIMPLE, MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL): a chain by the server's hosts with the
 *   server's certificate, routing HTTP by its own route config;
 * - TLS that terminates, and TCP: a chain proxying to the first bound `tcp` route.
 */
export function gatewayNetworkChains(
  node: NodeIdentity,
  snapshot: Snapshot,
  port: number,
  servers: readonly BoundServer[],
): { chains: FilterChain[]; routeConfigs: RouteConfig[] } {
  const chains: FilterChain[] = [];
  const routeConfigs: RouteConfig[] = [];
  const claimedSni = new Set<string>();
  for (const b of servers) {
    const { server } = b;
    const mode = server.tls?.mode;
    if (server.port.protocol !== 'HTTPS' && server.port.protocol !== 'TLS' && server.port.protocol !== 'TCP') continue;
    if (mode === 'PASSTHROUGH') {
      for (const r of routesFor(b, 'tls', node, snapshot, port)) {
        const names = sniWithin(b, r.vs, r.sniHosts);
        if (names.length === 0 || names.some((n) => claimedSni.has(n))) continue;
        for (const n of names) claimedSni.add(n);
        chains.push({
          name: chainName(port, b, `|${r.vs.meta.namespace}/${r.vs.meta.name}|${r.where}`),
          match: { serverNames: names, transportProtocol: 'tls' },
          filter: { kind: 'tcp-proxy', clusters: r.clusters },
        });
      }
      continue;
    }
    // AUTO_PASSTHROUGH routes by a cluster name carried in the SNI (multi-network east-west): not an egress mode.
    if (mode === 'AUTO_PASSTHROUGH') continue;
    const tls: DownstreamTls | undefined = server.tls ? serverTls(server.tls, node.namespace, snapshot) : undefined;
    const names = server.tls ? serverNames(server) : undefined;
    const match = names ? { serverNames: names, transportProtocol: 'tls' as const } : {};
    if (server.port.protocol === 'HTTPS' && tls) {
      const name = gatewayHttpsRouteConfigName(port, server.port.name, b.gateway.meta.name, b.gateway.meta.namespace);
      routeConfigs.push(gatewayRouteConfig(node, snapshot, port, [b], name));
      chains.push({ name: chainName(port, b, ''), match, tls, filter: { kind: 'http', routeConfigName: name } });
      continue;
    }
    const first = routesFor(b, 'tcp', node, snapshot, port)[0];
    if (!first) continue;
    chains.push({
      name: chainName(port, b, ''),
      match,
      ...(tls ? { tls } : {}),
      filter: { kind: 'tcp-proxy', clusters: first.clusters },
    });
  }
  return { chains, routeConfigs };
}
