// The proxy config: the contract between the control plane and the data plane. Modelled on Envoy's
// listener -> route config -> virtual host -> route -> cluster -> endpoint vocabulary and Istio's names, so an
// xDS rendering for real Envoy is a rendering, not a rewrite. Plain serializable data (JSON over the wire);
// the data plane compiles it into immutable lookup structures once per push.

export type ProxyType = 'sidecar' | 'router';

/** Who a proxy is. Sent by the proxy when it connects; the controller registers it as a workload instance. */
export interface NodeIdentity {
  /**
   * Istio's form: "sidecar~10.0.0.1~sleep-7b9f8c6d4c-xk2vz.default~default.svc.cluster.local" (the pod's name, or
   * the workload's when the proxy has no pod name); deterministic from the rest.
   */
  readonly id: string;
  readonly type: ProxyType;
  /** The workload (Deployment) or gateway name: what translation and the registry look proxies up by. */
  readonly name: string;
  /** The pod, one replica of `name` ("istio-egressgateway-5c8d9f7b6d-q4lzx"). Absent: a proxy run by hand. */
  readonly pod?: string;
  readonly namespace: string;
  /** The pod address: listeners bind here and upstream connections are made from here. */
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
}

/** `pod` is the pod's name, or the workload's for a proxy without one. */
export function nodeId(type: ProxyType, ip: string, pod: string, namespace: string): string {
  return `${type}~${ip}~${pod}.${namespace}~${namespace}.svc.cluster.local`;
}

/** The name a proxy goes by in status and logs: its pod's, or its workload's. */
export function podName(node: { readonly name: string; readonly pod?: string }): string {
  return node.pod ?? node.name;
}

export interface ProxyConfig {
  /** The snapshot version this config was translated from. */
  readonly version: string;
  readonly node: NodeIdentity;
  readonly listeners: readonly Listener[];
  readonly routeConfigs: readonly RouteConfig[];
  readonly clusters: readonly Cluster[];
  readonly accessLog: AccessLogConfig;
  /** How request paths are normalized before routing. Absent: BASE, Istio's default. */
  readonly pathNormalization?: PathNormalization;
  /**
   * The proxy's mesh identity (ISTIO_MUTUAL): its certificate chain, issued by the controller for the key the
   * proxy holds, and the mesh root that peers' certificates must chain to. Absent: no mesh TLS.
   */
  readonly identity?: { readonly certificateChain: string; readonly trustedCa: string };
}

/** Istio's meshConfig.pathNormalization.normalization (DEFAULT means BASE). */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';

export interface AccessLogConfig {
  /** False when meshConfig.accessLogFile is "": nothing is logged. */
  readonly enabled: boolean;
  /** "/dev/stdout" or a file path. */
  readonly path: string;
  readonly encoding: 'JSON' | 'TEXT';
  /** meshConfig.accessLogFormat for the encoding (Envoy command operators); absent: Istio's default format. */
  readonly format?: string;
}

/**
 * A listener.
 * - Sidecar: one listener "virtualOutbound" on the capture port (15001). It serves as an explicit proxy
 *   (absolute-form) and as a transparent one (origin-form, routed by Host): the route config is chosen by the
 *   request's destination port, the one named String(port); with none, `defaultRoute` applies (allow_any or
 *   block_all). A CONNECT request stands in for an intercepted connection to its authority: the connection is
 *   dispatched by `filterChains` (destination port, then destination, then TLS SNI or plain bytes), as Envoy's
 *   outbound listeners dispatch by original destination, and `defaultFilterChain` takes the rest
 *   (PassthroughCluster or BlackHoleCluster, Istio's PassthroughFilterChain).
 * - Gateway, plain HTTP servers: one listener per Service target port, e.g. "0.0.0.0_8080", with the fixed route
 *   config "http.<servicePort>".
 * - Gateway, TLS/HTTPS/TCP servers: one listener per target port whose connections are dispatched by filter chain
 *   (SNI): passed through as bytes, or terminated and then routed as HTTP or TCP.
 */
