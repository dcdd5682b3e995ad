// The normalized internal model. Ingest turns the external YAML shape (which mirrors Istio and Kubernetes) into
// these types: hosts lower-cased, ports numbers, defaults filled, gateway references qualified as "ns/name".
// Everything downstream of ingest (validation, snapshot, translation) reads only these types.

export type Labels = Readonly<Record<string, string>>;

/** Where a resource (or a field of it) was written: 1-based line and column. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** Port protocols Istio accepts for ServiceEntry and Gateway ports (upper-cased on ingest). */
export type PortProtocol = 'HTTP' | 'HTTPS' | 'GRPC' | 'GRPC-WEB' | 'HTTP2' | 'MONGO' | 'TCP' | 'TLS' | 'UDP';

export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN' | 'DYNAMIC_DNS';
export type OutboundTrafficPolicyMode = 'ALLOW_ANY' | 'REGISTRY_ONLY' | 'ALLOW_ANY_DYNAMIC_DNS';

// ---------------------------------------------------------------------------------------------------------------
// networking.istio.io

export interface ServicePort {
  readonly number: number;
  readonly protocol: PortProtocol;
  readonly name: string;
  readonly targetPort?: number;
}

export interface WorkloadEntry {
  readonly address: string;
  /** port name -> port number; beats the ServicePort's targetPort. */
  readonly ports: Readonly<Record<string, number>>;
  readonly labels: Labels;
  readonly network?: string;
  readonly locality?: string;
  readonly weight?: number;
  readonly serviceAccount?: string;
}

export interface ServiceEntrySpec {
  readonly hosts: readonly string[];
  readonly addresses: readonly string[];
  readonly ports: readonly ServicePort[];
  readonly location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  readonly resolution: Resolution;
  readonly endpoints: readonly WorkloadEntry[];
  readonly workloadSelector?: { readonly labels: Labels };
  /** Normalized: empty means exported everywhere ("*"). */
  readonly exportTo: readonly string[];
  readonly subjectAltNames: readonly string[];
}

export type ServerTLSMode =
  | 'PASSTHROUGH'
  | 'SIMPLE'
  | 'MUTUAL'
  | 'AUTO_PASSTHROUGH'
  | 'ISTIO_MUTUAL'
  | 'OPTIONAL_MUTUAL';

export interface ServerTLSSettings {
  readonly mode: ServerTLSMode;
  readonly httpsRedirect: boolean;
  readonly credentialName?: string;
  readonly serverCertificate?: string;
  readonly privateKey?: string;
  readonly caCertificates?: string;
  readonly subjectAltNames: readonly string[];
  readonly minProtocolVersion?: string;
  readonly maxProtocolVersion?: string;
}

export interface GatewayServer {
  readonly port: {
    readonly number: number;
    readonly protocol: PortProtocol;
    readonly name: string;
    readonly targetPort?: number;
  };
  /** "[namespace/]dnsName" exactly as written, lower-cased. */
  readonly hosts: readonly string[];
  readonly tls?: ServerTLSSettings;
  readonly bind?: string;
  readonly name?: string;
}

export interface GatewaySpec {
  readonly selector: Labels;
  readonly servers: readonly GatewayServer[];
}

export type StringMatch =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'regex'; readonly value: string };

export interface HTTPMatchRequest {
  readonly name?: string;
  readonly uri?: StringMatch;
  readonly scheme?: StringMatch;
  readonly method?: StringMatch;
  readonly authority?: StringMatch;
  /** Keys lower-cased. A match with an empty exact value means "present". */
  readonly headers: Readonly<Record<string, StringMatch>>;
  readonly withoutHeaders: Readonly<Record<string, StringMatch>>;
  readonly queryParams: Readonly<Record<string, StringMatch>>;
  readonly ignoreUriCase: boolean;
  readonly port?: number;
  /** Normalized like VirtualServiceSpec.gateways. Empty means "use the VirtualService's list". */
  readonly gateways: readonly string[];
  readonly sourceLabels: Labels;
  readonly sourceNamespace?: string;
}

