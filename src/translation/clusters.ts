import type { Subset } from '../model/index.js';
import { spiffeId } from '../proxy-config/identity.js';
import {
  BLACKHOLE_CLUSTER,
  DEFAULT_CONNECT_TIMEOUT_MS,
  PASSTHROUGH_CLUSTER,
  type Cluster,
  type ClusterType,
  type Endpoint,
  type HashPolicy,
  type NodeIdentity,
  type ProxyType,
} from '../proxy-config/types.js';
import type { EffectiveDestinationRule, RegistryPort, RegistryService, Snapshot } from '../snapshot/index.js';
import { isWildcardHost, labelsMatch } from '../snapshot/index.js';
import { istioMutualSni, outboundClusterName } from './names.js';
import { clientTls } from './tls-settings.js';
import { effectivePolicy, type PolicyFields } from './traffic-policy.js';

/**
 * Discovery type by resolution (pilot cluster.go convertResolution). Kubernetes and gateway Services are EDS
 * over live instances. At a gateway, NONE has no original destination to use: EDS with no endpoints (503 UH).
 * DYNAMIC_DNS has no dynamic forward proxy yet and behaves as NONE.
 */
function clusterType(svc: RegistryService, proxy: ProxyType): ClusterType {
  if (svc.origin !== 'ServiceEntry') return 'EDS';
  switch (svc.resolution) {
    case 'NONE':
    case 'DYNAMIC_DNS':
      return proxy === 'sidecar' ? 'ORIGINAL_DST' : 'EDS';
    case 'STATIC':
      return 'STATIC';
    case 'DNS':
      return 'STRICT_DNS';
    case 'DNS_ROUND_ROBIN':
      return 'LOGICAL_DNS';
  }
}

function endpoints(
  svc: RegistryService,
  port: RegistryPort,
  type: ClusterType,
  subset: Subset | undefined,
): Endpoint[] {
  if (type === 'ORIGINAL_DST') return [];
  if (svc.origin === 'ServiceEntry' && (svc.resolution === 'NONE' || svc.resolution === 'DYNAMIC_DNS')) return [];
  const dnsResolved = type === 'STRICT_DNS' || type === 'LOGICAL_DNS';
  if (dnsResolved && svc.endpoints.length === 0) {
    // DNS without endpoints resolves the host itself.
    return isWildcardHost(svc.host) ? [] : [{ address: svc.host, port: port.targetPort ?? port.number }];
  }
  return svc.endpoints
    .filter((e) => !subset || labelsMatch(subset.labels, e.labels))
    .map((e) => ({
      address: e.address,
      port: e.ports[port.name] ?? port.targetPort ?? port.number,
      ...(e.weight !== undefined ? { weight: e.weight } : {}),
    }));
}

function lbPolicy(p: PolicyFields): Cluster['lbPolicy'] {
  const lb = p.loadBalancer;
  if (lb?.kind === 'simple') {
    if (lb.simple === 'ROUND_ROBIN') return 'ROUND_ROBIN';
    if (lb.simple === 'RANDOM') return 'RANDOM';
  }
  // Envoy's ring hash picks a random host for a request without a hash key.
  if (lb?.kind === 'consistentHash') return 'RANDOM';
  // Istio's default since 1.14; LEAST_CONN is its deprecated alias.
  return 'LEAST_REQUEST';
}

/** pilot consistentHashToHashPolicy: one key source; header names are case-insensitive. */
function hashPolicy(p: PolicyFields): HashPolicy | undefined {
  const lb = p.loadBalancer;
  if (lb?.kind !== 'consistentHash') return undefined;
  if (lb.httpHeaderName !== undefined) return { kind: 'header', name: lb.httpHeaderName.toLowerCase() };
  if (lb.httpCookie) {
    const c = lb.httpCookie;
    return {
      kind: 'cookie',
      name: c.name,
      ...(c.path !== undefined ? { path: c.path } : {}),
      ...(c.ttlMs !== undefined ? { ttlMs: c.ttlMs } : {}),
    };
  }
  if (lb.useSourceIp) return { kind: 'sourceIp' };
  if (lb.httpQueryParameterName !== undefined) return { kind: 'queryParameter', name: lb.httpQueryParameterName };
  return undefined;
}

function circuitBreakers(p: PolicyFields): Cluster['circuitBreakers'] {
  const cp = p.connectionPool;
  const cb = {
    ...(cp?.tcp?.maxConnections !== undefined ? { maxConnections: cp.tcp.maxConnections } : {}),
    ...(cp?.http?.http1MaxPendingRequests !== undefined ? { maxPendingRequests: cp.http.http1MaxPendingRequests } : {}),
    ...(cp?.http?.http2MaxRequests !== undefined ? { maxRequests: cp.http.http2MaxRequests } : {}),
    ...(cp?.http?.maxRetries !== undefined ? { maxRetries: cp.http.maxRetries } : {}),
  };
  return Object.keys(cb).length > 0 ? cb : undefined;
}