export type Listener = SidecarOutboundListener | GatewayListener | GatewayNetworkListener;

export interface SidecarOutboundListener {
  readonly kind: 'sidecar-outbound';
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly defaultRoute: Route;
  readonly filterChains: readonly FilterChain[];
  readonly defaultFilterChain: FilterChain;
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

export interface GatewayNetworkListener {
  readonly kind: 'gateway-network';
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly servicePort: number;
  /** No chain matching a connection closes it (NR, filter_chain_not_found). */
  readonly filterChains: readonly FilterChain[];
}

/**
 * Which connections a filter chain takes (Envoy's FilterChainMatch). Every field present must match; among the
 * chains that match, the most specific wins in Envoy's order: destination port, destination, server name (exact
 * before the longest wildcard), transport protocol.
 */
export interface FilterChainMatch {
  /** Sidecar: the port the connection is for. Absent: any. */
  readonly destinationPort?: number;
  /** Sidecar: host names, IPs or CIDR blocks the connection's destination must be. Absent: any. */
  readonly destinations?: readonly string[];
  /** TLS server names (SNI), lower-case, exact or "*.suffix". Absent: any, and connections without SNI. */
  readonly serverNames?: readonly string[];
  /** "tls": the connection starts with a TLS ClientHello; "raw_buffer": it does not. Absent: either. */
  readonly transportProtocol?: 'tls' | 'raw_buffer';
}

/** A certificate, key or CA bundle: PEM text, or a file the proxy reads (paths on the proxy's own host). */
export type PemSource = { readonly pem: string } | { readonly file: string };

/** TLS terminated by the proxy (a Gateway HTTPS server, or a TLS server that is not PASSTHROUGH). */
export interface DownstreamTls {
  /** ISTIO_MUTUAL: the proxy's mesh certificate, client certificates checked against the mesh root. */
  readonly mode: 'SIMPLE' | 'MUTUAL' | 'OPTIONAL_MUTUAL' | 'ISTIO_MUTUAL';
  readonly certificateChain?: PemSource;
  readonly privateKey?: PemSource;
  /** MUTUAL/OPTIONAL_MUTUAL: the CA client certificates must chain to. */
  readonly trustedCa?: PemSource;
  /** Client certificate SANs accepted (MUTUAL); empty: any certificate from the CA. */
  readonly subjectAltNames: readonly string[];
  readonly minProtocolVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly maxProtocolVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Set when the certificate material could not be found (a credentialName with no secret): why. */
  readonly unavailable?: string;
}

/** TLS originated by the proxy towards a cluster's endpoints (DestinationRule trafficPolicy.tls). */
export interface UpstreamTls {
  readonly mode: 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  /** Absent: the request's host (HTTP), else the cluster's service host. */
  readonly sni?: string;
  /** Absent: the system trust store (ISTIO_MUTUAL: the mesh root). */
  readonly trustedCa?: PemSource;
  readonly certificateChain?: PemSource;
  readonly privateKey?: PemSource;
  /** Accepted server certificate SANs; empty: the SNI name must be on the certificate. */
  readonly subjectAltNames: readonly string[];
  readonly insecureSkipVerify: boolean;
  /** Set when the certificate material could not be found (a credentialName with no secret): why. */
  readonly unavailable?: string;
}

/** What a filter chain does with the connection (Envoy's network filters). */
export type NetworkFilter =
  /** HTTP: requests routed by the named route config. */
  | { readonly kind: 'http'; readonly routeConfigName: string }
  /** Bytes proxied to a cluster endpoint (Envoy's tcp_proxy), the cluster picked by weight. */
  | { readonly kind: 'tcp-proxy'; readonly clusters: readonly WeightedCluster[] };

export interface FilterChain {
  readonly name: string;
  readonly match: FilterChainMatch;
  /** Present: the proxy terminates TLS on this chain before the filter sees the bytes. */
  readonly tls?: DownstreamTls;
  readonly filter: NetworkFilter;
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
  /** Present: connections to the endpoints are TLS, originated by the proxy. */
  readonly tls?: UpstreamTls;
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
