import type { Resource } from '../model/index.js';
import {
  SIDECAR_CAPTURE_PORT,
  type Cluster,
  type Listener,
  type NodeIdentity,
  type Route,
  type RouteConfig,
  type VirtualHost,
} from '../proxy-config/types.js';
import type { RegistryService, Snapshot } from '../snapshot/index.js';
import { hostsIntersect, isHttpProtocol } from '../snapshot/index.js';
import { catchAllRoute, catchAllVirtualHost } from './catch-all.js';
import { blackholeCluster, byName, passthroughCluster, serviceClusters } from './clusters.js';
import type { RouteContext } from './context.js';
import { addressDomains, sidecarDomains } from './domains.js';
import { effectiveHttpRules } from './delegation.js';
import { translateHttpRoutes } from './http-route.js';
import { defaultRetryPolicy } from './retry.js';
import {
  DEFAULT_ROUTE,
  outboundClusterName,
  sidecarRouteConfigName,
  virtualHostName,
  VIRTUAL_OUTBOUND_LISTENER,
} from './names.js';
import { defaultFilterChain, sidecarFilterChains } from './sidecar-chains.js';
import { sidecarScope, type EgressScope, type SidecarScope } from './sidecar-scope.js';

/** Istio: a VirtualService whose hosts match no service can only be reached on port 80. */
const UNREGISTERED_VS_PORT = 80;

interface VhostPlan {
  readonly host: string;
  readonly service?: RegistryService;
  readonly vs?: Resource<'VirtualService'>;
}

function httpPorts(s: RegistryService): number[] {
  return s.ports.filter((p) => isHttpProtocol(p.protocol)).map((p) => p.number);
}

/** The first mesh VirtualService in scope claiming the host: exact hosts before wildcards. */
function claim(snapshot: Snapshot, scope: EgressScope, host: string): Resource<'VirtualService'> | undefined {
  return snapshot.virtualServices.meshForHost(host).find((vs) => scope.virtualServiceSet.has(vs));
}

/** Per route-config port, the vhosts to build: each egress listener fills the ports it serves. */
function plan(snapshot: Snapshot, scope: SidecarScope): Map<number, Map<string, VhostPlan>> {
  const byPort = new Map<number, Map<string, VhostPlan>>();
  const at = (port: number): Map<string, VhostPlan> => {
    let m = byPort.get(port);
    if (!m) byPort.set(port, (m = new Map()));
    return m;
  };
  for (const egress of scope.egress) {
    const serves = (p: number): boolean => (egress.port !== undefined ? p === egress.port : !scope.claimedPorts.has(p));
    const serviceHosts = new Set(egress.services.map((s) => s.host));
    for (const s of egress.services) {
      const vs = claim(snapshot, egress, s.host);
      for (const p of httpPorts(s))
        if (serves(p)) at(p).set(s.host, { host: s.host, service: s, ...(vs ? { vs } : {}) });
    }
    for (const vs of egress.virtualServices) {
      for (const h of vs.spec.hosts) {
        if (serviceHosts.has(h)) continue;
        // A host no service declares: the ports of the services it overlaps (a wildcard VS host, or a host under
        // a wildcard ServiceEntry), else port 80 only (a port-specific listener: its own port).
        const ports = new Set<number>();
        for (const s of egress.services) if (hostsIntersect(h, s.host)) for (const p of httpPorts(s)) ports.add(p);
        if (ports.size === 0) ports.add(egress.port ?? UNREGISTERED_VS_PORT);
        for (const p of ports)
          if (serves(p) && !at(p).has(h)) at(p).set(h, { host: h, vs: claim(snapshot, egress, h) ?? vs });
      }
      // Ports the VirtualService names in its matches get a route config too (it holds at least the catch-all).
      for (const { rule } of effectiveHttpRules(vs, snapshot)) {
        for (const m of rule.match) if (m.port !== undefined && serves(m.port)) at(m.port);
      }
    }
  }
  return byPort;
}

/** A registered host no VirtualService claims: pilot's default outbound route, with the default retry policy. */
function defaultRoute(port: number, host: string): Route {
  return {
    name: DEFAULT_ROUTE,
    match: { path: { kind: 'prefix', value: '/' }, headers: [], queryParams: [] },
    action: {
      kind: 'cluster',
      clusters: [{ cluster: outboundClusterName(port, undefined, host), weight: 100 }],
      retry: defaultRetryPolicy(),
    },
  };
}

function virtualHost(p: VhostPlan, port: number, ctx: RouteContext): VirtualHost | undefined {
  const vsRoutes = p.vs ? translateHttpRoutes(p.vs, ctx) : [];
  // A VirtualService that yields no routes on this port does not claim the service here.
  // A wildcard ServiceEntry host gets its vhost too: "*.wikipedia.org" routes en.wikipedia.org to its cluster.
  const routes = vsRoutes.length > 0 ? vsRoutes : p.service ? [defaultRoute(port, p.host)] : [];
  if (routes.length === 0) return undefined;
  const domains = sidecarDomains(p.host, ctx.node.namespace);
  if (p.service) domains.push(...addressDomains(p.service));
  return { name: virtualHostName(p.host, port), domains, routes };
}

function routeConfigs(node: NodeIdentity, snapshot: Snapshot, scope: SidecarScope): RouteConfig[] {
  const out: RouteConfig[] = [];
  const byPort = plan(snapshot, scope);
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    const ctx: RouteContext = { snapshot, node, gateway: 'mesh', port };
    const vhosts: VirtualHost[] = [];
    for (const p of byPort.get(port)?.values() ?? []) {
      const vh = virtualHost(p, port, ctx);
      if (vh) vhosts.push(vh);
    }
    vhosts.sort(byName);
    vhosts.push(catchAllVirtualHost(scope.mode));
    out.push({ name: sidecarRouteConfigName(port), virtualHosts: vhosts });
  }
  return out;
}

function clusters(node: NodeIdentity, snapshot: Snapshot, scope: SidecarScope): Cluster[] {
  const timeout = snapshot.mesh.connectTimeoutMs;
  const out: Cluster[] = [passthroughCluster(timeout), blackholeCluster(timeout)];
  for (const s of scope.services) {
    const dr = snapshot.destinationRules.lookup(s.host, s.namespace, node);
    for (const port of s.ports) out.push(...serviceClusters({ node, snapshot }, s, port, dr));
  }
  return out.sort(byName);
}

export function translateSidecar(
  node: NodeIdentity,
  snapshot: Snapshot,
): { listeners: Listener[]; routeConfigs: RouteConfig[]; clusters: Cluster[] } {
  const scope = sidecarScope(node, snapshot);
  const configs = routeConfigs(node, snapshot, scope);
  const listener: Listener = {
    kind: 'sidecar-outbound',
    name: VIRTUAL_OUTBOUND_LISTENER,
    address: node.ip,
    port: SIDECAR_CAPTURE_PORT,
    defaultRoute: catchAllRoute(scope.mode),
    filterChains: sidecarFilterChains(
      node,
      snapshot,
      scope,
      configs.map((rc) => Number(rc.name)),
    ),
    defaultFilterChain: defaultFilterChain(scope.mode),
  };
  return { listeners: [listener], routeConfigs: configs, clusters: clusters(node, snapshot, scope) };
}
