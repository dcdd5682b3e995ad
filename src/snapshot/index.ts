export type { ProxyDeclaration, Snapshot, SnapshotInput, TlsSecret } from './types.js';
export { buildSnapshot } from './build.js';
export { credential } from './credentials.js';
export {
  analyze,
  ANALYZER_CODES,
  type AnalysisEnvironment,
  type AnalyzerCodeName,
  SNAPSHOT_ONLY,
} from './analyze/index.js';
export { DEFAULT_EGRESS_GATEWAY, DEFAULT_MESH_CONFIG } from './mesh.js';
export { hostCovers, hostIntersection, hostsIntersect, isWildcardHost, coveringWildcards, HostMap } from './host.js';
export { isExportedTo } from './visibility.js';
export { labelsMatch } from './labels.js';
export { ServiceRegistry, expandShortName } from './registry.js';
export { instancesInUse, kubeHost } from './registry-build.js';
export type { RegistryEndpoint, RegistryPort, RegistryService, ServiceOrigin } from './registry-types.js';
export { DestinationRuleIndex, type EffectiveDestinationRule } from './destination-rules.js';
export { VirtualServiceIndex, MESH_GATEWAY } from './virtual-services.js';
export { SidecarIndex, sidecarImports } from './sidecars.js';
export { serverHostIntersection } from './gateway-hosts.js';
export { isHttpProtocol, protocolFromPortName } from './port-protocol.js';
export { podNames, podTemplateHash } from './pod-names.js';
