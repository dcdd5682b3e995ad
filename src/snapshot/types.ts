import type { AnyResource, EgressGatewayDeclaration, Kind, Labels, MeshConfig, Resource } from '../model/index.js';
import type { NodeIdentity, ProxyType } from '../proxy-config/types.js';
import type { DestinationRuleIndex } from './destination-rules.js';
import type { ServiceRegistry } from './registry.js';
import type { SidecarIndex } from './sidecars.js';
import type { VirtualServiceIndex } from './virtual-services.js';

/** A proxy the mesh should run: one sidecar per workload (Deployment), one router per egress gateway. */
export interface ProxyDeclaration {
  readonly type: ProxyType;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly serviceAccount: string;
  /** How many replicas run (0: none). */
  readonly replicas: number;
  /** Their pod names, one per replica (see pod-names.ts). */
  readonly pods: readonly string[];
}

/**
 * A credential in the config directory's secrets folder (Kubernetes' TLS and generic secrets, which Istio's
 * credentialName names): PEM text for each part present.
 */
export interface TlsSecret {
  readonly certificateChain?: string;
  readonly privateKey?: string;
  readonly trustedCa?: string;
  /** Where it was read from, for messages. */
  readonly source: string;
}

export interface SnapshotInput {
  readonly version: string;
  /** Credentials by "namespace/name". Absent: none. */
  readonly secrets?: ReadonlyMap<string, TlsSecret>;
  /** Accepted resources only: each passed per-resource validation. */
  readonly resources: readonly AnyResource[];
  /** Live proxies (registered when they connect): the endpoints of Kubernetes Services and gateways. */
  readonly instances: readonly NodeIdentity[];
}

/**
 * One immutable, indexed view of the whole configuration. Built once per change, never mutated; translation
 * reads it. Indexes are built here so that translation does no scans it can avoid.
 */
export interface Snapshot {
  readonly version: string;
  readonly mesh: MeshConfig;
  readonly resources: readonly AnyResource[];
  readonly byKind: { readonly [K in Kind]: readonly Resource<K>[] };
  /** Effective egress gateways: the declared ones, or Istio's default istio-egressgateway when none is. */
  readonly egressGateways: readonly EgressGatewayDeclaration[];
  /** Every proxy that should run: the egress gateways, then one sidecar per Deployment. */
  readonly proxies: readonly ProxyDeclaration[];
  readonly instances: readonly NodeIdentity[];
  /** Every service host (ServiceEntries, Kubernetes Services, the gateways' Services) with ports and endpoints. */
  readonly registry: ServiceRegistry;
  /** DestinationRules by namespace and host, looked up in a client's order. */
  readonly destinationRules: DestinationRuleIndex;
  /** VirtualServices by bound gateway and, for the mesh, by host. */
  readonly virtualServices: VirtualServiceIndex;
  /** Sidecar resources, resolved per workload. */
  readonly sidecars: SidecarIndex;
  /** Credentials by "namespace/name" (credentialName). */
  readonly secrets: ReadonlyMap<string, TlsSecret>;
}