export interface Destination {
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
}

export interface HeaderOperations {
  readonly set: Readonly<Record<string, string>>;
  readonly add: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export interface Headers {
  readonly request?: HeaderOperations;
  readonly response?: HeaderOperations;
}

export interface HTTPRouteDestination {
  readonly destination: Destination;
  /** Normalized: a lone destination without a weight gets 100. */
  readonly weight: number;
  readonly headers?: Headers;
}

export interface HTTPRedirect {
  readonly uri?: string;
  readonly authority?: string;
  readonly port?: number;
  readonly derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  readonly scheme?: string;
  /** Default 301. */
  readonly redirectCode: number;
}

export interface HTTPDirectResponse {
  readonly status: number;
  readonly body?: string;
}

export interface HTTPRewrite {
  readonly uri?: string;
  readonly authority?: string;
  readonly uriRegexRewrite?: { readonly match: string; readonly rewrite: string };
}

export interface HTTPRetry {
  readonly attempts: number;
  readonly perTryTimeoutMs?: number;
  readonly retryOn?: string;
  readonly retryRemoteLocalities?: boolean;
}

export interface HTTPFaultInjection {
  readonly delay?: { readonly fixedDelayMs: number; readonly percentage: number };
  readonly abort?: { readonly httpStatus: number; readonly percentage: number };
}

export interface HTTPRoute {
  readonly name?: string;
  /** Empty means "matches everything". */
  readonly match: readonly HTTPMatchRequest[];
  readonly route: readonly HTTPRouteDestination[];
  readonly redirect?: HTTPRedirect;
  readonly directResponse?: HTTPDirectResponse;
  readonly delegate?: { readonly name: string; readonly namespace: string };
  readonly rewrite?: HTTPRewrite;
  readonly timeoutMs?: number;
  readonly retries?: HTTPRetry;
  readonly fault?: HTTPFaultInjection;
  readonly mirror?: Destination;
  readonly mirrorPercentage?: number;
  readonly headers?: Headers;
}

export interface L4MatchAttributes {
  readonly destinationSubnets: readonly string[];
  readonly port?: number;
  readonly sourceLabels: Labels;
  readonly gateways: readonly string[];
  readonly sourceNamespace?: string;
}

export interface TLSMatchAttributes extends L4MatchAttributes {
  readonly sniHosts: readonly string[];
}

export interface RouteDestination {
  readonly destination: Destination;
  readonly weight: number;
}

export interface TLSRoute {
  readonly match: readonly TLSMatchAttributes[];
  readonly route: readonly RouteDestination[];
}

export interface TCPRoute {
  readonly match: readonly L4MatchAttributes[];
  readonly route: readonly RouteDestination[];
}

export interface VirtualServiceSpec {
  /** Lower-cased; short names qualified with the VirtualService's namespace (name.ns.svc.cluster.local). */
  readonly hosts: readonly string[];
  /** Normalized: "mesh" or "namespace/name". Omitted in YAML means ["mesh"]. */
  readonly gateways: readonly string[];
  readonly http: readonly HTTPRoute[];
  readonly tls: readonly TLSRoute[];
  readonly tcp: readonly TCPRoute[];
  readonly exportTo: readonly string[];
}

export interface ConnectionPoolSettings {
  readonly tcp?: {
    readonly maxConnections?: number;
    readonly connectTimeoutMs?: number;
    readonly idleTimeoutMs?: number;
  };
  readonly http?: {
    readonly http1MaxPendingRequests?: number;
    readonly http2MaxRequests?: number;
    readonly maxRequestsPerConnection?: number;
    readonly maxRetries?: number;
    readonly idleTimeoutMs?: number;
  };
}

export interface OutlierDetection {
  readonly consecutive5xxErrors?: number;
  readonly consecutiveGatewayErrors?: number;
  readonly intervalMs?: number;
  readonly baseEjectionTimeMs?: number;
  readonly maxEjectionPercent?: number;
}

export type ClientTLSMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

export interface ClientTLSSettings {
  readonly mode: ClientTLSMode;
  readonly sni?: string;
  readonly credentialName?: string;
  readonly caCertificates?: string;
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  readonly subjectAltNames: readonly string[];
  readonly insecureSkipVerify: boolean;
}

export type LoadBalancerSettings =
  | {
      readonly kind: 'simple';
      readonly simple: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH' | 'LEAST_CONN' | 'UNSPECIFIED';
    }
  | {
      readonly kind: 'consistentHash';
      readonly httpHeaderName?: string;
      readonly httpCookie?: { readonly name: string; readonly path?: string; readonly ttlMs?: number };
      readonly useSourceIp?: boolean;
      readonly httpQueryParameterName?: string;
    };

export interface PortTrafficPolicy {
  readonly port: number;
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
  readonly tls?: ClientTLSSettings;
}

export interface TrafficPolicy {
  readonly loadBalancer?: LoadBalancerSettings;
  readonly connectionPool?: ConnectionPoolSettings;
  readonly outlierDetection?: OutlierDetection;
  readonly tls?: ClientTLSSettings;
  readonly portLevelSettings: readonly PortTrafficPolicy[];
}

export interface Subset {
  readonly name: string;
  readonly labels: Labels;
  readonly trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
  readonly host: string;
  readonly trafficPolicy?: TrafficPolicy;
  readonly subsets: readonly Subset[];
  readonly exportTo: readonly string[];
  readonly workloadSelector?: { readonly matchLabels: Labels };
}

export interface IstioEgressListener {
  readonly port?: { readonly number: number; readonly protocol?: PortProtocol; readonly name?: string };
  readonly bind?: string;
  /** "namespace/dnsName" entries, as written, lower-cased. */
  readonly hosts: readonly string[];
}

export interface SidecarSpec {
  readonly workloadSelector?: { readonly labels: Labels };
  readonly egress: readonly IstioEgressListener[];
  readonly outboundTrafficPolicy?: { readonly mode: OutboundTrafficPolicyMode };
}

// ---------------------------------------------------------------------------------------------------------------
// install.istio.io IstioOperator and ASM IstioGateway: both declare mesh settings and/or egress gateways.

export interface MeshConfig {
  readonly outboundTrafficPolicy: OutboundTrafficPolicyMode;
  /** "" disables access logging; "/dev/stdout" writes to the proxy's standard output. */
  readonly accessLogFile: string;
  readonly accessLogEncoding: 'JSON' | 'TEXT';
  /**
   * meshConfig.accessLogFormat as written ("" when unset: Istio's default format for the encoding). Envoy command
   * operators; with JSON encoding, a JSON object of keys to format strings.
   */
  readonly accessLogFormat: string;
  readonly rootNamespace: string;
  /** meshConfig.connectTimeout: every cluster's, unless its DestinationRule sets one (Istio's default, 10 s). */
  readonly connectTimeoutMs: number;
  /** meshConfig.pathNormalization.normalization, DEFAULT read as BASE. */
  readonly pathNormalization: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
  /**
   * What a ServiceEntry or Kubernetes Service without exportTo (or the exportTo annotation) is exported to
   * (meshConfig.defaultServiceExportTo); ["*"], every namespace, unless set.
   */
  readonly defaultServiceExportTo: readonly string[];
  /** The same for a VirtualService without exportTo (meshConfig.defaultVirtualServiceExportTo). */
  readonly defaultVirtualServiceExportTo: readonly string[];
  /** The same for a DestinationRule without exportTo (meshConfig.defaultDestinationRuleExportTo). */
  readonly defaultDestinationRuleExportTo: readonly string[];
}

export interface GatewayServicePort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
  readonly protocol: string;
}

