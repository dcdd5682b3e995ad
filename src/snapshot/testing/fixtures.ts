// Typed builders of normalized model objects for tests: the shape ingest produces, with defaults filled.
import type {
  Destination,
  DestinationRuleSpec,
  DeploymentSpec,
  GatewayServer,
  HTTPMatchRequest,
  HTTPRoute,
  HTTPRouteDestination,
  IstioOperatorSpec,
  KubeServicePort,
  Kind,
  Labels,
  Resource,
  ServiceEntrySpec,
  ServicePort,
  ServerTLSMode,
  SidecarSpec,
  SourcePosition,
  SpecByKind,
  ClientTLSSettings,
  L4MatchAttributes,
  TCPRoute,
  TLSMatchAttributes,
  TLSRoute,
  VirtualServiceSpec,
} from '../../model/index.js';
import { nodeId, type NodeIdentity, type ProxyType } from '../../proxy-config/types.js';

/** The apiVersion each kind is written with in fixtures. */
export const API: Record<Kind, string> = {
  ServiceEntry: 'networking.istio.io/v1',
  Gateway: 'networking.istio.io/v1',
  VirtualService: 'networking.istio.io/v1',
  DestinationRule: 'networking.istio.io/v1',
  Sidecar: 'networking.istio.io/v1',
  IstioOperator: 'install.istio.io/v1alpha1',
  IstioGateway: 'istio.alibabacloud.com/v1beta1',
  ServiceAccount: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
};

export function resource<K extends Kind>(
  kind: K,
  name: string,
  namespace: string,
  spec: SpecByKind[K],
  positions: ReadonlyMap<string, SourcePosition> = new Map(),
): Resource<K> {
  return {
    kind,
    apiVersion: API[kind],
    meta: { name, namespace, labels: {}, annotations: {} },
    spec,
    source: { file: `${kind.toLowerCase()}-${name}.yaml`, line: 1, col: 1 },
    text: '',
    positions,
  };
}

export function port(
  number: number,
  protocol: ServicePort['protocol'] = 'HTTP',
  name?: string,
  targetPort?: number,
): ServicePort {
  return {
    number,
    protocol,
    name: name ?? `${protocol.toLowerCase()}-${number}`,
    ...(targetPort !== undefined ? { targetPort } : {}),
  };
}

export function serviceEntry(
  name: string,
  spec: Partial<ServiceEntrySpec> & Pick<ServiceEntrySpec, 'hosts'>,
  namespace = 'default',
): Resource<'ServiceEntry'> {
  return resource('ServiceEntry', name, namespace, {
    addresses: [],
    ports: [port(80)],
    location: 'MESH_EXTERNAL',
    resolution: 'DNS',
    endpoints: [],
    exportTo: [],
    subjectAltNames: [],
    ...spec,
  });
}

export function httpServer(number: number, hosts: string[], name = `http-${number}`): GatewayServer {
  return { port: { number, protocol: 'HTTP', name }, hosts };
}

/** A TLS-family server: protocol TLS (or HTTPS) with the given tls.mode. */
export function tlsServer(
  number: number,
  hosts: string[],
  mode: ServerTLSMode,
  protocol: 'TLS' | 'HTTPS' = 'TLS',
  name = `${protocol.toLowerCase()}-${number}`,
): GatewayServer {
  return { port: { number, protocol, name }, hosts, tls: { mode, httpsRedirect: false, subjectAltNames: [] } };
}

export function gateway(
  name: string,
  servers: GatewayServer[],
  selector: Labels = { istio: 'egressgateway' },
  namespace = 'istio-system',
): Resource<'Gateway'> {
  return resource('Gateway', name, namespace, { selector, servers });
}

export function match(m: Partial<HTTPMatchRequest> = {}): HTTPMatchRequest {
  return {
    headers: {},
    withoutHeaders: {},
    queryParams: {},
    ignoreUriCase: false,
    gateways: [],
    sourceLabels: {},
    ...m,
  };
}