function outlierDetection(p: PolicyFields): Cluster['outlierDetection'] {
  const od = p.outlierDetection;
  if (!od) return undefined;
  return {
    ...(od.consecutive5xxErrors !== undefined ? { consecutive5xx: od.consecutive5xxErrors } : {}),
    ...(od.consecutiveGatewayErrors !== undefined ? { consecutiveGatewayErrors: od.consecutiveGatewayErrors } : {}),
    intervalMs: od.intervalMs ?? 10_000,
    baseEjectionTimeMs: od.baseEjectionTimeMs ?? 30_000,
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
  };
}

/** Who the clusters are built for: the proxy (its type and namespace) and the snapshot (its secrets). */
export interface ClusterContext {
  readonly node: NodeIdentity;
  readonly snapshot: Snapshot;
}

function cluster(
  ctx: ClusterContext,
  svc: RegistryService,
  port: RegistryPort,
  dr: EffectiveDestinationRule | undefined,
  subset: Subset | undefined,
): Cluster {
  const proxy = ctx.node.type;
  const policy = effectivePolicy(dr?.trafficPolicy, subset, port.number);
  const passthroughLb = policy.loadBalancer?.kind === 'simple' && policy.loadBalancer.simple === 'PASSTHROUGH';
  const type = passthroughLb ? 'ORIGINAL_DST' : clusterType(svc, proxy);
  const cb = circuitBreakers(policy);
  const od = outlierDetection(policy);
  const hash = hashPolicy(policy);
  const tls = policy.tls ? upstreamTls(ctx, svc, port, subset, policy.tls) : undefined;
  return {
    name: outboundClusterName(port.number, subset?.name, svc.host),
    type,
    endpoints: endpoints(svc, port, type, subset),
    connectTimeoutMs: policy.connectionPool?.tcp?.connectTimeoutMs ?? ctx.snapshot.mesh.connectTimeoutMs,
    lbPolicy: lbPolicy(policy),
    ...(cb ? { circuitBreakers: cb } : {}),
    ...(od ? { outlierDetection: od } : {}),
    ...(hash ? { hashPolicy: hash } : {}),
    ...(tls ? { tls } : {}),
    metadata: {
      serviceName: svc.host,
      serviceNamespace: svc.namespace,
      ...(subset ? { subset: subset.name } : {}),
      servicePort: port.number,
    },
  };
}

/**
 * A DestinationRule's client TLS for one cluster. ISTIO_MUTUAL, without settings of its own, sends Istio's SNI
 * (`outbound_.<port>_.<subset>_.<host>`) and accepts the mesh identities of the service's workloads; SIMPLE and
 * MUTUAL accept the ServiceEntry's subjectAltNames when the rule names none.
 */
function upstreamTls(
  ctx: ClusterContext,
  svc: RegistryService,
  port: RegistryPort,
  subset: Subset | undefined,
  settings: NonNullable<PolicyFields['tls']>,
): Cluster['tls'] {
  if (settings.mode !== 'ISTIO_MUTUAL') {
    return clientTls(settings, ctx.node.namespace, svc.subjectAltNames, ctx.snapshot);
  }
  const identities = new Set<string>();
  for (const e of svc.endpoints) {
    if (e.serviceAccount !== undefined) identities.add(spiffeId(e.namespace ?? svc.namespace, e.serviceAccount));
  }
  const tls = clientTls(settings, ctx.node.namespace, [...identities].sort(), ctx.snapshot);
  return tls && tls.sni === undefined ? { ...tls, sni: istioMutualSni(port.number, subset?.name, svc.host) } : tls;
}

/** The default cluster of a service port plus one per subset of the DestinationRule the client sees. */
export function serviceClusters(
  ctx: ClusterContext,
  svc: RegistryService,
  port: RegistryPort,
  dr: EffectiveDestinationRule | undefined,
): Cluster[] {
  return [cluster(ctx, svc, port, dr, undefined), ...(dr?.subsets ?? []).map((s) => cluster(ctx, svc, port, dr, s))];
}

/** `connectTimeoutMs`: the mesh's (meshConfig.connectTimeout), as pilot gives its passthrough and blackhole. */
export function passthroughCluster(connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Cluster {
  return {
    name: PASSTHROUGH_CLUSTER,
    type: 'ORIGINAL_DST',
    endpoints: [],
    connectTimeoutMs,
    lbPolicy: 'ROUND_ROBIN',
    metadata: { serviceName: PASSTHROUGH_CLUSTER },
  };
}

export function blackholeCluster(connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Cluster {
  return {
    name: BLACKHOLE_CLUSTER,
    type: 'STATIC',
    endpoints: [],
    connectTimeoutMs,
    lbPolicy: 'ROUND_ROBIN',
    metadata: { serviceName: BLACKHOLE_CLUSTER },
  };
}

export function byName<T extends { readonly name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