export interface EgressGatewayDeclaration {
  readonly name: string;
  readonly namespace: string;
  readonly enabled: boolean;
  /** Pod labels; the gateway's Service selects them and Gateways select them. */
  readonly labels: Labels;
  readonly ports: readonly GatewayServicePort[];
  /**
   * How many replicas run: `k8s.hpaSpec.minReplicas` when an autoscaler is declared (an idle autoscaler holds its
   * minimum), else `k8s.replicaCount` (ASM: `replicaCount`), else 1. A Deployment of the gateway's own name or
   * pod labels in its namespace overrides it with `spec.replicas`.
   */
  readonly replicas: number;
}

export interface IstioOperatorSpec {
  /** Only the fields present in the YAML; the snapshot layers them over the defaults. */
  readonly meshConfig: Partial<MeshConfig>;
  readonly egressGateways: readonly EgressGatewayDeclaration[];
}

export interface IstioGatewaySpec {
  readonly gatewayType: 'egress' | 'ingress';
  readonly gateway: EgressGatewayDeclaration;
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes core/apps: the workloads of local mode.

export interface KubeServicePort {
  readonly name?: string;
  readonly port: number;
  /** A number, or the name of a container port. Defaults to `port`. */
  readonly targetPort: number | string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly appProtocol?: string;
}

export interface KubeServiceSpec {
  readonly selector: Labels;
  readonly ports: readonly KubeServicePort[];
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: string;
}

export interface DeploymentSpec {
  readonly replicas: number;
  readonly selector: Labels;
  /** spec.template.metadata.labels */
  readonly podLabels: Labels;
  readonly serviceAccountName: string;
  readonly containers: readonly {
    readonly name: string;
    readonly image?: string;
    readonly ports: readonly ContainerPort[];
  }[];
}

export type ServiceAccountSpec = Readonly<Record<string, never>>;

// ---------------------------------------------------------------------------------------------------------------

export interface SpecByKind {
  ServiceEntry: ServiceEntrySpec;
  Gateway: GatewaySpec;
  VirtualService: VirtualServiceSpec;
  DestinationRule: DestinationRuleSpec;
  Sidecar: SidecarSpec;
  IstioOperator: IstioOperatorSpec;
  IstioGateway: IstioGatewaySpec;
  ServiceAccount: ServiceAccountSpec;
  Service: KubeServiceSpec;
  Deployment: DeploymentSpec;
}

export type Kind = keyof SpecByKind;

export const KINDS: readonly Kind[] = [
  'ServiceEntry',
  'Gateway',
  'VirtualService',
  'DestinationRule',
  'Sidecar',
  'IstioOperator',
  'IstioGateway',
  'ServiceAccount',
  'Service',
  'Deployment',
];

export interface Resource<K extends Kind = Kind> {
  readonly kind: K;
  readonly apiVersion: string;
  readonly meta: ObjectMeta;
  readonly spec: SpecByKind[K];
  /** Where the document starts, and the YAML text of the document exactly as written (for persistence). */
  readonly source: SourcePosition;
  readonly text: string;
  /**
   * Field path (dot and [i] notation, as in diagnostics: "spec.http[0].route[0].destination.host") to the
   * position of that field's value. Filled by ingest; used by validation and analyzers to point at lines.
   */
  readonly positions: ReadonlyMap<string, SourcePosition>;
}

export type AnyResource = { [K in Kind]: Resource<K> }[Kind];

/** "Kind/namespace/name": the identity of a resource in the store. */
export function resourceKey(r: { kind: Kind; meta: { namespace: string; name: string } }): string {
  return `${r.kind}/${r.meta.namespace}/${r.meta.name}`;
}

export function isKind<K extends Kind>(r: AnyResource, kind: K): r is Extract<AnyResource, { kind: K }> {
  return r.kind === kind;
}

export const DEFAULT_NAMESPACE = 'default';
export const ROOT_NAMESPACE = 'istio-system';
export const CLUSTER_DOMAIN = 'cluster.local';