export function to(host: string, extra: Partial<Destination> = {}, weight = 100): HTTPRouteDestination {
  return { destination: { host, ...extra }, weight };
}

export function l4Match(m: Partial<L4MatchAttributes> = {}): L4MatchAttributes {
  return { destinationSubnets: [], sourceLabels: {}, gateways: [], ...m };
}

export function tlsMatch(sniHosts: string[], m: Partial<L4MatchAttributes> = {}): TLSMatchAttributes {
  return { ...l4Match(m), sniHosts };
}

export function tlsRoute(match: TLSMatchAttributes[], route: TLSRoute['route']): TLSRoute {
  return { match, route };
}

export function tcpRoute(match: L4MatchAttributes[], route: TCPRoute['route']): TCPRoute {
  return { match, route };
}

export function clientTls(mode: ClientTLSSettings['mode'], extra: Partial<ClientTLSSettings> = {}): ClientTLSSettings {
  return { mode, subjectAltNames: [], insecureSkipVerify: false, ...extra };
}

export function http(route: Partial<HTTPRoute>): HTTPRoute {
  return { match: [], route: [], ...route };
}

export function virtualService(
  name: string,
  spec: Partial<VirtualServiceSpec> & Pick<VirtualServiceSpec, 'hosts'>,
  namespace = 'default',
): Resource<'VirtualService'> {
  return resource('VirtualService', name, namespace, {
    gateways: ['mesh'],
    http: [],
    tls: [],
    tcp: [],
    exportTo: [],
    ...spec,
  });
}

export function destinationRule(
  name: string,
  spec: Partial<DestinationRuleSpec> & Pick<DestinationRuleSpec, 'host'>,
  namespace = 'default',
): Resource<'DestinationRule'> {
  return resource('DestinationRule', name, namespace, { subsets: [], exportTo: [], ...spec });
}

export function sidecarResource(name: string, spec: Partial<SidecarSpec>, namespace = 'default'): Resource<'Sidecar'> {
  return resource('Sidecar', name, namespace, { egress: [], ...spec });
}

export function istioOperator(
  name: string,
  spec: Partial<IstioOperatorSpec>,
  namespace = 'istio-system',
): Resource<'IstioOperator'> {
  return resource('IstioOperator', name, namespace, { meshConfig: {}, egressGateways: [], ...spec });
}

export function registryOnly(): Resource<'IstioOperator'> {
  return istioOperator('mesh', { meshConfig: { outboundTrafficPolicy: 'REGISTRY_ONLY' } });
}

export function kubeService(
  name: string,
  selector: Labels,
  ports: KubeServicePort[],
  namespace = 'default',
): Resource<'Service'> {
  return resource('Service', name, namespace, { selector, ports });
}

export function deployment(
  name: string,
  podLabels: Labels,
  namespace = 'default',
  extra: Partial<DeploymentSpec> = {},
): Resource<'Deployment'> {
  return resource('Deployment', name, namespace, {
    replicas: 1,
    selector: podLabels,
    podLabels,
    serviceAccountName: name,
    containers: [{ name, ports: [] }],
    ...extra,
  });
}

export function node(
  type: ProxyType,
  name: string,
  namespace: string,
  ip: string,
  labels: Labels,
  serviceAccount = name,
): NodeIdentity {
  return { id: nodeId(type, ip, name, namespace), type, name, namespace, ip, labels, serviceAccount };
}

/** The sleep workload of the walkthrough and the default egress gateway's instance. */
export const SLEEP = node('sidecar', 'sleep', 'default', '127.0.1.2', { app: 'sleep' });
export const EGRESS_GW = node(
  'router',
  'istio-egressgateway',
  'istio-system',
  '127.0.2.2',
  {
    istio: 'egressgateway',
    app: 'istio-egressgateway',
  },
  'istio-egressgateway-service-account',
);
