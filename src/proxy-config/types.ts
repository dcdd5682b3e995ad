// The proxy config: the contract between the control plane and the data plane. Modelled on Envoy's
// listener -> route config -> virtual host -> route -> cluster -> endpoint vocabulary and Istio's names, so an
// xDS rendering for real Envoy is a rendering, not a rewrite. Plain serializable data (JSON over the wire);
// the data plane compiles it into immutable lookup structures once per push.

export type ProxyType = 'sidecar' | 'router';

/** Who a proxy is. Sent by the proxy when it connects; the controller registers it as a workload instance. */
export interface NodeIdentity {
  /** Istio's form: "sidecar~10.0.0.1~sleep.default~default.svc.cluster.local"; deterministic from the rest. */
  readonly id: string;
  readonly type: ProxyType;
  /** The workload (Deployment) or gateway name. */
  readonly name: string;
  readonly namespace: string;
  /** The pod address: listeners bind here and upstream connections are made from here. */
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
}

export function nodeId(type: ProxyType, ip: string, name: string, namespace: string): string {
  return `${type}~${ip}~${name}.${namespace}~${namespace}.svc.cluster.local`;
}

export interface ProxyConfig {
  /** The snapshot version this config was translated from. */
  readonly version: string;
  readonly node: NodeIdentity;
  readonly listeners: readonly Listener[];
  readonly routeConfigs: readonly RouteConfig[];
  readonly clusters: readonly Cluster[];
  readonly accessLog: AccessLogConfig;
}

export interface AccessLogConfig {
  /** False when meshConfig.accessLogFile is "": nothing is logged. */
  readonly enabled: boolean;
  /** "/dev/stdout" or a file path. */
  readonly path: string;
  readonly encoding: 'JSON' | 'TEXT';
}

/**
 * An HTTP listener.
 * - Sidecar: one listener "virtualOutbound" on the capture port (15001). It serves as an explicit proxy
 *   (absolute-form) and as a transparent one (origin-form, routed by Host). The route config is chosen by the
 *   request's destination port: the one named String(port); with none, `defaultRoute` applies (allow_any or
 *   block_all, as Istio's PassthroughFilterChain would).
 * - Gateway: one listener per Service target port that has bound servers, e.g. "0.0.0.0_8080", with the fixed
 *   route config "http.<servicePort>".
 */
export type Listener = SidecarOutboundListener | GatewayListener;

export interface SidecarOutboundListener {
  readonly kind: 'sidecar-outbound';
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly defaultRoute: Route;
}

export interface GatewayListener {
  readonly kind: 'gateway-http';
  readonly name: string;
  readonly address: string;
  /** The port bound (the Service's targetPort, e.g. 8080). */
  readonly port: number;
  /** The Service port it stands for (e.g. 80): the destination port for routing and clusters. */
  readonly servicePort: number;
  readonly routeConfigName: string;
}

export interface RouteConfig {
  /** Sidecar: "80". Gateway: "http.80". */
  readonly name: string;
  /** Matched by domain; the first vhost whose domains match the Host (port stripped, lower-cased) wins, with
   * exact domains before suffix wildcards (longest first) before "*". */
  readonly virtualHosts: readonly VirtualHost[];
}

export interface VirtualHost {
  /** "<host>:<port>", "allow_any", "block_all", "blackhole:<port>". */
  readonly name: string;
  /** Lower-case, port-less: "aliyun.com", "*.example.com", or "*". */
  readonly domains: readonly string[];
  /** First match wins. No route matching ⇒ 404 NR route_not_found. */
  readonly routes: readonly Route[];
}

export type StringMatcher =
  | { readonly kind: 'exact'; readonly value: string; readonly ignoreCase?: boolean }
  | { readonly kind: 'prefix'; readonly value: string; readonly ignoreCase?: boolean }
  | { readonly kind: 'regex'; readonly value: string }
  /** Header present, any value. */
  | { readonly kind: 'present' };

export interface HeaderMatcher {
  /** Lower-case header name, or a pseudo-header ":method", ":authority", ":scheme". */
  readonly name: string;
  readonly match: StringMatcher;
  /** True for withoutHeaders: the route matches when this matcher does not. */
  readonly invert: boolean;
}

export interface QueryParamMatcher {
  readonly name: string;
  readonly match: StringMatcher;
}

export interface RouteMatch {
  /** Absent: any path. Matched against the path without the query string. */
  readonly path?: StringMatcher;
  readonly headers: readonly HeaderMatcher[];
  readonly queryParams: readonly QueryParamMatcher[];
}

