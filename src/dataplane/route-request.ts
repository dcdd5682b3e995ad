// Where would this request go? The data plane's own answer, without a socket: the compiled config, the router
// (`selectRoute`), the route's action, redirects as the connection manager computes them, and outcomes mapped by
// the one rescue. Tests of translation and the corpus use it, and so will `tollgate explain`; nothing here is a
// second model of the proxy. What only a live request shows (DNS answers, outlier ejection, connection limits,
// retries, the loop guard) is left to the request path.
import type { Endpoint, ProxyConfig } from '../proxy-config/types.js';
import { compileConfig, type CompiledConfig, type CompiledListener } from './compile-config.js';
import type { CompiledRoute, Random } from './compile-routes.js';
import { ProxyError, type ProxyErrorCode } from './errors.js';
import { redirectLocation } from './redirect-location.js';
import { splitAuthority, type RequestView } from './request-view.js';
import { rescue } from './rescue.js';
import { selectRoute, type RouteTrace } from './router.js';

export interface RouteQuery {
  /** Sidecar: the destination port the client dialled. Gateway: the port it connected to (a listener's port). */
  readonly port: number;
  /** The Host header, optionally with ":port" (a sidecar adds the dialled port when it is not 80). */
  readonly host: string;
  /** Path and query; default "/". */
  readonly path?: string;
  readonly method?: string;
  /** Lower-case names. */
  readonly headers?: Readonly<Record<string, string>>;
}

export type RouteOutcome = 'forward' | 'direct' | 'redirect' | 'refused';

export interface RouteDecision {
  readonly outcome: RouteOutcome;
  readonly listener?: string;
  readonly routeConfig?: string;
  readonly virtualHost?: string;
  readonly route?: string;
  readonly cluster?: string;
  /** Set for answers the proxy gives itself (direct, redirect, NR, NC, UH, FI). */
  readonly status?: number;
  readonly responseFlags: string;
  readonly details: string;
  /** Forwarded: where to. ORIGINAL_DST: the request's own host and port; others: the first configured endpoint. */
  readonly upstream?: Endpoint;
  readonly location?: string;
}

export function routeRequest(config: CompiledConfig, q: RouteQuery): RouteDecision {
  const listener = listenerFor(config, q.port);
  if (!listener) return { outcome: 'refused', responseFlags: '-', details: 'no_listener' };
  // A TLS or TCP gateway port routes connections by filter chain, not requests by Host.
  if (listener.kind === 'gateway-network') {
    return { outcome: 'refused', listener: listener.name, responseFlags: '-', details: 'not_an_http_listener' };
  }
  const sidecar = listener.kind === 'sidecar-outbound';
  const authority =
    sidecar && q.port !== 80 && splitAuthority(q.host).port === undefined ? `${q.host}:${q.port}` : q.host;
  const { host, port } = splitAuthority(authority);
  const full = q.path ?? '/';
  const at = full.indexOf('?');
  const view: RequestView = {
    method: q.method ?? 'GET',
    path: at < 0 ? full : full.slice(0, at),
    query: at < 0 ? '' : full.slice(at + 1),
    authority,
    host,
    scheme: 'http',
    headers: { host: authority, ...q.headers },
  };
  const destinationPort = sidecar ? (port ?? 80) : listener.servicePort;
  const trace: RouteTrace = {};
  const route = selectRoute(config, listener, view, destinationPort, trace);
  const where = {
    listener: listener.name,
    ...(trace.routeConfig ? { routeConfig: trace.routeConfig.name } : {}),
    ...(trace.virtualHost ? { virtualHost: trace.virtualHost.name } : {}),
  };
  if (!route) return failure('route_not_found', where);
  const routed = { ...where, route: route.name };
  if (route.fault?.abort?.fires()) {
    return { ...failure('fault_abort', routed), status: route.fault.abort.httpStatus };
  }
  return act(config, route, view, { host, port: destinationPort }, routed);
}

function listenerFor(config: CompiledConfig, port: number): CompiledListener | undefined {
  let gateway: CompiledListener | undefined;
  for (const l of config.listeners.values()) {
    if (l.kind === 'sidecar-outbound') return l;
    if (l.port === port) gateway ??= l;
  }
  return gateway;
}

function act(
  config: CompiledConfig,
  route: CompiledRoute,
  view: RequestView,
  original: { host: string; port: number },
  where: Partial<RouteDecision>,
): RouteDecision {
  const action = route.action;
  switch (action.kind) {
    case 'direct':
      return { ...where, outcome: 'direct', status: action.status, responseFlags: '-', details: 'direct_response' };
    case 'redirect':
      return {
        ...where,
        outcome: 'redirect',
        status: action.status,
        responseFlags: '-',
        details: 'direct_response',
        location: redirectLocation(action, view),
      };
    case 'cluster': {
      const name = action.pickCluster().cluster;
      const withCluster = { ...where, cluster: name };
      const cluster = config.clusters.get(name);
      if (!cluster) return failure('cluster_not_found', withCluster);
      const upstream =
        cluster.type === 'ORIGINAL_DST' ? { address: original.host, port: original.port } : cluster.endpoints[0];
      if (!upstream) return failure('no_healthy_upstream', withCluster);
      return { ...withCluster, outcome: 'forward', responseFlags: '-', details: 'via_upstream', upstream };
    }
  }
}

/** The proxy's own answer for `code`, as the rescue maps it for a live request. */
function failure(code: ProxyErrorCode, where: Partial<RouteDecision>): RouteDecision {
  const r = rescue(new ProxyError(code), false);
  return { ...where, outcome: 'direct', status: r.status, responseFlags: r.flags.join(',') || '-', details: r.details };
}

/**
 * `routeRequest` on a config as pushed: compiled here with `random` for weighted picks and fault percentages
 * (default 0: the first cluster with weight, and every fault that can fire does).
 */
export function explainRequest(config: ProxyConfig, q: RouteQuery, random: Random = () => 0): RouteDecision {
  return routeRequest(
    compileConfig(config, () => 0, random),
    q,
  );
}
