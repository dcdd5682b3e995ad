import type { Kind, Labels, PortProtocol, Resolution } from '../model/index.js';

export interface RegistryPort {
  readonly number: number;
  readonly name: string;
  readonly protocol: PortProtocol;
  /** Where endpoints listen when they don't say otherwise; absent means the port number itself. */
  readonly targetPort?: number;
}

export interface RegistryEndpoint {
  /** An IP address, or a hostname for DNS resolution. */
  readonly address: string;
  /** Port name -> port number, beating the service port's targetPort. */
  readonly ports: Readonly<Record<string, number>>;
  readonly labels: Labels;
  readonly weight?: number;
  /** A live proxy's service account and namespace (Kubernetes and gateway Services): its mesh identity. */
  readonly serviceAccount?: string;
  readonly namespace?: string;
}

/**
 * Where a service comes from. Kubernetes Services and the gateways' implied Services are mesh-internal with
 * live instances as endpoints (EDS); ServiceEntries carry their own resolution.
 */
export type ServiceOrigin = 'ServiceEntry' | 'KubernetesService' | 'EgressGateway';

export interface RegistryService {
  /** Canonical host, lower-case: "aliyun.com", "istio-egressgateway.istio-system.svc.cluster.local". */
  readonly host: string;
  readonly namespace: string;
  readonly origin: ServiceOrigin;
  /** The resource that declared it (the IstioOperator/IstioGateway, or none for the default gateway). */
  readonly declaredBy?: { readonly kind: Kind; readonly namespace: string; readonly name: string };
  readonly ports: readonly RegistryPort[];
  /** A ServiceEntry's `addresses` (VIPs or CIDRs); empty for the other origins. */
  readonly addresses: readonly string[];
  readonly resolution: Resolution;
  readonly endpoints: readonly RegistryEndpoint[];
  /** Empty means everywhere. */
  readonly exportTo: readonly string[];
  readonly location: 'MESH_EXTERNAL' | 'MESH_INTERNAL';
  /** A ServiceEntry's subjectAltNames: what its endpoints' certificates must carry when TLS is originated. */
  readonly subjectAltNames: readonly string[];
  /** For Kubernetes and gateway services: the Service's own name, for short-name domains. */
  readonly shortName?: string;
}