export interface HeaderMutation {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export interface WeightedCluster {
  /** A cluster name; it may be missing from the config, which the data plane answers with 503 NC. */
  readonly cluster: string;
  readonly weight: number;
  readonly requestHeaders?: HeaderMutation;
  readonly responseHeaders?: HeaderMutation;
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly numRetries: number;
  readonly perTryTimeoutMs?: number;
  /** Envoy retry_on conditions: "connect-failure", "refused-stream", "unavailable", "5xx", "gateway-error", ... */
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
  readonly backoffBaseMs: number;
}

export type RouteAction =
  | {
      readonly kind: 'cluster';
      readonly clusters: readonly WeightedCluster[];
      readonly timeoutMs?: number;
      readonly retry?: RetryPolicy;
      readonly prefixRewrite?: string;
      readonly regexRewrite?: { readonly pattern: string; readonly substitution: string };
      readonly hostRewrite?: string;
    }
  | { readonly kind: 'direct'; readonly status: number; readonly body?: string }
  | {
      readonly kind: 'redirect';
      readonly status: number;
      readonly scheme?: string;
      readonly host?: string;
      readonly port?: number;
      readonly path?: string;
    };

export interface Route {
  /** Istio's route name: "default", "allow_any", "block_all", "<http.name>" or "<http.name>.<match.name>". */
  readonly name: string;
  readonly match: RouteMatch;
  readonly action: RouteAction;
  readonly requestHeaders?: HeaderMutation;
  readonly responseHeaders?: HeaderMutation;
  readonly fault?: {
    readonly delay?: { readonly fixedDelayMs: number; readonly percentage: number };
    readonly abort?: { readonly httpStatus: number; readonly percentage: number };
  };
  /**
   * A fire-and-forget copy of the request to `cluster` for `percentage` (0-100) of requests, Host suffixed
   * "-shadow"; its response is discarded and never affects the client's.
   */
  readonly mirror?: { readonly cluster: string; readonly percentage: number };
}

/**
 * How a cluster finds its endpoints (Envoy's discovery types):
 * - ORIGINAL_DST: the request's own host and port (PassthroughCluster; a sidecar's resolution NONE).
 * - STATIC / EDS: the listed endpoints, IP addresses.
 * - STRICT_DNS: every address each endpoint hostname resolves to.
 * - LOGICAL_DNS: the first address, connections kept across DNS changes.
 * An empty endpoint list (BlackHoleCluster, a gateway's resolution NONE) means 503 UH.
 */
export type ClusterType = 'ORIGINAL_DST' | 'STATIC' | 'EDS' | 'STRICT_DNS' | 'LOGICAL_DNS';

export interface Endpoint {
  /** An IP address (STATIC, EDS) or a hostname (STRICT_DNS, LOGICAL_DNS). */
  readonly address: string;
  readonly port: number;
  readonly weight?: number;
}

export interface ClusterMetadata {
  /** The service's hostname ("aliyun.com"), or "PassthroughCluster" / "BlackHoleCluster". */
  readonly serviceName: string;
  readonly serviceNamespace?: string;
  readonly subset?: string;
  readonly servicePort?: number;
}

export interface Cluster {
  /** "outbound|80||aliyun.com", "PassthroughCluster", "BlackHoleCluster". */
  readonly name: string;
  readonly type: ClusterType;
  readonly endpoints: readonly Endpoint[];
  readonly connectTimeoutMs: number;
  readonly lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';
  readonly circuitBreakers?: {
    readonly maxConnections?: number;
    readonly maxPendingRequests?: number;
    readonly maxRequests?: number;
    readonly maxRetries?: number;
  };
  /**
   * Passive health checking (Envoy's outlier detection). Absent: off. `consecutive5xx` absent means Envoy's
   * default 5 and 0 turns it off; `consecutiveGatewayErrors` absent or 0 is off.
   */
  readonly outlierDetection?: {
    readonly consecutive5xx?: number;
    readonly consecutiveGatewayErrors?: number;
    readonly intervalMs: number;
    readonly baseEjectionTimeMs: number;
    readonly maxEjectionPercent: number;
  };
  /**
   * Optional. Consistent hashing (DestinationRule loadBalancer.consistentHash, Envoy's RING_HASH with a route
   * hash policy): the request's key picks an endpoint stably; a request without the key falls back to
   * `lbPolicy`. Absent: `lbPolicy` alone.
   */
  readonly hashPolicy?: HashPolicy;
  readonly metadata: ClusterMetadata;
}

/** What a consistent-hash key is made of; exactly one source. Names are lower-case for headers. */
export type HashPolicy =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'sourceIp' }
  | { readonly kind: 'queryParameter'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string; readonly path?: string; readonly ttlMs?: number };

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export const SIDECAR_CAPTURE_PORT = 15001;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
